"""Benchmark: does a moving average of the weights help a short run?

Trains LeNet-5 on a few MNIST digits (a short run, as fine-tuning on a
small folder is) three ways, same seed and data:

- `none`: no average;
- `keras`: Keras' own average (`use_ema=True`): full momentum from the
  first step, so the early weights linger in it for thousands of steps;
- `kerascnn`: what `--ema-momentum` trains with (`kerascnn.optimizers`):
  the momentum ramps up as `tf.train.ExponentialMovingAverage(num_updates=)`
  does.

Validation scores, and `best.keras` keeps, the average (with batch norm
statistics recomputed for it); the test split scores the best epoch.

    python benchmarks/moving_average.py --data-dir DIR --manual-dir ../shared/datasets/mnist
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras

import kerascnn.training.run as run
from kerascnn.data import load_dataset
from kerascnn.training import TrainConfig, evaluate, train


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="TFDS data dir")
    parser.add_argument("--manual-dir", help="MNIST's original files, to prepare offline")
    parser.add_argument("--examples", type=int, default=1200, help="images a split")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--momentum", type=float, default=0.999)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    data = load_dataset(
        "tfds:mnist",
        data_dir=args.data_dir,
        manual_dir=args.manual_dir,
        max_examples=args.examples,
        validation_split=0.2,
        batch_size=args.batch_size,
        seed=0,
    )
    steps = args.epochs * -(-data.sizes["train"] // args.batch_size)
    print(
        f"LeNet-5, Adam 3e-3, {data.sizes['train']:,} MNIST training images, batch "
        f"{args.batch_size}, {args.epochs} epochs ({steps} steps), moving average "
        f"momentum {args.momentum}; Keras {keras.__version__}"
    )
    adam = run.OPTIMIZER_CLASSES["adam"]
    results = {}
    for name in ("none", "keras", "kerascnn"):
        # NOTE: `keras` swaps Keras' own Adam in where the trainer takes kerascnn's.
        run.OPTIMIZER_CLASSES["adam"] = (adam[0], adam[0]) if name == "keras" else adam
        config = TrainConfig(
            epochs=args.epochs,
            optimizer="adam",
            learning_rate=3e-3,
            ema_momentum=None if name == "none" else args.momentum,
            seed=0,
        )
        with tempfile.TemporaryDirectory() as out:
            result = train("lenet5", data, Path(out) / "run", config, test=False, verbose=0)
            best = keras.saving.load_model(result.best_model_path)
            test = evaluate(best, data, "test").accuracy
        validation = [h["val_accuracy"] for h in result.history]
        results[name] = {"val_accuracy": validation, "test_accuracy": test}
        print(
            f"  {name:9s} validation {', '.join(f'{100 * v:.1f}' for v in validation)}  "
            f"test {100 * test:.2f}%",
            flush=True,
        )
    run.OPTIMIZER_CLASSES["adam"] = adam
    if args.json:
        Path(args.json).write_text(json.dumps({"steps": steps, **results}, indent=2))


if __name__ == "__main__":
    main()
