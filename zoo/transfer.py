"""Measures fine-tuning a preset against training its network from scratch.

Both start from the same few labelled images and train for the same number
of epochs; each result is the accuracy on the full test split. The results go
to `zoo/<preset>/transfer.json`, which the model card renders.

Usage (from the repository root):

    python zoo/transfer.py seed_cnn_base.fashion_mnist --data tfds:mnist --per-class 20 \\
        --manual-dir ../shared/datasets/mnist
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

import keras

from kerascnn import atomic_files
from kerascnn.data import load_dataset
from kerascnn.training import evaluate
from kerascnn.zoo import create_model, resolve_preset
from kerascnn.zoo.finetune import finetune, load_recipe

RECIPES = ("scratch", "linear_probe", "full", "two_stage")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--data", required=True)
    parser.add_argument("--per-class", type=int, required=True)
    parser.add_argument("--classes", help="comma-separated class names (default: all)")
    parser.add_argument("--augment")
    parser.add_argument("--data-dir")
    parser.add_argument("--manual-dir")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--note", default="", help="a caveat the model card shows")
    parser.add_argument("--zoo", default=str(Path(__file__).parent), help="the zoo folder")
    args = parser.parse_args(argv)

    preset = resolve_preset(args.preset)
    spec = preset.spec
    keras.utils.set_random_seed(args.seed)
    data = load_dataset(
        args.data,
        image_shape=(spec.input.height, spec.input.width, spec.input.channels),
        batch_size=args.batch_size,
        validation_split=0.0,
        augment=args.augment,
        seed=args.seed,
        data_dir=args.data_dir,
        manual_dir=args.manual_dir,
        classes=args.classes,
        per_class=args.per_class,
    )
    results = {}
    with tempfile.TemporaryDirectory() as runs:
        for recipe_name in args.recipes.split(","):
            recipe = load_recipe(recipe_name, seed=args.seed)
            if recipe_name == "scratch":
                model = create_model(preset.model, class_names=data.class_names)
            else:
                model = create_model(preset.name, class_names=data.class_names)
            result = finetune(model, data, Path(runs) / recipe_name, recipe, verbose=0)
            report = evaluate(result.model, data, "test")
            results[recipe_name] = {
                "test_accuracy": report.accuracy,
                "epochs": recipe.epochs,
                "wall_time_s": result.wall_time_s,
            }
            print(f"{recipe_name}: {100 * report.accuracy:.2f}% ({result.wall_time_s:.0f} s)")
    what = f"{args.per_class} labelled images per class"
    subset = f" of the classes {', '.join(data.class_names)}" if args.classes else ""
    transfer = {
        "setting": (
            f"Fine-tuned on {data.source} with {what}{subset} "
            f"({data.sizes['train']} images), batch size {args.batch_size}, augmentation "
            f"{args.augment or 'none'}, seed {args.seed}"
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
