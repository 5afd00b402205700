"""Benchmark: how fast `model.fit` trains the zoo's networks on this machine.

For each model and each way of running it, images per second of training
steps (forward, backward, update) at a fixed batch size, and the FLOP rate
that makes as a fraction of the single-precision matrix-multiply (SGEMM)
rate measured in the same run, so the figure says how much of the machine a
network uses, not only how fast the machine is. Ways of running:

- `float32`: TensorFlow, float32, with its oneDNN CPU kernels (what
  `kerascnn train` uses; see `kerascnn.settings.prefer_onednn`);
- `eigen`: the same with oneDNN off (`TF_ENABLE_ONEDNN_OPTS=0`), TensorFlow's
  own default on CPUs without AVX-512 VNNI/BF16 or AMX;
- `mixed_bfloat16`: bfloat16 compute, float32 weights;
- `xla`: float32, the train step compiled with XLA (`jit_compile=True`);
- `jax`: float32 on the JAX backend (which always compiles with XLA);
- `xla_classic`, `jax_classic`: the same on XLA:CPU's classic runtime
  (`XLA_FLAGS=--xla_cpu_use_thunk_runtime=false`).

Each measurement runs in its own process, since the backend, the oneDNN
switch and op determinism are fixed once per process. The data are random
images already in memory, so the figures are of the network, not of
decoding or augmentation. Training FLOPs are counted as 3 x 2 x the forward
MACs of `kerascnn describe` (the backward pass costs about twice the
forward).

    python benchmarks/training.py [--models lenet5,minivgg_m] [--seconds 20]
        [--modes float32,eigen,mixed_bfloat16,xla,jax,...] [--steps-per-execution N]
        [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

MODES = ("float32", "eigen", "mixed_bfloat16", "xla", "xla_classic", "jax", "jax_classic")
# XLA:CPU's older runtime, whose convolutions (and their gradients) can use
# oneDNN; the default "thunk" runtime runs them with Eigen (openxla/xla#18586).
XLA_CLASSIC = "--xla_cpu_use_thunk_runtime=false"
DEFAULT_MODELS = ("lenet5", "tinyvgg_8k", "minivgg_s", "minivgg_m")
INPUT_SHAPES = {"lenet5": (28, 28, 1), "tinyvgg_8k": (28, 28, 1)}


def _environment(mode: str) -> dict:
    env = dict(os.environ)
    env["KERAS_BACKEND"] = "jax" if mode.startswith("jax") else "tensorflow"
    env["TF_ENABLE_ONEDNN_OPTS"] = "0" if mode == "eigen" else "1"
    if mode.endswith("_classic"):
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {XLA_CLASSIC}".strip()
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _child(argv: list[str]) -> None:
    """Measures one (model, mode) or the SGEMM rate; prints one JSON line."""
    what, mode, batch_size, seconds = argv[0], argv[1], int(argv[2]), float(argv[3])
    steps_per_execution = int(argv[4])
    import keras
    import numpy as np
    import tensorflow as tf

    if what == "sgemm":
        n = 2048
        dtype = tf.bfloat16 if mode == "bfloat16" else tf.float32
        a = tf.random.normal((n, n), dtype=tf.float32)
        a, b = tf.cast(a, dtype), tf.cast(tf.transpose(a), dtype)
        matmul = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b)[:1, :1], tf.float32)))
        matmul().numpy()
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            matmul().numpy()
            runs += 1
        print(json.dumps({"flops_per_second": 2 * n**3 * runs / (time.perf_counter() - start)}))
        return

    from kerascnn.describe import describe
    from kerascnn.training.config import TrainConfig
    from kerascnn.training.run import compile_for_training
    from kerascnn.zoo import create_model

    policy = "mixed_bfloat16" if mode == "mixed_bfloat16" else "float32"
    keras.config.set_dtype_policy(policy)
    shape = INPUT_SHAPES.get(what, (32, 32, 3))
    model = create_model(what, input_shape=shape, num_classes=10)
    # Compiled as `kerascnn train` compiles (loss, accuracy metric, steps per execution).
    config = TrainConfig(
        optimizer="sgd",
        learning_rate=0.01,
        jit_compile=mode.startswith("xla"),
        steps_per_execution=steps_per_execution,
    )
    compile_for_training(model, config, steps_per_epoch=1000)
    rng = np.random.default_rng(0)
    steps = 16
    x = rng.integers(0, 256, (batch_size * steps, *shape)).astype("float32")
    y = rng.integers(0, 10, batch_size * steps)

    class BatchClock(keras.callbacks.Callback):
        """Times whole training batches after the first `skip` (tracing and
        compiling) and stops `fit` once `seconds` have been timed."""

        def __init__(self, skip: int):
            super().__init__()
            self.skip, self.start, self.first, self.batches, self.elapsed = skip, None, 0, 0, 0.0

        def on_train_batch_end(self, batch, logs=None):
            # With steps_per_execution N, called after every Nth batch.
            now = time.perf_counter()
            if self.start is None and batch + 1 >= self.skip:
                self.start, self.first = now, batch + 1
            elif self.start is not None:
                self.batches, self.elapsed = batch + 1 - self.first, now - self.start
                if self.elapsed >= seconds:
                    self.model.stop_training = True

    # One long fit over batches already in memory, as a training run does.
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).cache().repeat()
    clock = BatchClock(skip=max(5, 2 * steps_per_execution))
    model.fit(data, steps_per_epoch=10**7, epochs=1, callbacks=[clock], verbose=0)
    print(
        json.dumps(
            {
                "images_per_second": clock.batches * batch_size / clock.elapsed,
                "macs": describe(model).total_macs,
            }
        )
    )


def _measure(what: str, mode: str, batch_size: int, seconds: float, steps: int = 1) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            what,
            mode,
            str(batch_size),
            str(seconds),
            str(steps),
        ],
        env=_environment(mode if what != "sgemm" else "float32"),
        capture_output=True,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        return {"error": f"exit {result.returncode}: {tail}"}
    return json.loads(lines[-1])


def _table(results: list[dict], sgemm: float) -> str:
    rows = [
        "| model | MACs | mode | images/s | GFLOP/s | of SGEMM |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            rows.append(
                f"| {r['model']} | | {r['mode']} | failed: {r['error'].splitlines()[-1]} | | |"
            )
            continue
        flops = 6 * r["macs"] * r["images_per_second"]
        rows.append(
            f"| {r['model']} | {r['macs'] / 1e6:.2f} M | {r['mode']} | "
            f"{r['images_per_second']:,.0f} | {flops / 1e9:.1f} | {flops / sgemm:.0%} |"
        )
    return "\n".join(rows)


def main():
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2:])
        return
    from kerascnn.training.config import TrainConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="zoo model names")
    parser.add_argument("--modes", default=",".join(MODES), help=f"any of {', '.join(MODES)}")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds per figure")
    parser.add_argument(
        "--steps-per-execution",
        type=int,
        default=TrainConfig().steps_per_execution,
        help="batches per call into the backend (default: kerascnn train's)",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]!r}; choose from {', '.join(MODES)}")

    sgemm = _measure("sgemm", "float32", 0, args.seconds / 2)["flops_per_second"]
    sbgemm = _measure("sgemm", "bfloat16", 0, args.seconds / 2).get("flops_per_second")
    results = []
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        for mode in modes:
            result = _measure(model, mode, args.batch_size, args.seconds, args.steps_per_execution)
            results.append({"model": model, "mode": mode, **result})
            print(f"{model:12s} {mode:15s} {result}", file=sys.stderr, flush=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(
        f"{machine}; batch {args.batch_size}; {args.steps_per_execution} steps per execution; "
        "SGEMM (2048^3, float32, TensorFlow) "
        f"{sgemm / 1e9:.1f} GFLOP/s; bfloat16 matmul {sbgemm / 1e9:.1f} GFLOP/s\n"
    )
    print(_table(results, sgemm))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "machine": machine,
                    "batch_size": args.batch_size,
                    "steps_per_execution": args.steps_per_execution,
                    "sgemm_flops": sgemm,
                    "bf16_matmul_flops": sbgemm,
                    "results": results,
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()
