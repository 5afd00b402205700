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

from kerascnn.errors import KerasCNNError, TrainingDiverged

# ONNX opsets the exporter converts to and checks (tf2onnx 1.17 reaches 18;
# ONNX Runtime's static int8 quantization needs 13).
OPSETS = range(13, 19)


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
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer. Received: {text!r}")
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


def _add_options(
    parser, cls, title: str, *, only=None, data_help: str | None = None, default_from=None
) -> None:
    """One flag per setting `cls` declares (`kerascnn.options`), with its
    default, choices and help; `only` picks some of them. With
    `default_from` (naming where defaults come from, e.g. "the recipe") a
    flag not given is absent from the parsed arguments."""
    import argparse

    from kerascnn.options import flag, options, value_type

    group = parser.add_argument_group(title)
    for field in options(cls):
        if only is not None and field.name not in only:
            continue
        declared = field.metadata["option"]
        kind = value_type(field)
        if kind is bool:
            group.add_argument(
                flag(field), dest=field.name, action="store_true", help=declared["help"]
            )
            continue
        shown = "" if field.default is None else " (default: %(default)s)"
        if default_from is not None:
            shown = f" (default: {default_from}'s)"
        group.add_argument(
            flag(field),
            dest=field.name,
            type=kind,
            default=field.default if default_from is None else argparse.SUPPRESS,
            choices=declared["choices"],
            help=declared["help"] + shown,
        )


def _settings(cls, args) -> dict:
    """The values of `cls`'s settings that `args` holds."""
    from kerascnn.options import options

    given = vars(args)
    return {f.name: given[f.name] for f in options(cls) if f.name in given}


def _data_config(args):
    from kerascnn.data.config import DataConfig

    return DataConfig(**_settings(DataConfig, args))


def _train_config(args):
    from kerascnn.training.config import TrainConfig

    return TrainConfig(**_settings(TrainConfig, args))


def _verbosity(args):
    return "auto" if args.verbose is None else args.verbose


def _print_test(report, what: str = "") -> None:
    """One line for a job's test split, where the data had one."""
    if report is not None:
        print(f"{what}test accuracy {100 * report.accuracy:.2f}% on {report.examples:,} images")


def _train(args) -> int:
    from kerascnn.model_source import is_spec_source, to_train
    from kerascnn.training import train

    model = args.model
    if is_spec_source(model):  # plain data: no TensorFlow device is set up yet
        model = to_train(model, input_shape=args.input_shape, num_classes=args.num_classes)
    result = train(
        model,
        args.data,
        args.out,
        _train_config(args),
        resume=args.resume,
        data_config=_data_config(args),
        verbose=_verbosity(args),
    )
    print(f"trained {result.epochs_run} epoch(s) in {result.wall_time_s:.1f} s; run in {args.out}")
    _print_test(result.test_report, "best model: ")
    return 0


def _evaluate(args) -> int:
    from kerascnn import atomic_files
    from kerascnn.training import evaluate

    report = evaluate(
        args.model,
        args.data,
        args.split,
        data_config=_data_config(args),
        trust_saved_model=args.trust_saved_model,
    )
    print(report)
    if args.json:
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
    from kerascnn.zoo import finetune

    result = finetune(
        args.preset,
        args.data,
        args.out,
        args.recipe,
        seed=args.seed,
        class_weight=args.class_weight,
        data_config=_data_config(args),
        verbose=_verbosity(args),
    )
    print(f"fine-tuned ({args.recipe}) in {result.wall_time_s:.1f} s; model in {result.model_path}")
    _print_test(result.test_report)
    return 0


def _distill(args) -> int:
    from kerascnn.training.config import DistillConfig, TrainConfig
    from kerascnn.zoo import distill
    from kerascnn.zoo.recipe import load_distill_recipe

    settings = {**_settings(TrainConfig, args), **_settings(DistillConfig, args)}
    result = distill(
        args.teacher,
        args.student,
        args.data,
        args.out,
        recipe=load_distill_recipe(args.recipe).with_settings(**settings),
        data_config=_data_config(args),
        verbose=_verbosity(args),
    )
    print(f"distilled in {result.wall_time_s:.1f} s; model in {result.model_path}")
    _print_test(result.test_report)
    return 0


