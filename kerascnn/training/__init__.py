"""Training and evaluation runs.

Names import lazily: `TrainConfig` (plain data) loads no TensorFlow, so the
command line can describe its options before anything heavy loads.
"""

from kerascnn._lazy import lazy_getattr

_EXPORTS = {
    "EvaluationReport": "kerascnn.training.evaluation",
    "evaluate": "kerascnn.training.evaluation",
    "TrainConfig": "kerascnn.training.config",
    "TrainResult": "kerascnn.training.run",
    "train": "kerascnn.training.run",
    "TrainingDiverged": "kerascnn.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
