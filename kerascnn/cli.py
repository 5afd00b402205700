"""The `kerascnn` command.

It answers `--help` and `models` without loading TensorFlow: each command
imports what it needs when it runs. A mistake the user can fix is one line
on stderr and exit status 2; a bug in kerascnn is its traceback, a line
saying so, and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from kerascnn.errors import KerasCNNError, TrainingDiverged, UsageError

# ONNX opsets the exporter converts to and checks (tf2onnx 1.17 reaches 18;
# ONNX Runtime's static int8 quantization needs 13).
OPSETS = range(13, 19)


def _read_spec(source: str):
    from kerascnn.spec import ConvNetSpec, SpecError

    if source == "-":
        return ConvNetSpec.from_json(sys.stdin.read())
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"No spec file at '{source}'; give the path of a spec JSON file, "
            "or '-' for standard input."
        )
    try:
        return ConvNetSpec.from_json(path.read_text(encoding="utf-8"))
    except SpecError as error:
        raise SpecError(f"{source}: {error.where}", error.reason) from None


def _load_keras_file(path: Path):
    import keras  # kerascnn's classes register as it loads (kerascnn/__init__.py)

    try:
        return keras.saving.load_model(path)
    except Exception as error:  # the file is the user's input, whatever it holds
        # Keras appends the whole config it could not load: the start says why.
        reason = " ".join(str(error).split()).split(" Full object config")[0][:300]
        raise UsageError(
            f"'{path}' cannot be loaded as a Keras model ({type(error).__name__}: {reason}); "
            "give a .keras file saved by Keras 3."
        ) from error


def _load_model(source: str, *, trust_saved_model: bool = False):
    """A `.keras` file, a run folder (its best model), a preset folder, a zoo
    name, or an exported artifact (`.tflite`, `.onnx`, SavedModel folder).

    A SavedModel is a TensorFlow program: running it can do anything a
    program can (write files, open connections), so it loads only with
    `trust_saved_model`, the way Keras' safe mode refuses Lambda layers.
    """
    path = Path(source)
    if (path / "saved_model.pb").is_file() and not trust_saved_model:
        raise UsageError(
            f"'{source}' is a SavedModel, and running a SavedModel runs the TensorFlow graph "
            "it holds, which can do anything a program can (write or send your files). Pass "
            "--trust-saved-model if you trust where it came from, or evaluate the .tflite or "
            ".onnx export (data, not code)."
        )
    if path.suffix in (".keras", ".tflite", ".onnx") and not path.exists():
        raise UsageError(
            f"'{source}' does not exist; give the path of a {path.suffix} file (a run folder "
            "holds best.keras, an export folder its .tflite and .onnx files)."
        )
    exported = (path / "saved_model.pb").is_file() or (path / "micro.json").is_file()
    if path.suffix in (".tflite", ".onnx") or exported:
        from kerascnn.export import load_artifact

        return load_artifact(path)
    if path.is_dir() and (path / "best.keras").is_file():
        path = path / "best.keras"
    if path.suffix == ".keras" and path.is_file():
        return _load_keras_file(path)
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"'{source}' is not a model; give a .keras file, a run folder with best.keras, "
            "a preset folder or a zoo name (see `kerascnn models`)."
        )
    from kerascnn.zoo import create_model, load_preset

    return load_preset(path) if path.is_dir() else create_model(source)


def _load_keras_model(source: str, command: str):
    """`_load_model`, refusing exported artifacts: `command` needs the Keras model."""
    import keras

    model = _load_model(source)
    if not isinstance(model, keras.Model):
        raise UsageError(
            f"{command} needs a Keras model; '{source}' is an exported artifact. "
            "Give the zoo name, preset or .keras file it came from."
        )
    return model


def _input_shape(model) -> tuple[int, int, int]:
    import keras

    if isinstance(model, keras.Model):
        return tuple(model.inputs[0].shape[1:])
    return model.input_shape  # an exported artifact


def _zoo_spec(args):
    from kerascnn.zoo import spec_of

    return spec_of(args.model, input_shape=args.input_shape, num_classes=args.num_classes)


def _shape(text: str) -> tuple[int, int, int]:
    """'28x28x1' -> (28, 28, 1)."""
    try:
        height, width, channels = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHTxWIDTHxCHANNELS, e.g. 28x28x1. Received: {text!r}"
        ) from None
    return height, width, channels


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer. Received: {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer. Received: {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1). Received: {text!r}")
    return value


def _opsets(text: str) -> list[int]:
    """'13,17' -> [13, 17], each an opset the exporter supports."""
    try:
        opsets = [int(part) for part in text.split(",")]
    except ValueError:
        opsets = []
    if not opsets or any(opset not in OPSETS for opset in opsets):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ONNX opsets from {OPSETS.start} to {OPSETS.stop - 1}, "
            f"e.g. 13,17. Received: {text!r}"
        )
    return opsets


def _load_data(args, image_shape, first_epoch=0):
    from kerascnn.data import load_dataset

    return load_dataset(
        args.data,
        image_shape=image_shape,
        batch_size=args.batch_size,
        validation_split=getattr(args, "validation_split", 0.0),
        augment=getattr(args, "augment", None),
        seed=args.seed if getattr(args, "seed", None) is not None else 0,
        first_epoch=first_epoch,
        data_dir=args.data_dir,
        manual_dir=args.manual_dir,
        on_bad_image=args.on_bad_image,
        max_examples=args.max_examples,
        classes=getattr(args, "classes", None),
        per_class=getattr(args, "per_class", None),
    )


def _train(args) -> int:
    from kerascnn.training import TrainConfig, evaluate, train

    config = TrainConfig(
        epochs=args.epochs,
        optimizer=args.optimizer,
        learning_rate=args.lr,
        schedule=args.schedule,
        warmup_epochs=args.warmup_epochs,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        monitor=args.monitor,
        seed=args.seed,
        precision=args.precision,
        jit_compile=args.jit_compile,
        strategy=args.strategy,
        cpu_replicas=args.cpu_replicas,
        class_weight=args.class_weight,
    )
    if args.strategy != "default":
        # The strategy must exist before TensorFlow sets up its devices.
        from kerascnn.training.distribute import make_strategy

        make_strategy(args.strategy, args.cpu_replicas)
    import keras

    from kerascnn.data.dataset import stream_seed
    from kerascnn.training.checkpointing import read_state

    # A resumed run continues with new shuffles, augmentations and dropout
    # masks, not those of its first epochs again.
    state = read_state(args.out, args.epochs) if args.resume else None
    first_epoch = state["epoch"] if state else 0
    if args.seed is not None:
        # Before the data: tf.data mixes the global seed into its shuffle order.
        keras.utils.set_random_seed(stream_seed(args.seed, first_epoch))
    source = Path(args.model)
    if source.suffix == ".json" or (source.suffix == "" and "." not in args.model):
        model = _read_spec(args.model) if source.suffix == ".json" else _zoo_spec(args)
        image_shape = (model.input.height, model.input.width, model.input.channels)
    else:
        model = _load_model(args.model)
        image_shape = tuple(model.inputs[0].shape[1:])
    data = _load_data(args, image_shape, first_epoch)
    result = train(model, data, args.out, config, resume=args.resume, verbose=_verbosity(args))
    print(f"trained {result.epochs_run} epoch(s) in {result.wall_time_s:.1f} s; run in {args.out}")
    from kerascnn.training.distribute import is_chief

    if "test" in data.splits and is_chief():
        from kerascnn import atomic_files

        report = evaluate(_load_keras_file(result.best_model_path), data, "test")
        atomic_files.write_json(Path(args.out) / "test_evaluation.json", report.to_dict())
        print(
            f"best model: test accuracy {100 * report.accuracy:.2f}% on {report.examples:,} images"
        )
    return 0


def _evaluate(args) -> int:
    from kerascnn.training import evaluate

    model = _load_model(args.model, trust_saved_model=args.trust_saved_model)
    data = _load_data(args, _input_shape(model))
    report = evaluate(model, data, args.split)
    print(report)
    if args.json:
        from kerascnn import atomic_files

        atomic_files.write_json(args.json, report.to_dict())
    return 0


def _models(args) -> int:
    from kerascnn.zoo import list_models

    for name in list_models(args.pattern, pretrained=args.pretrained):
        print(name)
    return 0


def _info(args) -> int:
    from kerascnn.zoo import model_info

    info = model_info(args.name)
    if args.json:
        print(json.dumps({**info.__dict__, "spec": info.spec.to_dict()}, indent=2))
    else:
        print(info)
    return 0


def _finetune(args) -> int:
    import keras

    from kerascnn import atomic_files
    from kerascnn.training import evaluate
    from kerascnn.zoo import load_preset, resolve_preset
    from kerascnn.zoo.finetune import check_run_folder, finetune, load_recipe

    recipe = load_recipe(args.recipe, seed=args.seed, class_weight=args.class_weight)
    check_run_folder(args.out)  # before any data or model loads
    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    spec = resolve_preset(args.preset).spec
    data = _load_data(args, (spec.input.height, spec.input.width, spec.input.channels))
    model = load_preset(args.preset, class_names=data.class_names)
    result = finetune(model, data, args.out, recipe, verbose=_verbosity(args))
    print(f"fine-tuned ({recipe.name}) in {result.wall_time_s:.1f} s; model in {result.model_path}")
    if "test" in data.splits:
        report = evaluate(result.model, data, "test")
        atomic_files.write_json(Path(args.out) / "test_evaluation.json", report.to_dict())
        print(f"test accuracy {100 * report.accuracy:.2f}% on {report.examples:,} images")
    return 0


def _publish(args) -> int:
    from kerascnn.zoo.presets import PACKAGED_DIR
    from kerascnn.zoo.publish import publish_preset

    model = _load_model(args.run_dir)
    data = _load_data(args, tuple(model.inputs[0].shape[1:]))
    preset = publish_preset(
        args.run_dir,
        args.name,
        args.dataset,
        data,
        presets_dir=args.presets_dir or PACKAGED_DIR,
        cards_dir=args.cards,
        description=args.description,
        limitations=args.limitations,
    )
    accuracy = 100 * preset.metadata["test_accuracy"]
    print(f"published {preset.name} to {preset.directory}: {accuracy:.2f}% test accuracy")
    return 0


def _representative_data(args, image_shape):
    if not args.data:
        return None
    if args.data.endswith(".npy"):
        import numpy as np

        return np.load(args.data)
    data = _load_data(args, image_shape)
    # Calibrate on training images: the test split stays unseen for evaluation.
    return data.splits["train" if "train" in data.splits else "test"].unbatch().take(args.samples)


def _export(args) -> int:
    from kerascnn.export import export_model

    model = _load_keras_model(args.model, "export")
    report = export_model(
        model,
        args.out,
        formats=args.format,
        quantize=args.quantize,
        representative_data=_representative_data(args, _input_shape(model)),
        verify=not args.no_verify,
        opsets=args.opset,
        allow_flex=args.allow_flex,
        feature_maps=args.feature_maps,
        source=args.model,
        force=args.force,
    )
    print(report)
    return 0


def _inspect(args) -> int:
    import time

    from kerascnn.data import read_image
    from kerascnn.inspection import inspect_image

    model = _load_keras_model(args.model, "inspect")
    image = read_image(args.image, _input_shape(model))
    start = time.perf_counter()
    summary = inspect_image(model, image, args.out, top=args.top, force=args.force)
    seconds = time.perf_counter() - start
    for name, probability in summary["prediction"]:
        print(f"{name}\t{probability:.4f}")
    print(f"wrote {len(summary['pictures'])} pictures and {args.out}/index.html in {seconds:.2f} s")
    return 0


def _verbosity(args):
    return "auto" if args.verbose is None else args.verbose


def _describe(args) -> int:
    from kerascnn.describe import describe

    description = describe(_read_spec(args.spec))
    if args.json:
        print(json.dumps(description.to_dict(), indent=2))
    else:
        print(description)
    return 0


def _add_data_arguments(parser, *, training: bool, data_help: str | None = None) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        required=data_help is None,
        help=data_help or "tfds:NAME (e.g. tfds:mnist) or a folder of class folders",
    )
    group.add_argument("--data-dir", help="TFDS data directory (prepared data sets)")
    group.add_argument("--manual-dir", help="TFDS manual directory (original files, offline)")
    group.add_argument("--batch-size", type=_positive_int, default=128, help="global batch size")
    group.add_argument(
        "--max-examples", type=_positive_int, help="use at most this many examples a split"
    )
    group.add_argument(
        "--on-bad-image",
        choices=("skip", "error"),
        default="skip",
        help="unreadable images in a folder: skip them (counted) or stop",
    )
    if training:
        group.add_argument(
            "--class-weight",
            choices=("balanced",),
            help="balanced: weigh each class by n_images / (n_classes * its images), for "
            "folders whose classes have unequal numbers of images",
        )
        group.add_argument("--validation-split", type=_fraction, default=0.1)
        group.add_argument(
            "--augment", help="comma-separated: flip, crop, rotation, translation, erase"
        )
        group.add_argument("--classes", help="comma-separated class names to keep (relabelled)")
        group.add_argument(
            "--per-class", type=_positive_int, help="keep this many training images of each class"
        )


def build_parser() -> argparse.ArgumentParser:
    from kerascnn import __version__
    from kerascnn.training.config import MONITORS, OPTIMIZERS, PRECISIONS, SCHEDULES, STRATEGIES

    parser = argparse.ArgumentParser(
        prog="kerascnn",
        description="Build, describe, train and ship convolutional networks.",
    )
    parser.add_argument("--version", action="version", version=f"kerascnn {__version__}")
    parser.add_argument(
        "--verbose-logs",
        "-V",
        action="store_true",
        help="show TensorFlow's own start-up logs and TFDS progress bars (hidden by default)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    describe = commands.add_parser(
        "describe",
        help="build a network from a spec and print each layer's shape, parameters and MACs",
    )
    describe.add_argument("spec", help="a ConvNetSpec JSON file, or '-' for standard input")
    describe.add_argument("--json", action="store_true", help="print the description as JSON")
    describe.set_defaults(run=_describe)

    train = commands.add_parser(
        "train",
        help="train a network; checkpoints every epoch, resumes with --resume",
    )
    train.add_argument(
        "model", help="a zoo model name, a spec JSON file, or a .keras model to train further"
    )
    train.add_argument("--out", required=True, help="the run folder")
    train.add_argument(
        "--input-shape", type=_shape, help="for a zoo model: HEIGHTxWIDTHxCHANNELS, e.g. 28x28x1"
    )
    train.add_argument(
        "--num-classes", type=_positive_int, help="for a zoo model: classes to predict"
    )
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    _add_data_arguments(train, training=True)
    runs = train.add_argument_group("training")
    runs.add_argument("--epochs", type=_positive_int, default=10)
    runs.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    runs.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    runs.add_argument("--schedule", choices=SCHEDULES, default="cosine")
    runs.add_argument("--warmup-epochs", type=int, default=0)
    runs.add_argument("--weight-decay", type=float, default=0.0)
    runs.add_argument(
        "--label-smoothing",
        type=float,
        default=0.0,
        help="share of each target spread over the classes, e.g. 0.1",
    )
    runs.add_argument(
        "--monitor", choices=MONITORS, default="val_accuracy", help="metric that picks best.keras"
    )
    runs.add_argument("--seed", type=int, help="make the run reproducible")
    runs.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        help="0 silent, 1 progress bar, 2 one line an epoch (default: bar on a terminal)",
    )
    scale = train.add_argument_group("scale")
    scale.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="float32",
        help="auto: mixed_bfloat16 where the GPU or CPU computes bfloat16 natively, float32 "
        "elsewhere (the choice is printed and recorded in run.json)",
    )
    scale.add_argument("--jit-compile", action="store_true", help="compile with XLA")
    scale.add_argument("--strategy", choices=STRATEGIES, default="default")
    scale.add_argument(
        "--cpu-replicas", type=int, help="with --strategy mirrored and no GPU: logical CPUs"
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate", help="accuracy, per-class accuracy and confusion matrix of a model"
    )
    evaluate.add_argument(
        "model", help="a preset name or folder, a .keras model, or a run folder (its best.keras)"
    )
    evaluate.add_argument("--split", default="test", help="test, validation or train")
    evaluate.add_argument("--json", help="also write the report to this JSON file")
    evaluate.add_argument(
        "--trust-saved-model",
        action="store_true",
        help="allow a SavedModel folder: running it runs the TensorFlow program it holds",
    )
    _add_data_arguments(evaluate, training=False)
    evaluate.set_defaults(run=_evaluate)

    models = commands.add_parser("models", help="list the zoo's models (or presets)")
    models.add_argument("pattern", nargs="?", default="*", help="shell-style, e.g. 'lenet5*'")
    models.add_argument("--pretrained", action="store_true", help="list presets (trained weights)")
    models.set_defaults(run=_models)

    info = commands.add_parser(
        "info", help="a zoo model's or preset's reference, size, MACs, accuracy and presets"
    )
    info.add_argument("name")
    info.add_argument("--json", action="store_true")
    info.set_defaults(run=_info)

    from kerascnn.zoo.recipe import list_recipes

    finetune = commands.add_parser(
        "finetune", help="fine-tune a preset on new data with a named recipe"
    )
    finetune.add_argument("preset", help="a preset name (e.g. lenet5.mnist), folder or URL")
    finetune.add_argument("--out", required=True, help="the run folder")
    finetune.add_argument(
        "--recipe", default="two_stage", help=f"{', '.join(list_recipes())}, or a JSON file"
    )
    finetune.add_argument("--seed", type=int, help="make the run reproducible")
    finetune.add_argument("--verbose", type=int, choices=(0, 1, 2))
    _add_data_arguments(finetune, training=True)
    finetune.set_defaults(run=_finetune)

    publish = commands.add_parser(
        "publish", help="turn a finished training run into a preset with a measured model card"
    )
    publish.add_argument("run_dir", metavar="RUN", help="the run folder (run.json, best.keras)")
    publish.add_argument("--name", required=True, help="model.tag, e.g. lenet5.mnist")
    publish.add_argument("--dataset", required=True, help="mnist, fashion_mnist or cifar10")
    publish.add_argument("--presets-dir", help="default: the package's presets folder")
    publish.add_argument("--cards", help="render the model cards into this folder (zoo/)")
    publish.add_argument("--description", default="", help="what the preset is for")
    publish.add_argument("--limitations", default="", help="where it fails")
    _add_data_arguments(publish, training=False)
    publish.set_defaults(run=_publish)

    export = commands.add_parser(
        "export",
        help="export to SavedModel, TFLite and ONNX, each checked against Keras",
        description="Export MODEL (a zoo name, a preset, a .keras file or a run folder), run "
        "every artifact in its own runtime and compare it with Keras.",
    )
    export.add_argument("model", metavar="MODEL")
    export.add_argument("--out", required=True, help="the folder to create")
    export.add_argument(
        "--format",
        default="saved_model,tflite,onnx",
        help="comma-separated: %(default)s, and micro (microcontrollers, TFLite Micro)",
    )
    export.add_argument(
        "--quantize", help="comma-separated extra variants: float16, dynamic, int8, uint8"
    )
    export.add_argument(
        "--opset",
        type=_opsets,
        default="17",
        help=f"ONNX opset(s), comma-separated, {OPSETS.start}-{OPSETS.stop - 1}",
    )
    export.add_argument(
        "--samples",
        type=_positive_int,
        default=500,
        help="representative images to take from --data",
    )
    export.add_argument("--allow-flex", action="store_true", help="allow Select TF ops in TFLite")
    export.add_argument(
        "--feature-maps", action="store_true", help="add a feature_maps SavedModel signature"
    )
    export.add_argument("--no-verify", action="store_true", help="skip the runtime checks")
    export.add_argument(
        "--force", action="store_true", help="replace an --out folder an earlier export wrote"
    )
    _add_data_arguments(
        export,
        training=False,
        data_help="representative images for int8 calibration and the checks: tfds:NAME, "
        "a folder of class folders, or a .npy array of raw images",
    )
    export.set_defaults(run=_export)

    inspect = commands.add_parser(
        "inspect",
        help="pictures of one image's trip through the network, and an HTML page",
        description="Write the feature maps, filters, the conv -> ReLU -> pool steps, a "
        "Grad-CAM heat map and an HTML page with the prediction and statistics.",
    )
    inspect.add_argument("model", metavar="MODEL", help="zoo name, preset or .keras file")
    inspect.add_argument("image", metavar="IMAGE", help="an image file (PNG, JPEG, ...)")
    inspect.add_argument("--out", required=True, help="the folder to write")
    inspect.add_argument(
        "--force", action="store_true", help="replace an --out folder an earlier inspect wrote"
    )
    inspect.add_argument("--top", type=_positive_int, default=5, help="classes to list")
    inspect.set_defaults(run=_inspect)
    return parser


def _known_failure(error: BaseException) -> bool:
    """Whether `error` is a failure of the user's input or machine (a file,
    the disk, memory), not of kerascnn's code."""
    if isinstance(error, (KerasCNNError, OSError, MemoryError)):
        return True
    tf = sys.modules.get("tensorflow")
    known = (
        "ResourceExhaustedError",  # out of memory, or of disk while TensorFlow writes
        "PermissionDeniedError",
        "NotFoundError",
        "DataLossError",  # a corrupt file
    )
    return tf is not None and isinstance(error, tuple(getattr(tf.errors, n) for n in known))


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    text = " ".join(str(error).split()) or type(error).__name__
    # kerascnn's own errors, and the OS errors it raises with a message, say it all.
    own = isinstance(error, (KerasCNNError, OSError))
    return text if own else f"{type(error).__name__}: {text}"


