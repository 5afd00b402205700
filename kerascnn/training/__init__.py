"""Training and evaluation runs (imported on their own: they need TensorFlow)."""

from kerascnn.training.config import TrainConfig
from kerascnn.training.evaluate import EvaluationReport, evaluate
from kerascnn.training.train import TrainingDiverged, TrainResult, train

__all__ = [
    "EvaluationReport",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "evaluate",
    "train",
]
