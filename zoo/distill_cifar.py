"""Measures distillation on a user-sized CIFAR-10 task: a few labelled photos,
many unlabelled ones, a large fine-tuned teacher and small students.

The task: CIFAR-10's airplane, automobile, ship, truck and frog; the first
50 training photos of each class are labelled, the next 1,000 of each lose
their labels (one folder, no class folders); the whole test split of those
classes (5,000 photos, never trained on) measures. The teacher is
`minivgg_m.cifar10` fine-tuned on the 250 labelled photos; each student is
measured three ways, each on the same 250 labels: distilled from the
teacher (with the unlabelled photos), fine-tuned alone, and from scratch.
The results go to `zoo/distillation/cifar10_5.json`.

Usage (from the repository root, with the JPEG copy unpacked):

    tar -xzf ../shared/datasets/cifar10-jpg/CIFAR-10-images.tar.gz
    python zoo/distill_cifar.py CIFAR-10-images --work runs/distill_cifar
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kerascnn import atomic_files
from kerascnn.data.folder_source import image_files
from kerascnn.training import TrainConfig
from kerascnn.training.config import DistillConfig
from kerascnn.zoo import distill, finetune

CLASSES = ("airplane", "automobile", "ship", "truck", "frog")
TEACHER = "minivgg_m.cifar10"
STUDENTS = ("resnet8.cifar10", "minivgg_s.cifar10")
RESULTS = Path(__file__).parent / "distillation" / "cifar10_5.json"


def make_task(root: Path, into: Path, labelled: int, unlabelled: int) -> None:
    """`into/labelled/{train,test}/<class>/` and `into/unlabelled/` (symbolic links)."""
    (into / "unlabelled").mkdir(parents=True)
    count = 0
    for name in CLASSES:
        photos = [Path(p) for p in image_files(root / "train" / name)]
        tests = [Path(p) for p in image_files(root / "test" / name)]
        for split, chosen in (("train", photos[:labelled]), ("test", tests)):
            (into / "labelled" / split / name).mkdir(parents=True)
            for photo in chosen:
                (into / "labelled" / split / name / photo.name).symlink_to(photo.resolve())
        for photo in photos[labelled : labelled + unlabelled]:
            # One folder, names that say nothing of the class.
            (into / "unlabelled" / f"{count:05d}.jpg").symlink_to(photo.resolve())
            count += 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cifar10", type=Path, help="the unpacked CIFAR-10-images folder")
    parser.add_argument("--work", type=Path, required=True, help="a new folder for the runs")
    parser.add_argument("--epochs", type=int, default=30, help="distillation epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--labelled", type=int, default=50)
    parser.add_argument("--unlabelled", type=int, default=1000)
    args = parser.parse_args(argv)
    task = args.work / "task"
    if not task.exists():
        make_task(args.cifar10, task, args.labelled, args.unlabelled)
    data = task / "labelled"
    results = {"classes": list(CLASSES), "labelled_per_class": args.labelled,
               "unlabelled_per_class": args.unlabelled, "seed": args.seed, "runs": {}}  # fmt: skip

    def record(name, result, started):
        results["runs"][name] = {
            "test_accuracy": result.test_report.accuracy,
            "test_examples": result.test_report.examples,
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"{name}: {100 * result.test_report.accuracy:.2f}%", flush=True)
        atomic_files.write_json(RESULTS, results)

    started = time.perf_counter()
    teacher = finetune(TEACHER, data, args.work / "teacher", "two_stage", seed=args.seed, verbose=0)
    record(f"teacher {TEACHER} two_stage", teacher, started)
    for student in STUDENTS:
        for recipe in ("two_stage", "scratch"):
            started = time.perf_counter()
            result = finetune(
                student, data, args.work / f"{student}_{recipe}", recipe, seed=args.seed, verbose=0
            )
            record(f"{student} {recipe}", result, started)
        started = time.perf_counter()
        result = distill(
            args.work / "teacher", student, data, args.work / f"{student}_distilled",
            TrainConfig(epochs=args.epochs, learning_rate=3e-3, seed=args.seed),
            DistillConfig(),
            data_config={"unlabeled": task / "unlabelled", "augment": "flip,crop",
                         "validation_split": 0.0},
            verbose=2,
        )  # fmt: skip
        record(f"{student} distilled", result, started)
    json.dump(results, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
