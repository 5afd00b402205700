"""Run checkpoints that survive `kill -9`, and a guard against diverging loss."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import keras

from kerascnn import atomic_files

CHECKPOINT = "checkpoint.keras"
STATE = "state.json"
BEST = "best.keras"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training as soon as the loss is NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN` it remembers where it happened,
    so the run can say so and keep the last good checkpoint.
    """

    def __init__(self):
        super().__init__()
        self.diverged_at: tuple[int, int] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self._epoch + 1, batch + 1)
            self.model.stop_training = True


class RunCheckpoint(keras.callbacks.Callback):
    """Writes the run's state at the end of every epoch, atomically.

    In `run_dir`: `checkpoint.keras` (model and optimizer state after the
    last completed epoch), `best.keras` (the best model by `monitor`),
    `history.json` and `history.csv`, and last `state.json`, which names the
    completed epoch. A run killed at any moment resumes from the last
    completed epoch and loses at most the epoch in progress.

    Args:
        run_dir: Folder of the run.
        monitor: Metric that picks the best model; higher is better for
            accuracies, lower for losses.
        history: Epoch logs of the run so far (when resuming).
        best: Best `monitor` value so far (when resuming).
        guard: The run's `DivergenceGuard`; a diverged epoch is not saved.
    """

    def __init__(self, run_dir, monitor, history=(), best=None, guard=None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.monitor = monitor
        self.history = list(history)
        self.best = best
        self.guard = guard

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return value < self.best if "loss" in self.monitor else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and self.guard.diverged_at is not None:
            return
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.history.append({"epoch": epoch + 1, **logs})
        value = logs.get(self.monitor)
        if value is None:
            raise KeyError(
                f"The monitored metric '{self.monitor}' is not in the epoch logs "
                f"({', '.join(logs)}); pick one of those."
            )
        improved = self._improved(value)
        if improved:
            self.best = value
        atomic_files.save_model(self.model, self.run_dir / CHECKPOINT)
        if improved:
            atomic_files.save_model(self.model, self.run_dir / BEST)
        atomic_files.write_json(self.run_dir / HISTORY_JSON, self.history)
        atomic_files.write_text(self.run_dir / HISTORY_CSV, history_csv(self.history))
        # Written last: it is what makes the epoch count as completed.
        atomic_files.write_json(
            self.run_dir / STATE,
            {"epoch": epoch + 1, "monitor": self.monitor, "best": self.best},
        )


def history_csv(history: list[dict]) -> str:
    """The epoch logs as CSV, one row an epoch."""
    columns = list(dict.fromkeys(k for row in history for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def read_state(run_dir) -> dict | None:
    """The state of a run folder's last completed epoch, or None."""
    path = Path(run_dir) / STATE
    if not path.exists():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    history_path = Path(run_dir) / HISTORY_JSON
    history = json.loads(history_path.read_text(encoding="utf-8")) if history_path.exists() else []
    state["history"] = [row for row in history if row["epoch"] <= state["epoch"]]
    return state
