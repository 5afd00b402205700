"""Training and evaluation runs (imported on their own: they need TensorFlow)."""

from kerascnn.training.config import TrainConfig
from kerascnn.training.evaluation import EvaluationReport, evaluate
from kerascnn.training.run import TrainingDiverged, TrainResult, train

__all__ = [
    "EvaluationReport",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "evaluate",
    "train",
]
