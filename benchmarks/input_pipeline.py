"""Benchmark: does the TFDS pipeline keep training fed?

Trains the same model (LeNet-5 from docs/examples) for one epoch on the MNIST
train split three ways, interleaved over rounds:

- `in_memory`: the split already in memory as NumPy arrays (`model.fit(x, y)`);
- `tfds_cold`: a freshly loaded `kerascnn.data` pipeline, so the epoch also
  reads, parses and decodes the TFDS records (its cache is empty);
- `tfds_warm`: the next epoch of that pipeline, served from its cache.

Goal: tfds / in-memory <= 1.05. Needs MNIST prepared or its original files:

    python benchmarks/input_pipeline.py --data-dir DIR --manual-dir ../shared/datasets/mnist
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

from kerascnn import ConvNetSpec, build_model
from kerascnn.data import load_dataset

SPEC = Path(__file__).resolve().parents[1] / "docs" / "examples" / "lenet5.json"


def timed_epoch(model, weights, *fit_args, **fit_kwargs) -> float:
    model.set_weights(weights)
    start = time.perf_counter()
    model.fit(*fit_args, epochs=1, verbose=0, **fit_kwargs)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="TFDS data dir")
    parser.add_argument("--manual-dir", help="MNIST's original files, to prepare offline")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    def load():
        return load_dataset(
            "tfds:mnist",
            data_dir=args.data_dir,
            manual_dir=args.manual_dir,
            batch_size=args.batch_size,
            validation_split=0.0,
        )

    data = load()
    x = np.concatenate([images.numpy() for images, _ in data.train])
    y = np.concatenate([labels.numpy() for _, labels in data.train])
    model = build_model(ConvNetSpec.from_json(SPEC.read_text()))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    weights = model.get_weights()
    model.fit(x[:1024], y[:1024], batch_size=args.batch_size, verbose=0)  # trace once

    times = {"in_memory": [], "tfds_cold": [], "tfds_warm": []}
    for _ in range(args.rounds):
        times["in_memory"].append(
            timed_epoch(model, weights, x, y, batch_size=args.batch_size, shuffle=True)
        )
        fresh = load()
        times["tfds_cold"].append(timed_epoch(model, weights, fresh.train))
        times["tfds_warm"].append(timed_epoch(model, weights, fresh.train))

    medians = {k: float(np.median(v)) for k, v in times.items()}
    result = {
        "examples": len(x),
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "epoch_seconds": times,
        "median_seconds": medians,
        "ratio_cold": medians["tfds_cold"] / medians["in_memory"],
        "ratio_warm": medians["tfds_warm"] / medians["in_memory"],
        "goal": 1.05,
    }
    print(
        f"one epoch of LeNet-5 on {len(x):,} MNIST images, batch {args.batch_size}, "
        f"Keras {keras.__version__}"
    )
    for name, seconds in medians.items():
        print(
            f"  {name:10s} {seconds:7.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in times[name])})"
        )
    print(f"  ratio tfds_cold / in_memory = {result['ratio_cold']:.3f}")
    print(f"  ratio tfds_warm / in_memory = {result['ratio_warm']:.3f}  (goal <= 1.05)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
