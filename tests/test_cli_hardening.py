"""The command line under a hostile, careless or impatient user: nothing the
user owns is lost, nothing untrusted runs, every mistake is one line that
says what to do, and bugs are reported as bugs."""

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kerascnn import cli
from tests.conftest import read_idx, shared
from tests.training.helpers import SMALL_SPEC, kerascnn_command, run_kerascnn


def _one_line_error(result, *fragments):
    """The command failed with status 2 and one line naming the problem."""
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]


def _tree(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def digit(tmp_path_factory):
    path = tmp_path_factory.mktemp("digit") / "seven.png"
    Image.fromarray(read_idx(shared("mnist") / "t10k-images-idx3-ubyte.gz")[0]).save(path)
    return path


@pytest.fixture(scope="module")
def two_class_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (root / name).mkdir()
        for k in range(6):
            pixels = rng.integers(0, 255, (28, 28), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{k}.png")
    return root


# --- Data loss and code execution ---------------------------------------------


def test_inspect_never_deletes_a_folder_it_did_not_write(digit, tmp_path):
    out = tmp_path / "mine"
    (out / "notes").mkdir(parents=True)
    (out / "thesis.txt").write_text("years of work")
    (out / "notes" / "a.md").write_text("more")
    before = _tree(out)
    for extra in ((), ("--force",)):
        result = run_kerascnn("inspect", "lenet5.mnist", digit, "--out", out, *extra)
        _one_line_error(result, str(out))
        assert _tree(out) == before
    # A folder inspect wrote is replaced with --force, and only then.
    page = tmp_path / "page"
    assert run_kerascnn("inspect", "lenet5.mnist", digit, "--out", page).returncode == 0
    _one_line_error(run_kerascnn("inspect", "lenet5.mnist", digit, "--out", page), "--force")
    result = run_kerascnn("inspect", "lenet5.mnist", digit, "--out", page, "--force")
    assert result.returncode == 0, result.stderr
    assert (page / "index.html").is_file()


@pytest.mark.parametrize("out", [".", ".."])
def test_the_current_folder_and_its_parents_are_never_replaced(out, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("mine")
    monkeypatch.chdir(work)
    result = run_kerascnn("export", "lenet5", "--out", out, "--force", "--format", "onnx")
    _one_line_error(result, "current folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in work.iterdir()) == ["keep.txt"]


def test_a_saved_model_runs_only_when_trusted(tmp_path, two_class_folder):
    import tensorflow as tf

    marker = tmp_path / "pwned.txt"

    class Hostile(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
        def serve(self, image):
            tf.io.write_file(str(marker), "the graph ran")
            return {"predictions": tf.zeros([tf.shape(image)[0], 2])}

    hostile = Hostile()
    saved = tmp_path / "hostile"
    tf.saved_model.save(hostile, str(saved), signatures={"serving_default": hostile.serve})
    result = run_kerascnn("evaluate", saved, "--data", two_class_folder)
    _one_line_error(result, "SavedModel", "--trust-saved-model")
    assert not marker.exists()


def test_a_keras_file_naming_os_functions_is_refused_in_one_line(tmp_path):
    config = {
        "module": "os", "class_name": "system", "config": {"command": "touch pwned"},
        "registered_name": "system",
    }  # fmt: skip
    path = tmp_path / "hostile.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.0"}))
    result = run_kerascnn("inspect", path, tmp_path / "x.png", "--out", tmp_path / "o")
    _one_line_error(result, str(path), "cannot be loaded")
    assert not (Path.cwd() / "pwned").exists()


# --- One line for each mistake; failures of the machine ---------------------------


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["export", "lenet5", "--out", "x", "--opset", "3"], "--opset"),
        (["export", "lenet5", "--out", "x", "--opset", "seventeen"], "--opset"),
        (["export", "lenet5", "--out", "x", "--samples", "0"], "--samples"),
        (["inspect", "lenet5", "digit.png", "--out", "x", "--top", "0"], "--top"),
        (["train", "lenet5", "--data", "d", "--out", "x", "--monitor", "bogus"], "--monitor"),
        (["train", "lenet5", "--data", "d", "--out", "x", "--epochs", "one"], "--epochs"),
        (["train", "lenet5", "--data", "d", "--out", "x", "--validation-split", "2"], "split"),
    ],
)
def test_options_are_checked_before_any_work(args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_kerascnn(*args)
    assert result.returncode == 2
    assert fragment in result.stderr.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (json.dumps({"blocks": [{"filters": 2}] * 500}), "limit of 64 blocks"),
        (json.dumps({"blocks": [{"filters": 10**9}]}), "limit of 16,384 filters"),
        (json.dumps({"blocks": [{"filters": 8}], "head": {"dense": [10**9]}}), "dense units"),
        (json.dumps({"blocks": [{"filters": 4096, "pooling": "none"}] * 8}), "parameters"),
    ],
)
def test_absurd_specs_are_refused_with_the_limit(content, fragment, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(content)
    _one_line_error(run_kerascnn("describe", spec), fragment)


def test_a_decompression_bomb_is_refused_with_the_cap(tmp_path):
    import struct
    import zlib

    # A 20000 x 20000 PNG of a few hundred kilobytes: 1.2 GB once decoded.
    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    packer, row = zlib.compressobj(9), b"\x00" * 20001
    rows = b"".join(packer.compress(row) for _ in range(20000)) + packer.flush()
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )
    result = run_kerascnn("inspect", "lenet5", bomb, "--out", tmp_path / "out")
    _one_line_error(result, "67,108,864 pixels", "KERASCNN_MAX_IMAGE_PIXELS")


