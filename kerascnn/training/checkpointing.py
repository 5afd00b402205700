"""Run checkpoints that survive `kill -9`, and a guard against diverging loss."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import time
from pathlib import Path

import keras

from kerascnn import atomic_files
from kerascnn.errors import UsageError

CHECKPOINT = "checkpoint.keras"
STATE = "state.json"
BEST = "best.keras"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training as soon as the loss is NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN` it remembers where it happened,
    so the run can say so and keep the last good checkpoint. With
    `steps_per_execution` > 1 Keras reports every Nth batch, so the place
    is the batches since the last report (`where`).
    """

    def __init__(self):
        super().__init__()
        self.diverged_at: tuple[int, int, int] | None = None  # epoch, first and last batch
        self._epoch = 0
        self._reported = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._reported = epoch, 0

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        # Keras numbers the batch that ends an execution as if it were full.
        last = min(batch + 1, (self.params or {}).get("steps") or batch + 1)
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self._epoch + 1, self._reported + 1, last)
            self.model.stop_training = True
        self._reported = last

    @property
    def where(self) -> str:
        """ "epoch E, batch B" or "epoch E, batches B1-B2" of the divergence."""
        epoch, first, last = self.diverged_at
        batches = f"batch {last}" if first == last else f"batches {first}-{last}"
        return f"epoch {epoch}, {batches}"


class EpochClock(keras.callbacks.Callback):
    """Times each epoch: its wall `seconds`, and the `train_seconds` before
    validation (what images/s divides by)."""

    def __init__(self):
        super().__init__()
        self._epoch_start = None
        self._train_seconds = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._train_seconds = None

    def on_test_begin(self, logs=None):
        # Keras validates at the end of each fit epoch through these callbacks.
        if self._train_seconds is None and self._epoch_start is not None:
            self._train_seconds = time.perf_counter() - self._epoch_start

    def times(self) -> dict:
        """The epoch's times so far, or {} outside an epoch."""
        if self._epoch_start is None:
            return {}
        seconds = time.perf_counter() - self._epoch_start
        return {"seconds": seconds, "train_seconds": self._train_seconds or seconds}


class RunCheckpoint(EpochClock):
    """Writes the run's state at the end of every epoch, atomically.

    In `run_dir`: `checkpoint.keras` (model and optimizer state after the
    last completed epoch), `best.keras` (the best model by `monitor`; its
    weights are the average where the optimizer keeps one),
    `history.json` and `history.csv` (each epoch's logs, with its wall
    `seconds` and the `train_seconds` before validation), and last `state.json`, which names the
    completed epoch. A run killed at any moment resumes from the last
    completed epoch and loses at most the epoch in progress.

    Args:
        run_dir: Folder of the run.
        monitor: Metric that picks the best model; higher is better for
            accuracies, lower for losses.
        history: Epoch logs of the run so far (when resuming).
        best: Best `monitor` value so far (when resuming).
        guard: The run's `DivergenceGuard`; a diverged epoch is not saved.
        average: The run's `AveragedWeights`, if it averages its weights:
            `best.keras` is then the average (what validation scored) and
            `checkpoint.keras` the trained weights, with the average in its
            optimizer state for a resumed run to continue.
    """

    def __init__(self, run_dir, monitor, history=(), best=None, guard=None, average=None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.monitor = monitor
        self.history = list(history)
        self.best = best
        self.guard = guard
        self.average = average

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return value < self.best if "loss" in self.monitor else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and self.guard.diverged_at is not None:
            return
        logs = {**{k: float(v) for k, v in (logs or {}).items()}, **self.times()}
        self.history.append({"epoch": epoch + 1, **logs})
        value = logs.get(self.monitor)
        if value is None:
            raise UsageError(
                f"The monitored metric '{self.monitor}' is not in the epoch logs "
                f"({', '.join(logs)}); pick one of those."
            )
        improved = self._improved(value)
        if improved:
            self.best = value
        atomic_files.save_model(self.model, self.run_dir / CHECKPOINT)
        if improved:
            with self.average.applied() if self.average else contextlib.nullcontext():
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


class RunStateError(UsageError):
    """A run folder whose saved state cannot be resumed; nothing in it is changed."""


def _refuse(run_dir: Path, problem: str) -> RunStateError:
    return RunStateError(
        f"'{run_dir}' cannot be resumed: {problem}. Its files are left as they are; start "
        "the run again in a new folder (without --resume), or restore the run's own files."
    )


def _read_json(path: Path, run_dir: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:
        raise _refuse(run_dir, f"{path.name} is not valid JSON ({error})") from None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_state(run_dir, epochs: int | None = None) -> dict | None:
    """The state of a run folder's last completed epoch, or None when it has
    none, validated against the run's other files.

    Args:
        run_dir: The run folder.
        epochs: The run's epoch count; a state past it is refused.

    Raises:
        RunStateError: `state.json` is not a state kerascnn wrote (schema,
            ranges), or disagrees with `history.json` or the checkpoint.
    """
    run_dir = Path(run_dir)
    path = run_dir / STATE
    if not path.exists():
        return None
    state = _read_json(path, run_dir)
    if not isinstance(state, dict) or not {"epoch", "monitor", "best"} <= set(state):
        raise _refuse(run_dir, f"{STATE} must be an object with epoch, monitor and best")
    epoch, best = state["epoch"], state["best"]
    if not _is_int(epoch) or epoch < 1:
        raise _refuse(run_dir, f"{STATE} says epoch={epoch!r}, not a completed epoch (1 or more)")
    if epochs is not None and epoch > epochs:
        raise _refuse(
            run_dir,
            f"it completed {epoch} epochs but the run asks for {epochs}; give --epochs "
            f"{epoch} or more to continue it",
        )
    if not isinstance(state["monitor"], str):
        raise _refuse(run_dir, f"{STATE} says monitor={state['monitor']!r}, not a metric name")
    if best is not None and (not isinstance(best, (int, float)) or not math.isfinite(best)):
        raise _refuse(run_dir, f"{STATE} says best={best!r}, not a finite number")
    if not (run_dir / CHECKPOINT).is_file():
        raise _refuse(run_dir, f"{CHECKPOINT}, the model after epoch {epoch}, is missing")
    history_path = run_dir / HISTORY_JSON
    history = _read_json(history_path, run_dir) if history_path.exists() else None
    if not isinstance(history, list) or not all(
        isinstance(row, dict) and _is_int(row.get("epoch")) for row in history
    ):
        raise _refuse(run_dir, f"{HISTORY_JSON} must list one object with an epoch per epoch")
    history = [row for row in history if row["epoch"] <= epoch]
    if [row["epoch"] for row in history] != list(range(1, epoch + 1)):
        raise _refuse(run_dir, f"{HISTORY_JSON} does not hold epochs 1 to {epoch}")
    state["history"] = history
    return state
