"""Fine-tuning recipes as data: a JSON file of stages, parsed and validated.

A recipe says which part of a network learns in each stage ("head": the
classifier; "fc": every fully connected layer; "all") and how (a
`TrainConfig`), and may first reset weights (`"reset": "fc"` or `"all"`).
The built-in ones live in `kerascnn/zoo/recipes/`. Reading them needs no
Keras: `kerascnn.zoo.finetuning` runs them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kerascnn.options import stage_fields
from kerascnn.training.config import TrainConfig
from kerascnn.zoo.registry import ZooError

RECIPES_DIR = Path(__file__).parent / "recipes"
PARTS = ("head", "fc", "all")
RESETS = ("fc", "all")
# A stage names itself and what learns; the rest are the training settings
# declared to be a stage's (`TrainConfig`'s `option(..., stage=True)`).
_STAGE_FIELDS = ("name", "train", *stage_fields(TrainConfig))


@dataclass(frozen=True)
class Stage:
    """One stage of a recipe: which part learns, and the training config."""

    name: str
    train: str
    config: TrainConfig


@dataclass(frozen=True)
class Recipe:
    """A named fine-tuning recipe."""

    name: str
    description: str
    stages: tuple
    reset: str | None = None

    @property
    def epochs(self) -> int:
        return sum(stage.config.epochs for stage in self.stages)


def list_recipes() -> list[str]:
    """The built-in recipe names."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.json"))


def load_recipe(
    name_or_path: str | Path, *, seed: int | None = None, class_weight: str | None = None
) -> Recipe:
    """A built-in recipe by name, or a recipe JSON file.

    Args:
        name_or_path: "linear_probe", "full", "two_stage", "scratch", or a
            path to a JSON file of the same form.
        seed: Seed of every stage (None: not reproducible, but faster).
        class_weight: Class weighting of every stage (`TrainConfig.class_weight`).
    """
    path = Path(name_or_path)
    if not path.is_file():
        path = RECIPES_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise ZooError(
            f"Unknown fine-tuning recipe '{name_or_path}'. Built-in recipes: "
            f"{', '.join(list_recipes())}; or give the path of a recipe JSON file."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        stages = data["stages"]
    except (ValueError, KeyError) as error:
        raise ZooError(f"Recipe '{path}' is not valid: {error!r}") from None
    reset = data.get("reset")
    if reset is not None and reset not in RESETS:
        raise ZooError(
            f"recipe '{path.stem}': `reset` must be 'fc' (fresh fully connected layers), "
            f"'all' (fresh weights everywhere) or absent. Received: reset={reset!r}"
        )
    parsed = []
    for number, stage in enumerate(stages, start=1):
        where = f"recipe '{path.stem}' stage {number}"
        unknown = sorted(set(stage) - set(_STAGE_FIELDS))
        if unknown:
            raise ZooError(
                f"{where}: unknown field(s) {', '.join(unknown)}. Valid: {', '.join(_STAGE_FIELDS)}"
            )
        part = stage.get("train", "all")
        if part not in PARTS:
            raise ZooError(
                f"{where}: `train` must be 'head', 'fc' or 'all'. Received: train={part!r}"
            )
        options = {k: v for k, v in stage.items() if k not in ("name", "train")}
        try:
            config = TrainConfig(**options, seed=seed, class_weight=class_weight)
        except ValueError as error:
            raise ZooError(f"{where}: {error}") from None
        parsed.append(Stage(name=stage.get("name", f"stage{number}"), train=part, config=config))
    if not parsed:
        raise ZooError(f"Recipe '{path}' has no stages.")
    return Recipe(
        name=path.stem,
        description=data.get("description", ""),
        stages=tuple(parsed),
        reset=reset,
    )
