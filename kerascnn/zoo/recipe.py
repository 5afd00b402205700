"""Fine-tuning and distillation recipes as data: JSON files, parsed and validated.

A fine-tuning recipe says which part of a network learns in each stage
("head": the classifier; "fc": every fully connected layer; "all") and how
(a `TrainConfig`), and may first reset weights (`"reset": "fc"` or
`"all"`). A distillation recipe is one `TrainConfig` and one
`DistillConfig`. The built-in ones live in `kerascnn/zoo/recipes/` and
`kerascnn/zoo/recipes/distill/`. Reading them needs no Keras:
`kerascnn.zoo.finetuning` and `kerascnn.zoo.distillation` run them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kerascnn.options import stage_fields
from kerascnn.training.config import DistillConfig, TrainConfig
from kerascnn.zoo.registry import ZooError

RECIPES_DIR = Path(__file__).parent / "recipes"
DISTILL_RECIPES_DIR = RECIPES_DIR / "distill"
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


def _recipe_file(name_or_path, folder: Path, kind: str) -> Path:
    """A recipe JSON file: the path given, or the built-in one of that name."""
    path = Path(name_or_path)
    if not path.is_file():
        path = folder / f"{name_or_path}.json"
    if not path.is_file():
        built_in = sorted(p.stem for p in folder.glob("*.json"))
        raise ZooError(
            f"Unknown {kind} recipe '{name_or_path}'. Built-in recipes: "
            f"{', '.join(built_in)}; or give the path of a recipe JSON file."
        )
    return path


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
    path = _recipe_file(name_or_path, RECIPES_DIR, "fine-tuning")
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


@dataclass(frozen=True)
class DistillRecipe:
    """A named distillation recipe: how the student trains and learns from the teacher."""

    name: str
    description: str
    config: TrainConfig
    distill: DistillConfig

    def with_settings(self, **settings) -> DistillRecipe:
        """The recipe with some of its settings replaced (a `TrainConfig` or
        `DistillConfig` field each, as `kerascnn distill`'s flags give them)."""
        ours = set(DistillConfig.__dataclass_fields__)
        try:
            return DistillRecipe(
                self.name,
                self.description,
                self.config.replace(**{k: v for k, v in settings.items() if k not in ours}),
                self.distill.replace(**{k: v for k, v in settings.items() if k in ours}),
            )
        except TypeError as error:
            raise ZooError(f"Not a distillation setting: {error}") from None


def list_distill_recipes() -> list[str]:
    """The built-in distillation recipe names."""
    return sorted(p.stem for p in DISTILL_RECIPES_DIR.glob("*.json"))


def load_distill_recipe(name_or_path: str | Path) -> DistillRecipe:
    """A built-in distillation recipe by name, or a JSON file of the same form.

    Args:
        name_or_path: "few_labels" (a few labelled images and many
            unlabelled ones), "full_labels" (a whole labelled data set), or
            the path of a JSON file: `{"description": ..., "training":
            {TrainConfig stage fields}, "distill": {"temperature": ...,
            "student_loss_weight": ...}}`.

    Example:
    >>> load_distill_recipe("few_labels").distill.temperature
    4.0
    """
    path = _recipe_file(name_or_path, DISTILL_RECIPES_DIR, "distillation")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        training, distill = dict(data["training"]), dict(data.get("distill", {}))
    except (ValueError, KeyError, TypeError) as error:
        raise ZooError(f"Recipe '{path}' is not valid: {error!r}") from None
    unknown = sorted(set(training) - set(stage_fields(TrainConfig))) + sorted(
        set(distill) - set(DistillConfig.__dataclass_fields__)
    )
    if unknown:
        raise ZooError(
            f"recipe '{path.stem}': unknown field(s) {', '.join(unknown)}. Valid in "
            f'"training": {", ".join(stage_fields(TrainConfig))}; in "distill": '
            f"{', '.join(DistillConfig.__dataclass_fields__)}"
        )
    try:
        config, distill_config = TrainConfig(**training), DistillConfig(**distill)
    except ValueError as error:
        raise ZooError(f"recipe '{path.stem}': {error}") from None
    return DistillRecipe(path.stem, data.get("description", ""), config, distill_config)
