"""Measures fine-tuning a preset against training its network from scratch.

Both start from the same few labelled images and train for the same number
of epochs; each result is the accuracy on the test split, averaged over
seeds (each seed sets the initialisation, the order of the images and the
dropout masks, the same for every recipe). The results go to
`zoo/<preset>/transfer.json`, which the model card renders.

With `--few-shot-from test` (folder data sets), the labelled images are the
first of each class in the test split, which the preset never saw, and the
rest of the test split measures; otherwise they come from the training split.

Usage (from the repository root):

    python zoo/transfer.py seed_cnn_base.fashion_mnist --data tfds:mnist --per-class 20 \\
        --manual-dir ../shared/datasets/mnist
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

import keras

from kerascnn import atomic_files
from kerascnn.data import load_dataset
from kerascnn.data.folder_source import IMAGE_EXTENSIONS
from kerascnn.training import evaluate
from kerascnn.zoo import create_model, resolve_preset
from kerascnn.zoo.finetuning import finetune, load_recipe

RECIPES = ("scratch", "linear_probe", "full", "two_stage", "conv_transfer")


def few_shot_from_test(root: Path, per_class: int, into: Path) -> None:
    """Splits `root/test` into a folder data set at `into` (symbolic links):
    `train/` gets the first `per_class` images of each class (by file
    name), `test/` the rest.
    """
    source = root / "test"
    classes = sorted(p for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
    if not classes:
        raise SystemExit(f"--few-shot-from test needs {source}/<class>/ folders of images.")
    for folder in classes:
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if len(images) <= per_class:
            raise SystemExit(
                f"{folder} has {len(images)} images; --per-class {per_class} leaves none to test."
            )
        for split, chosen in (("train", images[:per_class]), ("test", images[per_class:])):
            (into / split / folder.name).mkdir(parents=True)
            for image in chosen:
                (into / split / folder.name / image.name).symlink_to(image.resolve())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--data", required=True)
    parser.add_argument("--per-class", type=int, required=True)
    parser.add_argument("--classes", help="comma-separated class names (default: all)")
    parser.add_argument(
        "--few-shot-from",
        choices=("train", "test"),
        default="train",
        help="the split the labelled images come from (test: folders only; the rest measures)",
    )
    parser.add_argument("--augment")
    parser.add_argument("--data-dir")
    parser.add_argument("--manual-dir")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds to average over")
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--note", default="", help="a caveat the model card shows")
    parser.add_argument("--zoo", default=str(Path(__file__).parent), help="the zoo folder")
    args = parser.parse_args(argv)

    preset = resolve_preset(args.preset)
    spec = preset.spec
    seeds = [int(seed) for seed in args.seeds.split(",")]
    recipes = args.recipes.split(",")
    runs = {name: [] for name in recipes}
    with tempfile.TemporaryDirectory() as work:
        source = args.data
        if args.few_shot_from == "test":
            if args.data.startswith("tfds:"):
                raise SystemExit("--few-shot-from test works on folder data sets only.")
            source = str(Path(work) / "data")
            few_shot_from_test(Path(args.data), args.per_class, Path(source))
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            data = load_dataset(
                source,
                image_shape=(spec.input.height, spec.input.width, spec.input.channels),
                batch_size=args.batch_size,
                validation_split=0.0,
                augment=args.augment,
                seed=seed,
                data_dir=args.data_dir,
                manual_dir=args.manual_dir,
                classes=args.classes,
                per_class=args.per_class,
            )
            for recipe_name in recipes:
                recipe = load_recipe(recipe_name, seed=seed)
                # `scratch` resets every weight itself ("reset": "all").
                model = create_model(preset.name, class_names=data.class_names)
                run_dir = Path(work) / f"{recipe_name}-{seed}"
                result = finetune(model, data, run_dir, recipe, verbose=0)
                accuracy = evaluate(result.model, data, "test").accuracy
                runs[recipe_name].append(
                    {"seed": seed, "test_accuracy": accuracy, "wall_time_s": result.wall_time_s}
                )
                print(f"{recipe_name} (seed {seed}): {100 * accuracy:.2f}%", flush=True)
    results = {
        name: {
            "test_accuracy": statistics.fmean(run["test_accuracy"] for run in done),
            "epochs": load_recipe(name).epochs,
            "wall_time_s": statistics.fmean(run["wall_time_s"] for run in done),
            "runs": done,
        }
        for name, done in runs.items()
    }
    subset = f" of the classes {', '.join(data.class_names)}" if args.classes else ""
    where = (
        "the first of each class in its test split"
        if args.few_shot_from == "test"
        else "from its training split"
    )
    transfer = {
        "setting": (
            f"Fine-tuned on {args.data} with {args.per_class} labelled images per class{subset} "
            f"({data.sizes['train']} images, {where}), batch size {args.batch_size}, "
            f"augmentation {args.augment or 'none'}, seeds {', '.join(map(str, seeds))}"
        ),
        "note": args.note,
        "test_examples": data.sizes["test"],
        "results": results,
        "command": shlex.join(["python", "zoo/transfer.py", *(argv or sys.argv[1:])]),
    }
    atomic_files.write_json(Path(args.zoo) / preset.name / "transfer.json", transfer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
