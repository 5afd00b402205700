"""The wheel, installed as a user installs it: not editable, away from the source tree."""

import json
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Run inside the fresh venv: where kerascnn is imported from, every preset
# loaded offline from the installed files, and one exported.
CHECK = textwrap.dedent(
    """
    import json, sys
    import kerascnn
    from kerascnn.zoo import create_model, list_models
    from kerascnn.export import export_model

    presets = list_models(pretrained=True)
    names = {name: create_model(name).class_names[:2] for name in presets}
    model = create_model("lenet5.mnist")
    report = export_model(model, sys.argv[1], formats="tflite,onnx", progress=False)
    print(json.dumps({
        "kerascnn": kerascnn.__file__,
        "presets": names,
        "artifacts": [a.path for a in report.artifacts],
    }))
    """
)


@pytest.mark.slow
def test_the_wheel_installs_and_serves_every_preset_offline(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(ROOT), "-w", wheels],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("kerascnn-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    # The dependencies come from this environment's site-packages, as a plain
    # path entry: its .pth files (the editable install's finder) are not run.
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [python, "-c", CHECK, str(work / "export")],
        cwd=work,
        capture_output=True,
        text=True,
        env={"KERASCNN_OFFLINE": "1", "KERASCNN_HOME": str(tmp_path / "home"), "HOME": str(work)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(found["kerascnn"]).is_relative_to(site), found["kerascnn"]
    # Every preset of the source tree, with the class names its files record.
    presets = sorted((ROOT / "kerascnn" / "zoo" / "presets").glob("*/metadata.json"))
    assert len(presets) >= 7
    assert found["presets"] == {
        path.parent.name: json.loads(path.read_text())["class_names"][:2] for path in presets
    }
    assert found["artifacts"] == ["model.tflite", "model.opset17.onnx"]
    assert (work / "export" / "model.tflite").stat().st_size > 0
