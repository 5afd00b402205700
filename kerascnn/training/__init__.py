"""Training and evaluation runs.

Names import lazily: `TrainConfig` (plain data) loads no TensorFlow, so the
command line can describe its options before anything heavy loads.
"""

import importlib

_EXPORTS = {
    "EvaluationReport": "kerascnn.training.evaluation",
    "evaluate": "kerascnn.training.evaluation",
    "TrainConfig": "kerascnn.training.config",
    "TrainResult": "kerascnn.training.run",
    "train": "kerascnn.training.run",
    "TrainingDiverged": "kerascnn.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kerascnn.training' has no attribute {name!r}")