def _publish(args) -> int:
    from kerascnn.zoo.presets import PACKAGED_DIR
    from kerascnn.zoo.publish import publish_preset

    preset = publish_preset(
        args.run_dir,
        args.name,
        args.dataset,
        args.data,
        presets_dir=args.presets_dir or PACKAGED_DIR,
        cards_dir=args.cards,
        description=args.description,
        limitations=args.limitations,
        data_config=_data_config(args),
    )
    accuracy = 100 * preset.metadata["test_accuracy"]
    print(f"published {preset.name} to {preset.directory}: {accuracy:.2f}% test accuracy")
    return 0


def _export(args) -> int:
    from kerascnn.export import export_model
    from kerascnn.model_source import load_keras_model

    report = export_model(
        load_keras_model(args.model, "export"),
        args.out,
        formats=args.format,
        quantize=args.quantize,
        representative_data=args.data,
        verify=not args.no_verify,
        opsets=args.opset,
        allow_flex=args.allow_flex,
        feature_maps=args.feature_maps,
        source=args.model,
        force=args.force,
        samples=args.samples,
        data_config=_data_config(args),
    )
    print(report)
    return 0


def _inspect(args) -> int:
    import time

    from kerascnn.data import read_image
    from kerascnn.inspection import inspect_image
    from kerascnn.model_source import input_shape, load_keras_model

    model = load_keras_model(args.model, "inspect")
    image = read_image(args.image, input_shape(model))
    start = time.perf_counter()
    summary = inspect_image(model, image, args.out, top=args.top, force=args.force)
    seconds = time.perf_counter() - start
    for name, probability in summary["prediction"]:
        print(f"{name}\t{probability:.4f}")
    print(f"wrote {len(summary['pictures'])} pictures and {args.out}/index.html in {seconds:.2f} s")
    return 0


def _describe(args) -> int:
    from kerascnn.describe import describe
    from kerascnn.model_source import read_spec

    description = describe(read_spec(args.spec))
    if args.json:
        print(json.dumps(description.to_dict(), indent=2))
    else:
        print(description)
    return 0


# The training settings distillation takes (one device, its own loss).
_DISTILL_TRAINING = (
    "epochs",
    "optimizer",
    "learning_rate",
    "schedule",
    "warmup_epochs",
    "weight_decay",
    "ema_momentum",
    "seed",
)

# Data settings every command that reads images takes; the training ones
# select and augment what a run learns from.
_READING = ("batch_size", "max_examples", "on_bad_image", "data_dir", "manual_dir")


def _add_data(parser, *, training: bool, data_help: str | None = None, unlabeled=False) -> None:
    from kerascnn.data.config import DataConfig
    from kerascnn.options import options

    parser.add_argument(
        "--data",
        required=data_help is None,
        help=data_help or "tfds:NAME (e.g. tfds:mnist) or a folder of class folders",
    )
    fields = {f.name for f in options(DataConfig)} - (set() if unlabeled else {"unlabeled"})
    _add_options(parser, DataConfig, "data", only=fields if training else _READING)


def _verbose_flag(parser) -> None:
    parser.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        help="0 silent, 1 progress bar, 2 one line an epoch (default: bar on a terminal)",
    )


def _describe_command(command) -> None:
    describe = command(
        "describe",
        _describe,
        "build a network from a spec and print each layer's shape, parameters and MACs",
    )
    describe.add_argument("spec", help="a ConvNetSpec JSON file, or '-' for standard input")
    describe.add_argument("--json", action="store_true", help="print the description as JSON")


