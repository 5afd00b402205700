"""Small specs and commands shared by the training tests."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALL_SPEC = {
    "name": "small",
    "blocks": [{"filters": 8, "kernel_size": 5}, {"filters": 16}],
    "head": {"dense": [32]},
}


def write_spec(tmp_path) -> str:
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SMALL_SPEC))
    return str(path)


def kerascnn_command(*args) -> list[str]:
    return [sys.executable, "-m", "kerascnn", *map(str, args)]


def run_kerascnn(*args, env=None, timeout=300):
    return subprocess.run(
        kerascnn_command(*args),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
