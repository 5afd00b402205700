"""`kerascnn inspect` writes the pictures and a page that a real browser shows."""

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from kerascnn.cli import main
from tests.conftest import read_idx, shared


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("needs headless Chromium (Debian: apt install chromium; .ci/run installs it)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """`kerascnn inspect lenet5.mnist` on a real MNIST test digit (a 7)."""
    folder = shared("mnist")
    digit = read_idx(folder / "t10k-images-idx3-ubyte.gz")[0]
    assert read_idx(folder / "t10k-labels-idx1-ubyte.gz")[0] == 7
    root = tmp_path_factory.mktemp("inspect")
    Image.fromarray(digit).save(root / "digit.png")
    assert (
        main(["inspect", "lenet5.mnist", str(root / "digit.png"), "--out", str(root / "out")]) == 0
    )
    return root / "out"


def test_inspect_writes_every_picture_and_the_prediction(report):
    summary = json.loads((report / "inspection.json").read_text())
    assert summary["model"] == "lenet5.mnist"
    assert summary["prediction"][0][0] == "7" and summary["prediction"][0][1] > 0.9
    assert set(summary["pictures"].values()) == {
        "steps.png",
        "feature_maps.png",
        "filters_block1_conv1.png",
        "filters_block2_conv1.png",
        "grad_cam.png",
    }
    for file in summary["pictures"].values():
        with Image.open(report / file) as picture:
            assert picture.format == "PNG" and min(picture.size) > 100
    assert 0 < summary["statistics"]["block1_relu1"]["sparsity"] < 1


def test_the_page_loads_in_headless_chromium_with_every_image_shown(report, tmp_path):
    chromium = _chromium()
    url = (report / "index.html").resolve().as_uri()
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run(
        [*common, "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Prediction: <strong>7</strong>" in dom.stdout
    # The page's own script counts the images the browser decoded and laid out.
    assert 'data-images-shown="5/5"' in dom.stdout

    shot = tmp_path / "page.png"
    result = subprocess.run(
        [*common, "--window-size=1200,1600", f"--screenshot={shot}", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float32)
    assert pixels.shape[:2] == (1600, 1200)
    # Not blank: plenty of ink and colour, not one flat background.
    assert pixels.std() > 20
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200