def _train_command(command) -> None:
    from kerascnn.training.config import TrainConfig

    train = command(
        "train", _train, "train a network; checkpoints every epoch, resumes with --resume"
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
    _add_data(train, training=True)
    _add_options(train, TrainConfig, "training")
    _verbose_flag(train)


def _evaluate_command(command) -> None:
    evaluate = command(
        "evaluate", _evaluate, "accuracy, per-class accuracy and confusion matrix of a model"
    )
    evaluate.add_argument(
        "model", help="a preset name or folder, a .keras model, a run folder, or an export"
    )
    evaluate.add_argument("--split", default="test", help="test, validation or train")
    evaluate.add_argument("--json", help="also write the report to this JSON file")
    evaluate.add_argument(
        "--trust-saved-model",
        action="store_true",
        help="allow a SavedModel folder: running it runs the TensorFlow program it holds",
    )
    _add_data(evaluate, training=False)


def _models_command(command) -> None:
    models = command("models", _models, "list the zoo's models (or presets)")
    models.add_argument("pattern", nargs="?", default="*", help="shell-style, e.g. 'lenet5*'")
    models.add_argument("--pretrained", action="store_true", help="list presets (trained weights)")


def _info_command(command) -> None:
    info = command(
        "info", _info, "a zoo model's or preset's reference, size, MACs, accuracy and presets"
    )
    info.add_argument("name")
    info.add_argument("--json", action="store_true")


def _finetune_command(command) -> None:
    from kerascnn.training.config import TrainConfig
    from kerascnn.zoo.recipe import list_recipes

    finetune = command("finetune", _finetune, "fine-tune a preset on new data with a named recipe")
    finetune.add_argument("preset", help="a preset name (e.g. lenet5.mnist), folder or URL")
    finetune.add_argument("--out", required=True, help="the run folder")
    finetune.add_argument(
        "--recipe", default="two_stage", help=f"{', '.join(list_recipes())}, or a JSON file"
    )
    _add_data(finetune, training=True)
    _add_options(finetune, TrainConfig, "fine-tuning", only=("seed", "class_weight"))
    _verbose_flag(finetune)


def _distill_command(command) -> None:
    from kerascnn.training.config import DistillConfig, TrainConfig
    from kerascnn.zoo.recipe import list_distill_recipes

    distill = command(
        "distill",
        _distill,
        "teach a small student network what a large (fine-tuned) teacher knows",
        description="Train STUDENT to answer as TEACHER does, on the labelled images of "
        "--data and the unlabelled ones of --unlabeled: a temperature-softened KL divergence "
        "to the teacher plus a weighted cross-entropy on the labels.",
    )
    distill.add_argument("teacher", help="a run folder, .keras file or preset: the teacher")
    distill.add_argument(
        "student", help="a zoo name (fresh weights) or a preset (its weights as the start)"
    )
    distill.add_argument("--out", required=True, help="the run folder")
    distill.add_argument(
        "--recipe",
        default="few_labels",
        help=f"{', '.join(list_distill_recipes())}, or a JSON file; the flags below "
        "replace its settings (default: %(default)s)",
    )
    _add_data(distill, training=True, unlabeled=True)
    _add_options(distill, DistillConfig, "distillation", default_from="the recipe")
    _add_options(
        distill, TrainConfig, "training", only=_DISTILL_TRAINING, default_from="the recipe"
    )
    _verbose_flag(distill)


def _publish_command(command) -> None:
    publish = command(
        "publish", _publish, "turn a finished training run into a preset with a measured model card"
    )
    publish.add_argument("run_dir", metavar="RUN", help="the run folder (run.json, best.keras)")
    publish.add_argument("--name", required=True, help="model.tag, e.g. lenet5.mnist")
    publish.add_argument("--dataset", required=True, help="mnist, fashion_mnist or cifar10")
    publish.add_argument("--presets-dir", help="default: the package's presets folder")
    publish.add_argument("--cards", help="render the model cards into this folder (zoo/)")
    publish.add_argument("--description", default="", help="what the preset is for")
    publish.add_argument("--limitations", default="", help="where it fails")
    _add_data(publish, training=False)


def _export_command(command) -> None:
    export = command(
        "export",
        _export,
        "export to SavedModel, TFLite and ONNX, each checked against Keras",
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
        "--samples", type=_positive_int, default=500, help="representative images to take"
    )
    export.add_argument("--allow-flex", action="store_true", help="allow Select TF ops in TFLite")
    export.add_argument(
        "--feature-maps", action="store_true", help="add a feature_maps SavedModel signature"
    )
    export.add_argument("--no-verify", action="store_true", help="skip the runtime checks")
    export.add_argument(
        "--force", action="store_true", help="replace an --out folder an earlier export wrote"
    )
    _add_data(
        export,
        training=False,
        data_help="representative images (training ones) for int8 calibration and the "
        "checks: tfds:NAME, a folder of class folders, or a .npy array of raw images",
    )


def _inspect_command(command) -> None:
    inspect = command(
        "inspect",
        _inspect,
        "pictures of one image's trip through the network, and an HTML page",
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


# Each adds its command to the parser, in `kerascnn --help` order.
_COMMANDS = (
    _describe_command,
    _train_command,
    _evaluate_command,
    _models_command,
    _info_command,
    _finetune_command,
    _distill_command,
    _publish_command,
    _export_command,
    _inspect_command,
)


def build_parser() -> argparse.ArgumentParser:
    from kerascnn import __version__

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
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, run, help, **kwargs):
        sub = subparsers.add_parser(name, help=help, **kwargs)
        sub.set_defaults(run=run)
        return sub

    for add in _COMMANDS:
        add(command)
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
