"""Measures distillation on user-sized tasks: a few labelled photos, many
unlabelled ones, a large fine-tuned teacher and small students.

Two tasks, each built from a data set's files into folders a user would
have (a labelled folder with `train/` and `test/`, an unlabelled folder
with no class folders; the test photos are never trained on):

- `cifar5`: CIFAR-10's airplane, automobile, ship, truck and frog (the JPEG
  copy); 50 labelled training photos a class, the next 1,000 a class
  unlabelled, the whole test split of those classes (5,000) to measure.
  Teacher `minivgg_m.cifar10`; students `resnet8.cifar10`, `minivgg_s.cifar10`.
- `shoes`: Fashion-MNIST's sandal, sneaker and ankle boot; 60 labelled a
  class, the next 1,000 a class unlabelled, their whole test split (3,000).
  Teacher `minivgg_s.fashion_mnist`; student `tinyvgg_8k_full.mnist`.

The teacher is the preset fine-tuned (`two_stage`) on the labelled photos;
each student is measured three ways on the same labels: distilled from the
teacher with the unlabelled photos, fine-tuned alone (`two_stage`), and
from scratch (`scratch`). Results go to `zoo/distillation/<task>.json`.

Usage (from the repository root):

    tar -xzf ../shared/datasets/cifar10-jpg/CIFAR-10-images.tar.gz
    python zoo/distill.py cifar5 --source CIFAR-10-images --work runs/distill_cifar5
    python zoo/distill.py shoes --source ../shared/datasets/fashion-mnist \\
        --work runs/distill_shoes
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

from kerascnn import atomic_files
from kerascnn.data.folder_source import image_files
from kerascnn.zoo import distill, finetune
from kerascnn.zoo.recipe import load_distill_recipe

TASKS = {
    "cifar5": {
        "classes": ("airplane", "automobile", "ship", "truck", "frog"),
        "labelled": 50,
        "unlabelled": 1000,
        "teacher": "minivgg_m.cifar10",
        "students": ("resnet8.cifar10", "minivgg_s.cifar10"),
        "augment": "flip,crop",
    },
    "shoes": {
        # Fashion-MNIST's label numbers of its three shoe classes.
        "classes": {"Sandal": 5, "Sneaker": 7, "Ankle boot": 9},
        "labelled": 60,
        "unlabelled": 1000,
        "teacher": "minivgg_s.fashion_mnist",
        "students": ("tinyvgg_8k_full.mnist",),
        "augment": "crop",
    },
}
RESULTS = Path(__file__).parent / "distillation"


def _link(photo: Path, to: Path) -> None:
    to.parent.mkdir(parents=True, exist_ok=True)
    to.symlink_to(photo.resolve())


def cifar_folders(source: Path, into: Path, task: dict) -> None:
    """Symbolic links into the JPEG copy: labelled train/test, and unlabelled."""
    count = 0
    for name in task["classes"]:
        photos = [Path(p) for p in image_files(source / "train" / name)]
        for photo in photos[: task["labelled"]]:
            _link(photo, into / "labelled" / "train" / name / photo.name)
        for photo in (Path(p) for p in image_files(source / "test" / name)):
            _link(photo, into / "labelled" / "test" / name / photo.name)
        for photo in photos[task["labelled"] : task["labelled"] + task["unlabelled"]]:
            _link(photo, into / "unlabelled" / f"{count:05d}.jpg")  # says nothing of the class
            count += 1


def _idx(path: Path) -> np.ndarray:
    data = gzip.decompress(path.read_bytes())
    dims = np.frombuffer(data[4 : 4 + 4 * data[3]], dtype=">u4")
    return np.frombuffer(data[4 + 4 * data[3] :], dtype=np.uint8).reshape(dims)


def idx_folders(source: Path, into: Path, task: dict) -> None:
    """PNGs from the original idx files: labelled train/test, and unlabelled."""
    from PIL import Image

    splits = {
        split: (_idx(source / f"{prefix}-images-idx3-ubyte.gz"),
                _idx(source / f"{prefix}-labels-idx1-ubyte.gz"))
        for split, prefix in (("train", "train"), ("test", "t10k"))
    }  # fmt: skip
    count = 0
    for name, label in task["classes"].items():
        for split, (images, labels) in splits.items():
            indices = np.flatnonzero(labels == label)
            chosen = indices[: task["labelled"]] if split == "train" else indices
            (into / "labelled" / split / name).mkdir(parents=True)
            for index in chosen:
                Image.fromarray(images[index]).save(
                    into / "labelled" / split / name / f"{index}.png"
                )
            if split == "train":
                (into / "unlabelled").mkdir(exist_ok=True)
                for index in indices[task["labelled"] : task["labelled"] + task["unlabelled"]]:
                    Image.fromarray(images[index]).save(into / "unlabelled" / f"{count:05d}.png")
                    count += 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--source", type=Path, required=True, help="the data set's files")
    parser.add_argument("--work", type=Path, required=True, help="a folder for the runs")
    parser.add_argument("--epochs", type=int, default=30, help="distillation epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    task = TASKS[args.task]
    folders = args.work / "task"
    if not folders.exists():
        (cifar_folders if args.task == "cifar5" else idx_folders)(args.source, folders, task)
    data = folders / "labelled"
    results_path = RESULTS / f"{args.task}.json"
    results = (
        json.loads(results_path.read_text())
        if results_path.is_file()
        else {"task": args.task, **{k: v for k, v in task.items() if k != "classes"},
              "classes": list(task["classes"]), "seed": args.seed, "runs": {}}
    )  # fmt: skip

    def run(name, job):
        if name in results["runs"]:
            print(f"{name}: measured before", flush=True)
            return
        started = time.perf_counter()
        result = job()
        results["runs"][name] = {
            "test_accuracy": result.test_report.accuracy,
            "test_examples": result.test_report.examples,
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"{name}: {100 * result.test_report.accuracy:.2f}%", flush=True)
        atomic_files.write_json(results_path, results)

    teacher_dir = args.work / "teacher"
    run(
        f"teacher {task['teacher']} two_stage",
        lambda: finetune(
            task["teacher"], data, teacher_dir, "two_stage", seed=args.seed, verbose=0
        ),
    )
    for student in task["students"]:
        for recipe in ("two_stage", "scratch"):
            run(
                f"{student} {recipe}",
                lambda student=student, recipe=recipe: finetune(
                    student, data, args.work / f"{student}_{recipe}", recipe, seed=args.seed,
                    verbose=0,
                ),
            )  # fmt: skip
        run(
            f"{student} distilled",
            lambda student=student: distill(
                teacher_dir, student, data, args.work / f"{student}_distilled",
                recipe=load_distill_recipe("few_labels").with_settings(epochs=args.epochs),
                seed=args.seed,
                data_config={"unlabeled": folders / "unlabelled", "augment": task["augment"],
                             "validation_split": 0.0},
                verbose=2,
            ),
        )  # fmt: skip
    json.dump(results, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
