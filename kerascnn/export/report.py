"""The export report: per artifact, its size, parity, ops and export time."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field


@dataclass
class ArtifactReport:
    """One exported file or folder.

    Attributes:
        format: "saved_model", "tflite" or "onnx".
        variant: "float32", "float16", "dynamic", "int8", "uint8" (TFLite),
            "opset17", "opset17-int8" (ONNX).
        path: Relative to the export folder.
        size_bytes: On disk (a folder: all its files).
        parity: Parity with Keras, or None when not verified.
        ops: Distinct operator names (TFLite and ONNX).
        gpu_delegate_unsupported: TFLite ops the GPU delegate would leave to
            the CPU (empty: the whole model runs on the GPU delegate).
        export_time_s: Conversion and writing, verification excluded.
        verify_time_s: Running it in its runtime and comparing with Keras.
        micro: For the micro format: `flash_bytes` and `arena_bytes`.
    """

    format: str
    variant: str
    path: str
    size_bytes: int = 0
    parity: object = None
    ops: list = field(default_factory=list)
    gpu_delegate_unsupported: list | None = None
    export_time_s: float = 0.0
    verify_time_s: float = 0.0
    micro: dict | None = None

    @property
    def gpu_delegate_compatible(self) -> bool | None:
        if self.gpu_delegate_unsupported is None:
            return None
        return not self.gpu_delegate_unsupported

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "variant": self.variant,
            "path": self.path,
            "size_bytes": self.size_bytes,
            "parity": self.parity.to_dict() if self.parity is not None else None,
            "ops": self.ops,
            "gpu_delegate_compatible": self.gpu_delegate_compatible,
            "gpu_delegate_unsupported": self.gpu_delegate_unsupported,
            "export_time_s": round(self.export_time_s, 3),
            "verify_time_s": round(self.verify_time_s, 3),
            **({"micro": self.micro} if self.micro else {}),
        }


@dataclass
class ExportReport:
    """What `export_model` wrote, and how each artifact compares with Keras."""

    out_dir: str
    metadata: dict
    keras_parameters: int
    artifacts: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "out_dir": self.out_dir,
            "model": self.metadata["model"],
            "source": self.metadata["source"],
            "fingerprint": self.metadata["fingerprint"],
            "parameters": self.keras_parameters,
            "artifacts": [artifact.to_dict() for artifact in self.artifacts],
        }

    def __str__(self) -> str:
        header = ("artifact", "size", "max |diff|", "top-1 agree", "GPU delegate", "time")
        rows = [header]
        for a in self.artifacts:
            p = a.parity
            gpu = {None: "-", True: "all ops"}.get(
                a.gpu_delegate_compatible, f"no: {', '.join(a.gpu_delegate_unsupported or [])}"
            )
            rows.append(
                (
                    a.path,
                    _size(a.size_bytes),
                    "-" if p is None else f"{p.max_abs_diff:.2e}",
                    "-" if p is None else f"{100 * p.top1_agreement:.1f}% of {p.samples}",
                    gpu,
                    f"{a.export_time_s:.1f} s",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [
            f"{self.metadata['source']} ({self.metadata['model']}, "
            f"{self.keras_parameters:,} parameters) -> {self.out_dir}"
        ]
        for k, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * width for width in widths))
        for a in self.artifacts:
            if a.micro:
                lines.append(
                    f"{a.path}: {a.micro['flash_bytes']:,} bytes of flash, a tensor arena of "
                    f"{a.micro['arena_bytes']:,} bytes (TFLite Micro)"
                )
        return "\n".join(lines)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024**2:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024**2:.1f} MB"


class Progress:
    """Numbered steps on standard error: `[2/5] TFLite int8 ... 3.1 s`."""

    def __init__(self, total: int, enabled: bool = True, stream=None):
        self.total, self.enabled, self.done = total, enabled, 0
        self.stream = stream or sys.stderr

    def step(self, text: str):
        return _Step(self, text)


class _Step:
    def __init__(self, progress: Progress, text: str):
        self.progress, self.text = progress, text

    def __enter__(self):
        self.progress.done += 1
        self.start = time.perf_counter()
        if self.progress.enabled:
            prefix = f"[{self.progress.done}/{self.progress.total}]"
            print(f"{prefix} {self.text} ...", end="", file=self.progress.stream, flush=True)
        return self

    def __exit__(self, kind, error, traceback):
        self.seconds = time.perf_counter() - self.start
        if self.progress.enabled:
            outcome = "failed" if kind else f"{self.seconds:.1f} s"
            print(f" {outcome}", file=self.progress.stream, flush=True)
        return False
