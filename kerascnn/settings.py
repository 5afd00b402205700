"""Settings read from the environment."""

from __future__ import annotations

import os

OFFLINE_VARIABLE = "KERASCNN_OFFLINE"


def offline() -> bool:
    """True when `KERASCNN_OFFLINE` forbids network access (1, true, yes)."""
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes")
