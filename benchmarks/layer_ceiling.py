"""Benchmark: the fastest a network could train if only its layers' own kernels ran.

`benchmarks/training.py` says what share of the machine's matrix-multiply
(SGEMM) rate a whole training step reaches. This one says how much of the
gap is the framework and how much the kernels: it times each layer that does
arithmetic (those `kerascnn describe` counts multiply-accumulates for:
convolutions and dense layers) alone, forward and backward at the training
batch size (the gradient to its input, except for the first layer, whose
input is the data, and to its weights), and adds the times up. Dividing
the batch by that sum gives a ceiling in images per second that no change
outside the kernels (steps per execution, input pipeline, fused ops,
threads) can pass; its share of SGEMM is counted as
`benchmarks/training.py` counts (3 x 2 x the forward MACs of `kerascnn
describe`), so the two tables compare row by row.

    python benchmarks/layer_ceiling.py [--models lenet5,resnet8] [--rounds 50]
        [--batch-size 128] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# The kernels `kerascnn train` uses (kerascnn.settings.prefer_onednn).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from training import INPUT_SHAPES  # benchmarks/training.py, beside this file

from kerascnn.describe import describe
from kerascnn.zoo import create_model

# Layer steps per timed call (see _layer_step).
REPEATS = 16


def _median_seconds(fn, rounds: int) -> float:
    for _ in range(3):  # trace and warm up
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def sgemm_rate(rounds: int) -> float:
    """FLOP/s of benchmarks/training.py's 2048^3 float32 matmul (median of calls)."""
    n = 2048
    a = tf.random.normal((n, n))
    b = tf.transpose(a)
    matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)[:1, :1]))
    return 2 * n**3 / _median_seconds(lambda: matmul().numpy(), rounds)


def _layer_step(layer, x, input_gradient: bool, repeats: int):
    """The layer's share of a training step, `repeats` times in one call.

    Forward, then the gradients; repeated inside one graph so that the cost
    of calling into TensorFlow is spread over `repeats` steps, as
    `steps_per_execution` spreads it in training. Each repeat adds a scalar
    from the previous one to the input so that none can be skipped.
    """
    weights = layer.trainable_variables

    @tf.function
    def steps():
        def body(i, carry):
            inputs = x + carry
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                y = layer(inputs, training=True)
                loss = tf.reduce_sum(y)
            sources = ([inputs] if input_gradient else []) + list(weights)
            grads = tape.gradient(loss, sources) if sources else []
            # A vanishing scalar from every result carries into the next repeat.
            total = tf.reduce_sum(y[:1]) + sum(tf.reduce_sum(g[:1]) for g in grads)
            return i + 1, 1e-30 * total

        return tf.while_loop(lambda i, _: i < repeats, body, (0, tf.constant(0.0)))[1]

    return lambda: steps().numpy()


def measure(name: str, batch_size: int, rounds: int, sgemm: float) -> dict:
    shape = INPUT_SHAPES.get(name, (32, 32, 3))
    model = create_model(name, input_shape=shape, num_classes=10)
    description = describe(model)
    macs = {row.name: row.macs for row in description.layers}
    rng = np.random.default_rng(0)
    rows, first = [], True
    for layer in model.layers:
        if not macs.get(layer.name):
            continue
        in_shape = (batch_size, *layer.input.shape[1:])
        x = tf.constant(rng.normal(size=in_shape).astype("float32"))
        step = _layer_step(layer, x, input_gradient=not first, repeats=REPEATS)
        seconds = _median_seconds(step, rounds) / REPEATS
        passes = 1 + (not first) + bool(layer.trainable_variables)
        flops = 2 * macs[layer.name] * batch_size * passes
        rows.append(
            {
                "layer": layer.name,
                "kind": type(layer).__name__,
                "input_shape": list(in_shape),
                "macs": macs[layer.name],
                "ms": 1e3 * seconds,
                "of_sgemm": flops / seconds / sgemm,
            }
        )
        first = False
    total = sum(r["ms"] for r in rows) / 1e3
    ceiling = batch_size / total
    return {
        "model": name,
        "macs": description.total_macs,
        "layers": rows,
        "ceiling_images_per_second": ceiling,
        "ceiling_of_sgemm": 6 * description.total_macs * ceiling / sgemm,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lenet5,resnet8", help="zoo model names")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=50, help="timed calls per layer")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    sgemm = sgemm_rate(args.rounds)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"{machine}; batch {args.batch_size}; SGEMM {sgemm / 1e9:.1f} GFLOP/s\n")
    results = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        result = measure(name, args.batch_size, args.rounds, sgemm)
        results.append(result)
        print(f"{name}: {result['macs'] / 1e6:.2f} M MACs per image\n")
        print("| layer | kind | input | MACs | ms (forward + backward) | of SGEMM |")
        print("|---|---|---|---|---|---|")
        for r in result["layers"]:
            shape = "x".join(str(d) for d in r["input_shape"])
            print(
                f"| {r['layer']} | {r['kind']} | {shape} | {r['macs']:,} | "
                f"{r['ms']:.2f} | {r['of_sgemm']:.0%} |"
            )
        print(
            f"\nceiling: {result['ceiling_images_per_second']:,.0f} images/s, "
            f"{result['ceiling_of_sgemm']:.0%} of SGEMM\n"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"machine": machine, "sgemm_flops": sgemm, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
