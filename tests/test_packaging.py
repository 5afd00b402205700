"""The installed package: a light import and a working `kerascnn` command."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"onnx", "tf2onnx", "onnxruntime", "ai_edge_litert", "matplotlib", "tensorflow_datasets"}


def _run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, input=stdin, cwd=ROOT, check=False
    )


@pytest.mark.parametrize(
    "modules, keras",
    [
        # The command line's start and the zoo's listing load no TensorFlow.
        (["kerascnn"], False),
        (["kerascnn.zoo", "kerascnn.data", "kerascnn.training", "kerascnn.cli"], False),
        # What builds or runs models imports Keras, and with it only what Keras
        # imports itself (it plots with matplotlib): none of kerascnn's heavy ones.
        pytest.param(
            [
                "kerascnn.export",
                "kerascnn.inspection",
                "kerascnn.inference",
                "kerascnn.zoo.finetuning",
            ],
            True,
            marks=pytest.mark.slow,
        ),
    ],
)
def test_import_does_not_load_heavy_dependencies(modules, keras):
    heavy = HEAVY - {"matplotlib"} if keras else HEAVY | {"tensorflow", "keras"}
    code = "import %s, sys; print(sorted({m.split('.')[0] for m in sys.modules} & %r))"
    result = _run("-c", code % (", ".join(modules), heavy))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_keras_file_of_kerascnn_classes_loads_through_kerascnn(tmp_path):
    from kerascnn.optimizers import AveragingSGD
    from kerascnn.zoo import create_model

    model = create_model("lenet5", class_names=list("abcdefghij"))
    # Compiled as a run that averages its weights saves its checkpoints.
    model.compile(AveragingSGD(0.1, use_ema=True), "sparse_categorical_crossentropy")
    model.save(tmp_path / "m.keras")
    # A fresh process: nothing of kerascnn is registered until it loads the file.
    code = (
        f"import kerascnn; m = kerascnn.load({str(tmp_path / 'm.keras')!r}); "
        "print(type(m.optimizer).__name__, m.class_names[:2])"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["AveragingSGD", "['a',", "'b']"]


@pytest.mark.slow
def test_importing_kerascnn_after_keras_registers_its_classes():
    code = (
        "import keras, kerascnn; from keras.saving import get_registered_object as get; "
        "print(get('kerascnn>ConvNet').__module__, get('kerascnn>SumPooling2D').__module__)"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["kerascnn.builder", "kerascnn.layers.sum_pooling"]


def test_keras_plotting_is_untouched_by_kerascnn(tmp_path):
    # Keras' own module-level `import matplotlib` must see matplotlib.
    code = (
        "import kerascnn, keras, numpy as np; "
        "keras.visualization.plot_bounding_box_gallery("
        "np.random.rand(2, 16, 16, 3) * 255, 'xyxy', "
        f"rows=1, cols=2, path={str(tmp_path / 'g.png')!r})"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.png").stat().st_size > 0


def _describe(*args, stdin="", monkeypatch):
    """`kerascnn describe ARGS` in this process, `stdin` as its standard input."""
    import io

    from tests.training.helpers import run_kerascnn

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return run_kerascnn("describe", *args)


def test_cli_describes_a_spec_file(monkeypatch):
    result = _describe(ROOT / "docs/examples/lenet5.json", monkeypatch=monkeypatch)
    assert result.returncode == 0, result.stderr
    assert "block1_conv1" in result.stdout
    assert "61,706" in result.stdout


def test_cli_describe_json_reads_standard_input(monkeypatch):
    spec = (ROOT / "docs/examples/lenet5.json").read_text()
    result = _describe("-", "--json", stdin=spec, monkeypatch=monkeypatch)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total_params"] == 61_706


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ('{"blocks": [{"filters": 4}, {"filters": 0}]}', "block 2: `filters` must be a positive"),
        ("{not json", "not valid JSON"),
    ],
)
def test_cli_reports_bad_specs_without_a_traceback(spec, message, monkeypatch):
    result = _describe("-", stdin=spec, monkeypatch=monkeypatch)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_reports_a_missing_file(monkeypatch):
    result = _describe("no/such/spec.json", monkeypatch=monkeypatch)
    assert result.returncode == 2
    assert "No spec file at 'no/such/spec.json'" in result.stderr


def test_console_script_is_installed():
    scripts = Path(sys.executable).parent
    result = subprocess.run(
        [str(scripts / "kerascnn"), "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("kerascnn ")
