"""`kerascnn export`."""

import json

import numpy as np

from kerascnn.cli import main


def test_export_command_writes_a_verified_folder(tmp_path, mnist_test, capsys):
    images = tmp_path / "digits.npy"
    np.save(images, mnist_test[0][:300])
    out = tmp_path / "out"
    args = [
        "export",
        "lenet5.mnist",
        "--out",
        str(out),
        "--quantize",
        "int8",
        "--data",
        str(images),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "model.int8.tflite" in printed and "model.opset17-int8.onnx" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["source"] == "lenet5.mnist"
    assert {a["path"] for a in report["artifacts"]} == {
        "saved_model",
        "model.tflite",
        "model.int8.tflite",
        "model.opset17.onnx",
        "model.opset17-int8.onnx",
    }
    assert all(a["parity"]["samples"] == 256 for a in report["artifacts"])

    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_export_command_names_the_failure(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", "lenet5", "--out", str(out), "--quantize", "int8"]) == 2
    assert "representative" in capsys.readouterr().err
    assert not out.exists()
