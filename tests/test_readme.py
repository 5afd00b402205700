"""The README's journey, run as written: its command-line block and its
Python block, on a user's folder, give the same model and class names."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT


def _block(language: str) -> str:
    """The code block the README marks `<!-- journey: LANGUAGE -->`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- journey: {language} -->\n```{language}\n(.*?)```", text, re.S)
    assert match, f"README.md has no journey block for {language}"
    return match.group(1)


@pytest.mark.slow
def test_the_readme_journey_runs_the_same_in_python_and_on_the_command_line(
    cifar10_folder, tmp_path, monkeypatch
):
    import kerascnn

    for name, source in (("animal", "deer"), ("vehicle", "automobile")):
        (tmp_path / "mine" / name).mkdir(parents=True)
        for photo in sorted((cifar10_folder / "train" / source).glob("*.jpg"))[:20]:
            shutil.copy(photo, tmp_path / "mine" / name / photo.name)
    truck = sorted((cifar10_folder / "test" / "truck").glob("*.jpg"))[0]
    shutil.copy(truck, tmp_path / "truck.jpg")
    (tmp_path / "export").symlink_to(ROOT / "export")
    bin_dir = os.path.dirname(sys.executable)  # the `kerascnn` and `python` of this venv
    environment = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    printed = subprocess.run(
        ["bash", "-e", "-c", _block("bash")], cwd=tmp_path, env=environment,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr[-3000:]
    assert printed.stdout.splitlines()[-2].split("\t")[0] == "vehicle"
    assert printed.stdout.splitlines()[-3:-2] == ["vehicle"]  # labels.txt's last line

    monkeypatch.chdir(tmp_path)
    exec(compile(_block("python"), "README.md", "exec"), {})
    by_command, in_python = (kerascnn.load(tmp_path / "runs" / r) for r in ("ft", "py"))
    assert in_python.class_names == by_command.class_names == ["animal", "vehicle"]
    # The command turns on TensorFlow's oneDNN kernels (kerascnn.settings.
    # prefer_onednn), which round float32 sums differently from a Python
    # session's defaults: the same training, to float32 rounding.
    for a, b in zip(by_command.get_weights(), in_python.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    labels = (tmp_path / "py_export" / "labels.txt").read_text(encoding="utf-8")
    assert labels.splitlines() == ["animal", "vehicle"]