@pytest.mark.parametrize(
    "kind", ["missing.keras", "missing.onnx", "corrupt.onnx", "corrupt.tflite", "saved"]
)
def test_missing_and_corrupt_artifacts_are_named(kind, tmp_path, two_class_folder):
    path = tmp_path / kind
    if kind.startswith("corrupt"):
        path.write_bytes(b"not a model at all")
    elif kind == "saved":
        path.mkdir()
        (path / "saved_model.pb").write_bytes(b"\x00garbage")
    extra = ["--trust-saved-model"] if kind == "saved" else []
    result = run_kerascnn("evaluate", path, "--data", two_class_folder, *extra)
    fragments = ["does not exist"] if kind.startswith("missing") else []
    _one_line_error(result, str(path), *fragments)


def _mount_namespace_available() -> bool:
    probe = subprocess.run(
        ["unshare", "-rm", "true"], capture_output=True, check=False
    ) if shutil.which("unshare") else None  # fmt: skip
    return probe is not None and probe.returncode == 0


@pytest.mark.skipif(not _mount_namespace_available(), reason="needs unshare -rm (mount namespace)")
@pytest.mark.parametrize(
    "mount, formats, fragment",
    [
        ("-o size=300k", "saved_model", "space left on device"),
        # The other formats and a read-only disk: the same mechanism, in CI's slow step.
        pytest.param("-o size=100k", "tflite", "space left on device", marks=pytest.mark.slow),
        pytest.param("-o ro", "onnx", "Read-only file system", marks=pytest.mark.slow),
    ],
)
def test_a_full_or_read_only_disk_is_one_line_and_leaves_nothing(
    mount, formats, fragment, tmp_path
):
    disk = tmp_path / "disk"
    disk.mkdir()
    command = " ".join(kerascnn_command("export", "lenet5", "--out", f"{disk}/out"))
    script = (
        f"mount -t tmpfs {mount} tmpfs {disk} && "
        f"{command} --format {formats} --no-verify; status=$?; ls -A {disk}; exit $status"
    )
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, check=False
    )
    _one_line_error(result, fragment)
    assert result.stdout.strip() == ""  # nothing left on the disk