def main(argv: list[str] | None = None) -> int:
    """Runs the `kerascnn` command; returns its exit status: 0 done, 2 a
    mistake or failure the user can fix (one line), 3 a run that diverged,
    1 an internal error (a bug: traceback), 130 interrupted."""
    from kerascnn import native_logs, settings

    settings.prefer_onednn()
    args = build_parser().parse_args(argv)
    if args.verbose_logs:
        os.environ[settings.VERBOSE_VARIABLE] = "1"
    with native_logs.filtered(enabled=not args.verbose_logs):
        try:
            return args.run(args)
        except TrainingDiverged as error:
            print(f"kerascnn {args.command}: {error}", file=sys.stderr)
            return 3
        except KeyboardInterrupt:
            print(f"kerascnn {args.command}: interrupted", file=sys.stderr)
            return 130
        except Exception as error:
            if _known_failure(error):
                if args.verbose_logs:
                    traceback.print_exc()
                print(f"kerascnn {args.command}: error: {_one_line(error)}", file=sys.stderr)
                return 2
            traceback.print_exc()
            print(
                f"kerascnn {args.command}: internal error ({type(error).__name__}); this is a "
                "bug in kerascnn, not in your input: please report it with the traceback above.",
                file=sys.stderr,
            )
            return 1


if __name__ == "__main__":
    sys.exit(main())
