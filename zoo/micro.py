"""Measures a preset in int8 on a phone's and a microcontroller's runtime.

Exports the preset with `--format micro` (full-integer int8, calibrated on
its training images), then measures that one flatbuffer in LiteRT (the
accuracy on the full test split, and the latency of one image on one
thread) and in TFLite Micro's own interpreter (flash, the smallest tensor
arena, and the accuracy), and writes `zoo/<preset>/micro.json`, which the
model card shows:

    python zoo/micro.py lenet5.mnist --data tfds:mnist --manual-dir "$MNIST_DIR"
    python -m kerascnn.zoo.cards zoo
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kerascnn import atomic_files
from kerascnn.data import load_dataset
from kerascnn.export import export_model, load_artifact
from kerascnn.training import evaluate
from kerascnn.zoo import create_model, resolve_preset


def litert_latency_ms(path: Path, shape, rounds: int = 7, calls: int = 200) -> float:
    """Median milliseconds for one image in LiteRT on one thread (int8 in and out)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=path.read_bytes(), num_threads=1)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    image = np.zeros((1, *shape), dtype=source["dtype"])
    for _ in range(20):  # warm up
        interpreter.set_tensor(source["index"], image)
        interpreter.invoke()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            interpreter.set_tensor(source["index"], image)
            interpreter.invoke()
        times.append((time.perf_counter() - start) / calls)
    return 1e3 * statistics.median(times)


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPU cores"


def _command(args) -> str:
    """This measurement's command as the card prints it: the data named as
    the preset's own card names it (e.g. `--manual-dir "$MNIST_DIR"`), not
    by this machine's paths."""
    dataset = resolve_preset(args.preset).metadata["dataset"]
    words = ["python zoo/micro.py", args.preset, "--data", shlex.quote(dataset["source"])]
    if dataset["flags"]:
        words.append(dataset["flags"])
    if args.micro_examples:
        words += ["--micro-examples", str(args.micro_examples)]
    return " ".join(words)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--data", required=True)
    parser.add_argument("--data-dir")
    parser.add_argument("--manual-dir")
    parser.add_argument(
        "--micro-examples",
        type=int,
        help="run TFLite Micro on the first N test images only (it is slow); LiteRT and "
        "Keras always see the full test split",
    )
    parser.add_argument("--zoo", default=str(Path(__file__).parent), help="the zoo folder")
    parser.add_argument(
        "--latency-only",
        action="store_true",
        help="time LiteRT again (on a quiet machine) and keep micro.json's other figures",
    )
    args = parser.parse_args(argv)
    target = Path(args.zoo) / args.preset / "micro.json"

    model = create_model(args.preset)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])

    def load(max_examples=None):
        return load_dataset(
            args.data,
            image_shape=shape,
            validation_split=0.0,
            data_dir=args.data_dir,
            manual_dir=args.manual_dir,
            max_examples=max_examples,
        )

    data = load()
    micro_data = load(args.micro_examples) if args.micro_examples else data
    with tempfile.TemporaryDirectory() as work:
        # Calibrated on training images: the test split stays unseen.
        export = Path(work) / "export"
        report = export_model(
            model,
            export,
            formats=("tflite", "micro"),
            quantize="int8",
            representative_data=data,
        )
        (artifact,) = [a for a in report.artifacts if a.micro]
        int8_tflite = export / "model.int8.tflite"  # the same graph, with its metadata
        latency_ms = litert_latency_ms(int8_tflite, shape)
        if args.latency_only:
            figures = json.loads(target.read_text(encoding="utf-8"))
            figures["litert"].update(latency_ms=latency_ms, machine=_machine())
            atomic_files.write_json(target, figures)
            print(f"{args.preset}: {latency_ms:.3f} ms an image in LiteRT (int8, 1 thread)")
            return 0
        micro = evaluate(load_artifact(export / "micro"), micro_data, "test")
        litert = evaluate(load_artifact(int8_tflite), data, "test")
        tflite_bytes = int8_tflite.stat().st_size
    keras = evaluate(model, data, "test")
    keras_micro = keras if micro_data is data else evaluate(model, micro_data, "test")
    figures = {
        "flash_bytes": artifact.micro["flash_bytes"],
        "arena_bytes": artifact.micro["arena_bytes"],
        "ops": artifact.micro["ops"],
        "test_accuracy": micro.accuracy,
        "keras_test_accuracy": keras_micro.accuracy,
        "test_examples": micro.examples,
        "litert": {
            "int8_test_accuracy": litert.accuracy,
            "keras_test_accuracy": keras.accuracy,
            "test_examples": litert.examples,
            "tflite_bytes": tflite_bytes,
            "latency_ms": latency_ms,
            "threads": 1,
            "machine": _machine(),
        },
        "command": _command(args),
    }
    atomic_files.write_json(target, figures)
    print(
        f"{args.preset}: int8 {100 * litert.accuracy:.2f}% in LiteRT ({100 * keras.accuracy:.2f}% "
        f"in Keras) on {litert.examples:,} test images, {latency_ms:.3f} ms an image; "
        f"{figures['flash_bytes']:,} bytes of flash, arena "
        f"{figures['arena_bytes']:,} bytes, {100 * micro.accuracy:.2f}% in TFLite Micro "
        f"({100 * keras_micro.accuracy:.2f}% in Keras) on {micro.examples:,} test images"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
