"""`--precision auto`: bfloat16 where the hardware computes it, float32 elsewhere.

bfloat16 halves the bytes every activation moves and, on hardware with
bfloat16 arithmetic, doubles the multiply rate: minivgg_m trains 2.05x
faster with `mixed_bfloat16` on a CPU with AVX512_BF16. Without it the
conversions are emulated and the same policy is several times *slower*
(minivgg_s on 2 AVX2-only cores: 100 vs 872 images/s), so "auto" asks the
hardware rather than assuming.
"""

from __future__ import annotations

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
    """

    requested: str
    policy: str
    reason: str

    def to_dict(self) -> dict:
        return {"requested": self.requested, "policy": self.policy, "reason": self.reason}


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
    requested: str, *, gpu_capabilities=None, flags: set[str] | None = None
) -> PrecisionChoice:
    """Resolves a precision setting to a Keras dtype policy.

    Args:
        requested: "auto", or a policy name, which is returned as is.
        gpu_capabilities: Compute capabilities of the GPUs that will train;
            None asks TensorFlow.
        flags: The CPU's feature flags; None reads them from /proc/cpuinfo.

    Returns:
        A `PrecisionChoice`: with "auto", "mixed_bfloat16" when every GPU
        (or, without GPUs, the CPU) computes bfloat16 natively, else
        "float32".

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
    if native:
        return PrecisionChoice(
            "auto", "mixed_bfloat16", f"the CPU computes bfloat16 natively ({', '.join(native)})"
        )
    return PrecisionChoice(
        "auto",
        "float32",
        "the CPU has no native bfloat16 (AVX512_BF16 or AMX); emulated, it would train slower "
        "than float32",
    )
