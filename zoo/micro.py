"""Measures a preset on a microcontroller's runtime: flash, arena, accuracy.

Exports the preset with `--format micro` (full-integer int8, calibrated on
its training images), runs the artifact in TFLite Micro's own interpreter on
the test split, and writes `zoo/<preset>/micro.json`, which the model card
shows:

    python zoo/micro.py lenet5.mnist --data tfds:mnist --manual-dir "$MNIST_DIR"
    python -m kerascnn.zoo.cards zoo
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from kerascnn import atomic_files
from kerascnn.data import load_dataset
from kerascnn.export import export_model, load_artifact
from kerascnn.training import evaluate
from kerascnn.zoo import create_model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--data", required=True)
    parser.add_argument("--data-dir")
    parser.add_argument("--manual-dir")
    parser.add_argument(
        "--max-examples", type=int, help="measure on this many test images (TFLite Micro is slow)"
    )
    parser.add_argument("--zoo", default=str(Path(__file__).parent), help="the zoo folder")
    args = parser.parse_args(argv)

    model = create_model(args.preset)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    data = load_dataset(
        args.data,
        image_shape=shape,
        validation_split=0.0,
        data_dir=args.data_dir,
        manual_dir=args.manual_dir,
        max_examples=args.max_examples,
    )
    with tempfile.TemporaryDirectory() as work:
        # Calibrated on training images: the test split stays unseen.
        report = export_model(
            model, Path(work) / "export", formats="micro", representative_data=data
        )
        (artifact,) = report.artifacts
        micro = evaluate(load_artifact(Path(work) / "export" / "micro"), data, "test")
    keras = evaluate(model, data, "test")
    figures = {
        "flash_bytes": artifact.micro["flash_bytes"],
        "arena_bytes": artifact.micro["arena_bytes"],
        "ops": artifact.micro["ops"],
        "test_accuracy": micro.accuracy,
        "keras_test_accuracy": keras.accuracy,
        "test_examples": micro.examples,
        "command": shlex.join(["python", "zoo/micro.py", *(argv or sys.argv[1:])]),
    }
    atomic_files.write_json(Path(args.zoo) / args.preset / "micro.json", figures)
    print(
        f"{args.preset}: {figures['flash_bytes']:,} bytes of flash, arena "
        f"{figures['arena_bytes']:,} bytes, {100 * micro.accuracy:.2f}% in TFLite Micro "
        f"({100 * keras.accuracy:.2f}% in Keras) on {micro.examples:,} test images"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
