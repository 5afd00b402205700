"""Benchmark: kerascnn's layers against the Keras layers they stand beside.

1. `SumPooling2D` vs `keras.layers.AveragePooling2D`: a forward pass, and a
   training step (forward and the gradient to the input, as inside a
   network), on the same input (goal: ratio <= 1.00; sum pooling does less
   arithmetic than averaging).
2. `RectifiedFeatureMap` vs `keras.layers.ReLU` inside a small CNN with the
   same weights (goal: ratio <= 1.02).

Each pair runs as compiled TensorFlow functions, interleaved round by round
(the order alternating), so that drift on a shared machine hits both sides
alike; the ratio is the median of the per-round ratios.

    python benchmarks/layers.py [--rounds 200] [--json results.json] [--jit-compile]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# The kernels `kerascnn train` uses (kerascnn.settings.prefer_onednn);
# TF_ENABLE_ONEDNN_OPTS=0 measures TensorFlow's Eigen kernels instead.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras
import numpy as np
import tensorflow as tf

from kerascnn.layers import RectifiedFeatureMap, SumPooling2D

# --jit-compile: every function compiled with XLA instead.
JIT_COMPILE = False


def _compiled(model):
    return tf.function(lambda x: model(x, training=False), jit_compile=JIT_COMPILE)


def _compiled_step(model):
    """Forward and backward through `model`: the input's gradient of a loss."""

    @tf.function(jit_compile=JIT_COMPILE)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = model(x, training=True)
            loss = tf.reduce_sum(outputs * outputs)
        return tape.gradient(loss, x)

    return step


def compare(name, fn_a, fn_b, x, rounds, goal):
    """Times two functions interleaved; returns medians and the ratio b/a."""
    for _ in range(5):  # trace and warm up
        fn_a(x).numpy()
        fn_b(x).numpy()
    times_a, times_b, ratios = [], [], []
    for r in range(rounds):
        pair = []
        for fn in (fn_a, fn_b) if r % 2 == 0 else (fn_b, fn_a):
            start = time.perf_counter()
            fn(x).numpy()
            pair.append((fn, time.perf_counter() - start))
        t = dict(pair)
        times_a.append(t[fn_a])
        times_b.append(t[fn_b])
        ratios.append(t[fn_b] / t[fn_a])
    result = {
        "name": name,
        "input_shape": list(x.shape),
        "rounds": rounds,
        "baseline_ms": 1e3 * float(np.median(times_a)),
        "kerascnn_ms": 1e3 * float(np.median(times_b)),
        "ratio": float(np.median(ratios)),
        "ratio_iqr": [float(q) for q in np.percentile(ratios, [25, 75])],
        "goal": goal,
    }
    result["meets_goal"] = result["ratio"] <= goal
    return result


def pooling_cases(rounds):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(32, 56, 56, 64)).astype("float32"))
    results = []
    for pool, strides, padding in [(2, 2, "valid"), (3, 2, "same"), (3, 1, "same")]:
        args = dict(pool_size=pool, strides=strides, padding=padding)
        average = keras.Sequential(
            [keras.Input(x.shape[1:]), keras.layers.AveragePooling2D(**args)]
        )
        summed = keras.Sequential([keras.Input(x.shape[1:]), SumPooling2D(**args)])
        for what, compiled in (("forward", _compiled), ("training step", _compiled_step)):
            results.append(
                compare(
                    f"SumPooling2D vs AveragePooling2D, {what} "
                    f"(pool {pool}, stride {strides}, {padding})",
                    compiled(average),
                    compiled(summed),
                    x,
                    rounds,
                    goal=1.00,
                )
            )
    return results


def small_cnn(relu_layer):
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for i, filters in enumerate((32, 64, 128), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", name=f"conv{i}")(x)
        x = relu_layer(name=f"relu{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)


def relu_case(rounds):
    x = tf.constant(np.random.default_rng(1).uniform(0, 1, (32, 32, 32, 3)).astype("float32"))
    plain = small_cnn(keras.layers.ReLU)
    ours = small_cnn(RectifiedFeatureMap)
    ours.set_weights(plain.get_weights())
    np.testing.assert_array_equal(ours(x).numpy(), plain(x).numpy())
    return compare(
        "RectifiedFeatureMap vs ReLU in a small CNN (3 conv-ReLU-pool blocks)",
        _compiled(plain),
        _compiled(ours),
        x,
        rounds,
        goal=1.02,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="interleaved rounds per pair")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--jit-compile", action="store_true", help="compile with XLA")
    args = parser.parse_args()
    global JIT_COMPILE
    JIT_COMPILE = args.jit_compile

    results = [*pooling_cases(args.rounds), relu_case(args.rounds)]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    kernels = "oneDNN" if os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1" else "Eigen"
    kernels = "XLA" if JIT_COMPILE else kernels
    print(f"TensorFlow {tf.__version__} ({kernels} kernels), Keras {keras.__version__}, {machine}")
    for r in results:
        verdict = "ok" if r["meets_goal"] else "OVER GOAL"
        print(
            f"{r['name']}\n  input {tuple(r['input_shape'])}: baseline {r['baseline_ms']:.3f} ms, "
            f"kerascnn {r['kerascnn_ms']:.3f} ms, ratio {r['ratio']:.3f} "
            f"(IQR {r['ratio_iqr'][0]:.3f}-{r['ratio_iqr'][1]:.3f}; goal <= {r['goal']}) {verdict}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"machine": machine, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
