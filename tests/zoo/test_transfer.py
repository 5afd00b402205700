"""zoo/transfer.py (fine-tuning vs scratch, over seeds) and the card section it feeds."""

import importlib.util
import json

import numpy as np
import pytest
from PIL import Image

from kerascnn.zoo.cards import _transfer_section
from tests.conftest import ROOT, read_idx, shared


@pytest.fixture(scope="module")
def transfer_script():
    spec = importlib.util.spec_from_file_location("zoo_transfer", ROOT / "zoo" / "transfer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _touch_images(folder, count):
    folder.mkdir(parents=True)
    for number in range(count):
        (folder / f"{number:02d}.png").write_bytes(b"")


def test_few_shot_from_test_takes_the_first_images_by_name(tmp_path, transfer_script):
    _touch_images(tmp_path / "src" / "test" / "cat", 5)
    _touch_images(tmp_path / "src" / "test" / "dog", 4)
    (tmp_path / "src" / "test" / "dog" / "notes.txt").write_text("not an image")

    transfer_script.few_shot_from_test(tmp_path / "src", 2, tmp_path / "out")

    listing = {
        split: {
            cls: sorted(p.name for p in (tmp_path / "out" / split / cls).iterdir())
            for cls in ("cat", "dog")
        }
        for split in ("train", "test")
    }
    assert listing["train"] == {"cat": ["00.png", "01.png"], "dog": ["00.png", "01.png"]}
    assert listing["test"] == {"cat": ["02.png", "03.png", "04.png"], "dog": ["02.png", "03.png"]}
    link = tmp_path / "out" / "test" / "cat" / "04.png"
    assert link.is_symlink()
    assert link.resolve() == (tmp_path / "src" / "test" / "cat" / "04.png").resolve()


def test_few_shot_from_test_refuses_a_class_with_nothing_left_to_test(tmp_path, transfer_script):
    _touch_images(tmp_path / "src" / "test" / "cat", 5)
    _touch_images(tmp_path / "src" / "test" / "dog", 2)
    with pytest.raises(SystemExit, match="dog has 2 images"):
        transfer_script.few_shot_from_test(tmp_path / "src", 2, tmp_path / "out")
    with pytest.raises(SystemExit, match="test/<class>/"):
        transfer_script.few_shot_from_test(tmp_path / "nowhere", 2, tmp_path / "out2")


def test_card_reports_the_mean_each_seed_and_paired_wins():
    def result(*accuracies):
        runs = [
            {"seed": s, "test_accuracy": a, "wall_time_s": 10.0} for s, a in enumerate(accuracies)
        ]
        return {
            "test_accuracy": float(np.mean(accuracies)),
            "epochs": 30,
            "wall_time_s": 10.0,
            "runs": runs,
        }

    transfer = {
        "setting": "Fine-tuned on somewhere",
        "test_examples": 1000,
        "results": {
            "scratch": result(0.90, 0.92),
            "linear_probe": result(0.80, 0.81),
            "two_stage": result(0.95, 0.91),
        },
        "command": "python zoo/transfer.py x",
    }
    text = "\n".join(_transfer_section(transfer))
    assert "the mean of 2 seeds" in text
    assert "| `scratch` | 91.00% | 90.00% / 92.00% | 30 | 10 s |" in text
    # two_stage: mean 93% vs 91%; it wins with seed 0 (95 > 90), loses with seed 1 (91 < 92).
    assert "`two_stage`, is 2.00 points above training from scratch" in text
    assert "beats scratch with 1 of 2 seeds" in text


@pytest.mark.slow
def test_transfer_script_measures_every_recipe_and_seed(tmp_path, transfer_script):
    """End to end on real MNIST digits in a folder, split from its test part."""
    images = read_idx(shared("mnist") / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(shared("mnist") / "t10k-labels-idx1-ubyte.gz")
    data = tmp_path / "digits"
    for digit in ("3", "7"):
        folder = data / "test" / digit
        folder.mkdir(parents=True)
        for number, index in enumerate(np.flatnonzero(labels == int(digit))[:10]):
            Image.fromarray(images[index]).save(folder / f"{number:02d}.png")

    transfer_script.main(
        [
            "lenet5.mnist",
            "--data",
            str(data),
            "--per-class",
            "4",
            "--few-shot-from",
            "test",
            "--seeds",
            "0,1",
            "--recipes",
            "scratch,linear_probe",
            "--zoo",
            str(tmp_path / "zoo"),
        ]
    )

    transfer = json.loads((tmp_path / "zoo" / "lenet5.mnist" / "transfer.json").read_text())
    assert transfer["test_examples"] == 2 * (10 - 4)
    assert (
        "4 labelled images per class (8 images, the first of each class in its test split)"
        in (transfer["setting"])
    )
    assert list(transfer["results"]) == ["scratch", "linear_probe"]
    for result in transfer["results"].values():
        assert [run["seed"] for run in result["runs"]] == [0, 1]
        accuracies = [run["test_accuracy"] for run in result["runs"]]
        # Accuracies over 12 test images are multiples of 1/12.
        assert all(abs(12 * a - round(12 * a)) < 1e-6 for a in accuracies)
        assert result["test_accuracy"] == pytest.approx(np.mean(accuracies))
        assert result["epochs"] == 30
    # lenet5.mnist already reads digits: its features separate 3s from 7s.
    assert min(r["test_accuracy"] for r in transfer["results"]["linear_probe"]["runs"]) >= 0.9
    assert "--few-shot-from test" in transfer["command"]
