"""`--precision auto`: bfloat16 where it trains faster, float32 elsewhere.

bfloat16 halves the bytes every activation moves and, on hardware with
bfloat16 arithmetic, doubles the multiply rate: minivgg_m trains 2.05x
faster with `mixed_bfloat16` on a CPU with AVX512_BF16. Without it the
conversions are emulated and the same policy is several times *slower*
(minivgg_s on 2 AVX2-only cores: 100 vs 872 images/s), so "auto" asks the
hardware first. Even with it, small networks can lose: on a 2-core Zen 4,
bfloat16 trained resnet8 1.24x faster but LeNet-5 0.56x (its casts cost
more than its arithmetic saves), so on such a CPU "auto" times a few
training steps of the network in both policies and keeps the faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# CPU flags (as Linux's /proc/cpuinfo spells them) of native bfloat16 dot
# products: AVX-512 BF16 (Cooper Lake, Zen 4 and later) and AMX (Sapphire
# Rapids and later), which oneDNN uses for bfloat16 convolutions.
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# NVIDIA GPUs compute bfloat16 natively from Ampere (compute capability 8.0).
BFLOAT16_GPU_CAPABILITY = (8, 0)


@dataclass(frozen=True)
class PrecisionChoice:
    """The dtype policy a run uses and why.

    Attributes:
        requested: What was asked for ("auto" or a policy name).
        policy: The Keras dtype policy used.
        reason: One sentence saying why (for "auto"), or "requested".
        measured: Training images a second by policy, where "auto" timed them.
    """

    requested: str
    policy: str
    reason: str
    measured: dict | None = None

    def to_dict(self) -> dict:
        record = {"requested": self.requested, "policy": self.policy, "reason": self.reason}
        return record if self.measured is None else {**record, "measured": self.measured}


def training_speed(build: Callable, input_shape, batch_size: int, seconds: float = 1.5) -> float:
    """Training images a second of a throwaway model, on random images.

    Args:
        build: Returns a new compiled model (the network in one dtype policy).
        input_shape: (height, width, channels) of an image.
        batch_size: Images a training step.
        seconds: How long to time steps, after two untimed ones (tracing).
    """
    import numpy as np

    model = build()
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch_size, *input_shape)).astype("float32")
    labels = rng.integers(0, int(model.outputs[0].shape[-1]), batch_size)
    for _ in range(2):
        model.train_on_batch(images, labels)
    steps, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or steps < 3:
        model.train_on_batch(images, labels)
        steps += 1
    return steps * batch_size / elapsed


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The feature flags of the first CPU in `cpuinfo` (empty where the file
    does not exist, as on macOS and Windows)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def _gpu_capabilities() -> list[tuple[int, int]]:
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if capability:
            capabilities.append(tuple(capability))
    return capabilities


def choose_precision(
    requested: str,
    *,
    gpu_capabilities=None,
    flags: set[str] | None = None,
    speed: Callable[[str], float] | None = None,
) -> PrecisionChoice:
    """Resolves a precision setting to a Keras dtype policy.

    Args:
        requested: "auto", or a policy name, which is returned as is.
        gpu_capabilities: Compute capabilities of the GPUs that will train;
            None asks TensorFlow.
        flags: The CPU's feature flags; None reads them from /proc/cpuinfo.
        speed: Training images a second of the network in a policy
            (`training_speed`), to time both on a CPU that computes
            bfloat16 natively; None takes the hardware's word.

    Returns:
        A `PrecisionChoice`: with "auto", "mixed_bfloat16" when every GPU
        computes bfloat16 natively, or (without GPUs) the CPU does and, given
        `speed`, trains the network faster in it; else "float32".

    Example:
    >>> choose_precision("auto", gpu_capabilities=[], flags={"avx2"}).policy
    'float32'
    """
    if requested != "auto":
        return PrecisionChoice(requested, requested, "requested")
    gpus = _gpu_capabilities() if gpu_capabilities is None else list(gpu_capabilities)
    if gpus:
        oldest = min(gpus)
        if oldest >= BFLOAT16_GPU_CAPABILITY:
            return PrecisionChoice(
                "auto",
                "mixed_bfloat16",
                f"the GPU (compute capability {oldest[0]}.{oldest[1]}) computes bfloat16 natively",
            )
        return PrecisionChoice(
            "auto",
            "float32",
            f"the GPU (compute capability {oldest[0]}.{oldest[1]}) has no native bfloat16; "
            "it needs 8.0 (Ampere) or later",
        )
    flags = cpu_flags() if flags is None else flags
    native = sorted(set(BFLOAT16_CPU_FLAGS) & flags)
    if native and speed is None:
        return PrecisionChoice(
            "auto", "mixed_bfloat16", f"the CPU computes bfloat16 natively ({', '.join(native)})"
        )
    if native:
        measured = {policy: round(speed(policy), 1) for policy in ("float32", "mixed_bfloat16")}
        policy = max(measured, key=measured.get)
        return PrecisionChoice(
            "auto",
            policy,
            f"the CPU computes bfloat16 natively ({', '.join(native)}) and this network trained "
            f"{measured['mixed_bfloat16']:,.0f} images/s in it against "
            f"{measured['float32']:,.0f} in float32",
            measured,
        )
    return PrecisionChoice(
        "auto",
        "float32",
        "the CPU has no native bfloat16 (AVX512_BF16 or AMX); emulated, it would train slower "
        "than float32",
    )
