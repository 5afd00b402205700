"""Small specs and commands shared by the training tests."""

import contextlib
import io
import json
import logging
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import keras

ROOT = Path(__file__).resolve().parents[2]
SMALL_SPEC = {
    "name": "small",
    "blocks": [{"filters": 8, "kernel_size": 5}, {"filters": 16}],
    "head": {"dense": [32]},
}


class StepWeights(keras.callbacks.Callback):
    """The trainable weights after every training step (one step a call)."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append([v.numpy().copy() for v in self.model.trainable_variables])

    def reference_average(self, momentum: float) -> list:
        """The moving average of these weights as TensorFlow's own
        `tf.train.ExponentialMovingAverage(momentum, num_updates=step)`
        keeps it, started at the first step's weights."""
        import tensorflow as tf

        step = tf.Variable(0)
        average = tf.train.ExponentialMovingAverage(momentum, num_updates=step)
        tracked = [tf.Variable(w) for w in self.steps[0]]
        average.apply(tracked)  # its shadows start at the variables' values
        for t, weights in enumerate(self.steps[1:], start=1):
            for variable, value in zip(tracked, weights, strict=True):
                variable.assign(value)
            step.assign(t)
            average.apply(tracked)
        return [average.average(v).numpy() for v in tracked]


def write_spec(tmp_path) -> str:
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SMALL_SPEC))
    return str(path)


def kerascnn_command(*args) -> list[str]:
    return [sys.executable, "-m", "kerascnn", *map(str, args)]


@dataclass(frozen=True)
class Finished:
    """What a `kerascnn` command left: as `subprocess.CompletedProcess` has it."""

    returncode: int
    stdout: str
    stderr: str


def run_kerascnn(*args, env=None, timeout=300, process=False):
    """Runs `kerascnn ARGS` and returns its exit status and output.

    In this process (`kerascnn.cli.main`, output and kerascnn's log lines
    captured), which saves TensorFlow's start-up for every call; in a
    process of its own with `process=True` or an `env`, for what only a
    real process shows (its exit, its start time, native log lines).
    """
    if process or env is not None:
        return subprocess.run(
            kerascnn_command(*args),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            timeout=timeout,
            check=False,
        )
    from kerascnn import cli

    out, err = io.StringIO(), io.StringIO()
    # A real process prints kerascnn's warnings on stderr (logging's last
    # resort); pytest's own log handler would otherwise take them.
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("kerascnn")
    logger.addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main([str(arg) for arg in args])
            except SystemExit as exit:  # argparse's refusals and --help
                code = exit.code
    finally:
        logger.removeHandler(handler)
    return Finished(code, out.getvalue(), err.getvalue())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
