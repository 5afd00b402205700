"""tf.distribute strategies for training runs: one device, local replicas, hosts."""

from __future__ import annotations

import functools
import json
import os

import tensorflow as tf

from kerascnn.errors import UsageError


# A strategy owns process-wide state (devices, collectives): one per setting.
@functools.cache
def make_strategy(name: str, cpu_replicas: int | None = None) -> tf.distribute.Strategy:
    """Returns the strategy a run uses, the same one for the same arguments.

    Args:
        name: "default" (the current device), "mirrored" (synchronous data
            parallelism over the local GPUs; with none, over `cpu_replicas`
            logical CPU devices) or "multi_worker" (synchronous over the
            hosts in the `TF_CONFIG` environment variable).
        cpu_replicas: Logical CPU devices for "mirrored" without GPUs. Must
            be set before TensorFlow first uses a device.

    Example:
    >>> strategy = make_strategy("mirrored", cpu_replicas=2)
    >>> strategy.num_replicas_in_sync
    2
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_physical_devices("GPU")
        if gpus or not cpu_replicas:
            return tf.distribute.MirroredStrategy()
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas
            )
        except RuntimeError as error:
            raise RuntimeError(
                "cpu_replicas must be set before TensorFlow initialises its devices; "
                "start a new process and create the strategy first."
            ) from error
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise UsageError(
                "strategy='multi_worker' needs the TF_CONFIG environment variable listing "
                "the workers and this process's task, e.g. "
                '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}.'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UsageError(f"Unknown strategy {name!r}; use 'default', 'mirrored' or 'multi_worker'.")


def is_chief() -> bool:
    """True in the process that writes a distributed run's files.

    The chief is the `chief` task if `TF_CONFIG` names one, else worker 0;
    without `TF_CONFIG` every process is its own chief.
    """
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {})
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    return (
        task.get("type") == "worker"
        and task.get("index", 0) == 0
        and ("chief" not in config.get("cluster", {}))
    )


def shard_by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Lets multi-worker runs shard a data set by element (any source works)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
