"""Keeps TensorFlow's native start-up logs off the command line's stderr.

TF 2.21 writes lines such as `WARNING: All log messages before
absl::InitializeLog() ...` and `I0000 ... cudart_stub.cc:31] Could not find
cuda drivers` from C++ before its logging is configured, so
`TF_CPP_MIN_LOG_LEVEL` does not reach them (measured: with it at 3, two
such pairs remain). `filtered()` routes the process's stderr (file
descriptor 2) through a thread that drops exactly those lines and passes
everything else on at once, progress bars included.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading

# Native log lines: absl's pre-init notice, glog-style "I0000 00:00:17... file.cc:31] ..."
# info and warning lines, the "no GPU here" error of a CPU-only machine, and
# the CPU-feature notice's second line.
_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IW]\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.]+:\d+\] "
    rb"|E\d{4} \d\d:\d\d:[\d.]+\s+\d+ cuda_platform\.cc:\d+\] failed call to cuInit"
    rb"|To enable the following instructions: .* rebuild TensorFlow"
    # LiteRT and its converter print these on every run, not through logging.
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    rb"|fully_quantize: \d+, inference_type: \d+, input_inference_type: )"
)
# A partial line that may still become a noise line waits for its newline.
_NOISE_STARTS = (b"WARNING: All log", b"To enable the", b"INFO: Created", b"fully_quantize:")
_GLOG_START = re.compile(rb"^[IWE]\d{0,4}( |$)")


def _maybe_noise(partial: bytes) -> bool:
    return bool(_GLOG_START.match(partial)) or any(
        start.startswith(partial) or partial.startswith(start) for start in _NOISE_STARTS
    )


def _forward(read_fd: int, write_fd: int) -> None:
    pending = b""
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        out = b"".join(line + b"\n" for line in lines if not _NOISE.match(line))
        if pending and not _maybe_noise(pending):
            out, pending = out + pending, b""
        if out:
            os.write(write_fd, out)
    if pending and not _NOISE.match(pending):
        os.write(write_fd, pending)


@contextlib.contextmanager
def filtered(enabled: bool = True):
    """Within the block, TensorFlow's native start-up lines are dropped from
    stderr; with `enabled=False` nothing changes.

    Example:
    >>> with filtered():
    ...     import tensorflow  # no "cudart_stub.cc" lines
    """
    if not enabled:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the lines after start-up
    sys.stderr.flush()
    original = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    thread = threading.Thread(target=_forward, args=(read_fd, original), daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last write end: the thread drains and ends
        thread.join(timeout=5)
        os.close(read_fd)
        os.close(original)
