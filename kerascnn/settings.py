"""Settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_VARIABLE = "KERASCNN_OFFLINE"
HOME_VARIABLE = "KERASCNN_HOME"


def offline() -> bool:
    """True when `KERASCNN_OFFLINE` forbids network access (1, true, yes)."""
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def home() -> Path:
    """kerascnn's own folder (the preset cache): `KERASCNN_HOME`, or ~/.kerascnn."""
    configured = os.environ.get(HOME_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".kerascnn"
