"""tf.distribute: two logical CPUs, and two worker processes on 127.0.0.1."""

import json
import os
import subprocess

import pytest

from .helpers import ROOT, free_port, kerascnn_command, run_kerascnn, write_spec


def _train_args(tmp_path, tfds_data_dir, run):
    return [
        "train", write_spec(tmp_path), "--data", "tfds:mnist", "--data-dir", tfds_data_dir,
        "--max-examples", "1024", "--batch-size", "64", "--epochs", "2", "--out", run,
        "--verbose", "2",
        # Averaged weights: validation swaps them in on every replica or worker.
        "--ema-momentum", "0.9",
    ]  # fmt: skip


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(tfds_data_dir, tmp_path):
    run = tmp_path / "run"
    args = _train_args(tmp_path, tfds_data_dir, run)
    # A process of its own: logical CPUs are set before TensorFlow starts.
    result = run_kerascnn(*args, "--strategy", "mirrored", "--cpu-replicas", "2", process=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((run / "run.json").read_text())["replicas"] == 2
    assert len(json.loads((run / "history.json").read_text())) == 2


@pytest.mark.slow
def test_multi_worker_strategy_with_two_processes(tfds_data_dir, tmp_path):
    run = tmp_path / "run"
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            subprocess.Popen(
                kerascnn_command(
                    *_train_args(tmp_path, tfds_data_dir, run), "--strategy", "multi_worker"
                ),
                cwd=ROOT,
                env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=240)[0])
    finally:
        for process in processes:
            process.kill()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
    assert json.loads((run / "run.json").read_text())["replicas"] == 2
    history = json.loads((run / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    # Both workers log the same globally reduced figures: they trained as one.
    epochs = [
        [line.split(" - accuracy")[1] for line in out.splitlines() if " - accuracy" in line]
        for out in outputs
    ]
    assert len(epochs[0]) == 2 and epochs[0] == epochs[1]
    assert sum("best model" in out for out in outputs) == 1  # only the chief evaluates
