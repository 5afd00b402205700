"""Latency of one network across runtimes, interleaved, with the machine's
SGEMM rate for scale.

Runs, in every round and in turn: Keras `model.predict`, a compiled
TensorFlow function, kerascnn's `Predictor`, the SavedModel, LiteRT
(XNNPACK) and ONNX Runtime, at each batch size. Reports the median latency,
the ratio to the fastest runtime, GFLOP/s from the network's MACs, and that
as a fraction of the machine's measured float32 matrix-multiply rate.

    python export/benchmark.py minivgg_l --batches 1,32 --rounds 15
    python export/benchmark.py --compare-pooling      # SumPooling2D vs AveragePooling2D, int8

Needs kerascnn (it exports the model first); the runtimes are the real ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The machine's float32 matrix-multiply rate (NumPy's BLAS), best of `repeats`."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _runtimes(model, folder: Path, threads: int) -> dict:
    import tensorflow as tf

    from kerascnn.export.runtimes import ONNXRunner, SavedModelRunner, TFLiteRunner
    from kerascnn.inference import Predictor

    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    function = tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec((None, *shape), tf.float32)],
        autograph=False,
    )
    return {
        "keras predict": lambda x: model.predict(x, verbose=0, batch_size=len(x)),
        "tf.function": lambda x: function(x).numpy(),
        "kerascnn Predictor": Predictor(model),
        "SavedModel": SavedModelRunner(folder / "saved_model"),
        "LiteRT (XNNPACK)": TFLiteRunner(folder / "model.tflite", num_threads=threads),
        "ONNX Runtime": ONNXRunner(folder / "model.opset17.onnx", num_threads=threads),
    }


def interleaved(runners: dict, images: np.ndarray, rounds: int, min_time: float) -> dict:
    """Median seconds per call of each runner; rounds alternate between runners."""
    calls = {}
    for name, run in runners.items():
        run(images)  # warm up, and size the timing loop
        once = max(_seconds(lambda run=run: run(images)), 1e-6)
        calls[name] = max(1, int(min_time / once))
    samples = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                run(images)
            samples[name].append((time.perf_counter() - start) / calls[name])
    return {name: statistics.median(values) for name, values in samples.items()}


def benchmark(model_name: str, batches, rounds: int, threads: int, min_time: float) -> dict:
    from kerascnn.cli import _load_model
    from kerascnn.describe import describe
    from kerascnn.export import export_model

    model = _load_model(model_name)
    macs = describe(model).total_macs
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    peak = sgemm_gflops()
    results = {"model": model_name, "macs_per_image": macs, "sgemm_gflops": peak, "batches": {}}
    with tempfile.TemporaryDirectory() as tmp:
        export_model(model, Path(tmp) / "out", progress=False)
        runners = _runtimes(model, Path(tmp) / "out", threads)
        for batch in batches:
            images = np.random.default_rng(0).uniform(0, 255, (batch, *shape)).astype("float32")
            latency = interleaved(runners, images, rounds, min_time)
            fastest = min(latency.values())
            results["batches"][batch] = {
                name: {
                    "latency_ms": 1e3 * seconds,
                    "ratio_to_fastest": seconds / fastest,
                    "gflops": 2 * macs * batch / seconds / 1e9,
                    "fraction_of_sgemm": 2 * macs * batch / seconds / 1e9 / peak,
                }
                for name, seconds in latency.items()
            }
    return results


def compare_pooling(rounds: int, threads: int, min_time: float) -> dict:
    """int8 LiteRT latency of LeNet-5 with SumPooling2D vs with AveragePooling2D."""
    from kerascnn import build_model
    from kerascnn.export import export_model
    from kerascnn.export.runtimes import TFLiteRunner
    from kerascnn.spec import ConvNetSpec
    from kerascnn.zoo import spec_of

    calibration = np.random.default_rng(0).uniform(0, 255, (64, 28, 28, 1)).astype("float32")
    spec = spec_of("lenet5").to_dict()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        runners = {}
        for pooling in ("sum", "average"):
            variant = {**spec, "blocks": [{**b, "pooling": pooling} for b in spec["blocks"]]}
            model = build_model(ConvNetSpec.from_dict(variant))
            out = Path(tmp) / pooling
            report = export_model(
                model, out, formats="tflite", quantize="int8",
                representative_data=calibration, verify=False, progress=False,
            )  # fmt: skip
            ops = next(a.ops for a in report.artifacts if a.variant == "int8")
            runners[pooling] = TFLiteRunner(out / "model.int8.tflite", num_threads=threads)
            results[f"{pooling}_ops"] = ops
        for batch in (1, 32):
            latency = interleaved(runners, calibration[:batch], rounds, min_time)
            results[f"batch{batch}"] = {
                "sum_ms": 1e3 * latency["sum"],
                "average_ms": 1e3 * latency["average"],
                "sum_over_average": latency["sum"] / latency["average"],
            }
    return results


def _print(results: dict) -> None:
    if "batches" not in results:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{results['model']}: {results['macs_per_image']:,} MACs/image; machine SGEMM "
        f"{results['sgemm_gflops']:.1f} GFLOP/s"
    )
    for batch, rows in results["batches"].items():
        print(f"\nbatch {batch}")
        print(f"{'runtime':20} {'latency':>11} {'x fastest':>9} {'GFLOP/s':>8} {'of SGEMM':>8}")
        for name, row in sorted(rows.items(), key=lambda item: item[1]["latency_ms"]):
            print(
                f"{name:20} {row['latency_ms']:8.3f} ms {row['ratio_to_fastest']:9.2f} "
                f"{row['gflops']:8.1f} {100 * row['fraction_of_sgemm']:7.1f}%"
            )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="minivgg_l", help="zoo name, preset, .keras")
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per measurement")
    parser.add_argument("--compare-pooling", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if args.compare_pooling:
        results = compare_pooling(args.rounds, args.threads, args.min_time)
    else:
        batches = [int(b) for b in args.batches.split(",")]
        results = benchmark(args.model, batches, args.rounds, args.threads, args.min_time)
    results["machine"] = {
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    _print(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