def test_an_internal_error_says_so_with_its_traceback(monkeypatch, capsys):
    def broken(args):
        return {}["a bug"]

    monkeypatch.setattr(cli, "_models", broken)
    assert cli.main(["models"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err
    assert "internal error" in err.strip().splitlines()[-1]


# --- Resume that cannot be fooled ------------------------------------------------


@pytest.mark.parametrize(
    "state, epochs, fragment",
    [
        ("[]", 2, "must be an object"),
        ("{}", 2, "must be an object"),
        ('{"epoch": "one", "monitor": "val_accuracy", "best": 0.5}', 2, "epoch='one'"),
        ('{"epoch": -3, "monitor": "val_accuracy", "best": 0.5}', 2, "epoch=-3"),
        ('{"epoch": 5, "monitor": "val_accuracy", "best": 0.5}', 2, "--epochs 5 or more"),
        ('{"epoch": 2, "monitor": "val_accuracy", "best": 0.5}', 4, "epochs 1 to 2"),
        ("{not json", 2, "not valid JSON"),
        ('{"epoch": 1, "monitor": "val_accuracy", "best": 0.5}', 2, "cannot be loaded"),
    ],
)
def test_a_bad_run_state_is_refused_and_nothing_is_overwritten(
    state, epochs, fragment, tmp_path, two_class_folder
):
    run = tmp_path / "run"
    run.mkdir()
    (run / "state.json").write_text(state)
    (run / "history.json").write_text(json.dumps([{"epoch": 1, "loss": 1.0}]))
    (run / "checkpoint.keras").write_bytes(b"a checkpoint")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SMALL_SPEC))
    before = _tree(run)
    result = run_kerascnn(
        "train", spec, "--data", two_class_folder, "--out", run, "--resume",
        "--epochs", str(epochs),
    )  # fmt: skip
    _one_line_error(result, "be resumed", fragment)
    assert _tree(run) == before


# --- An instant, quiet command line ------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["models"], ["models", "--pretrained"]])
def test_help_and_models_load_no_tensorflow(args):
    code = (
        "import sys\nfrom kerascnn.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_tensorflow_start_up_lines_are_kept_off_stderr(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SMALL_SPEC))
    result = run_kerascnn("describe", spec, process=True)  # builds the model: TensorFlow loads
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_filter_drops_only_native_log_lines():
    from kerascnn.native_logs import _NOISE

    noise = [
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        b"I0000 00:00:1796125014.984568   16540 cudart_stub.cc:31] Could not find cuda drivers",
        b"W0000 00:00:1796125014.984568   16540 cpu_feature_guard.cc:227] This TensorFlow binary",
        b"E0000 00:00:1796125003.256864   16409 cuda_platform.cc:52] failed call to cuInit: "
        b"INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
        b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
        b"with the appropriate compiler flags.",
    ]
    kept = [
        b"kerascnn export: error: No space left on device: out",
        b"[2/5] tflite float32: write model.tflite",
        b"Epoch 1/10",
        b"E0000 00:00:1796125014.984568   16540 some.cc:1] a real native error",
    ]
    assert all(_NOISE.match(line) for line in noise)
    assert not any(_NOISE.match(line) for line in kept)


def test_finetune_into_a_used_folder_is_refused_before_any_work(tmp_path, two_class_folder):
    out = tmp_path / "runs"
    out.mkdir()
    (out / "earlier.txt").write_text("an earlier run")
    result = run_kerascnn(
        "finetune", "lenet5.mnist", "--data", two_class_folder, "--out", out,
        "--recipe", "linear_probe",
    )  # fmt: skip
    _one_line_error(result, str(out), "another --out")
    assert "fresh" not in result.stderr  # refused before the preset was even built
    assert sorted(p.name for p in out.iterdir()) == ["earlier.txt"]


def test_a_file_that_is_not_an_image_says_why_in_plain_words(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    result = run_kerascnn("inspect", "lenet5.mnist", notes, "--out", tmp_path / "page")
    _one_line_error(result, str(notes), "Unknown image file format")
    assert "function_node" not in result.stderr
