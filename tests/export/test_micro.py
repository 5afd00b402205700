"""The micro export: checked in TFLite Micro's own interpreter, its C++
compiled by the system compiler, its arena the smallest that works."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from kerascnn.export import ExportError, export_model
from kerascnn.zoo import create_model

pytest.importorskip("tflite_micro")

# Digits named as a user might: a space, non-ASCII letters, a quote.
NAMES = ["zéro", "one", "two", "three", "four", "five", "six", "seven", "eight", 'n"ine "9"']


@pytest.fixture(scope="module")
def micro_export(tmp_path_factory, mnist_test):
    images, _ = mnist_test
    model = create_model("lenet5.mnist")
    model.update_metadata(class_names=NAMES)
    out = tmp_path_factory.mktemp("micro") / "export"
    report = export_model(
        model, out, formats="micro", representative_data=images[:500], progress=False
    )
    return out / "micro", report, model


def test_the_folder_holds_what_firmware_needs(micro_export):
    folder, report, _ = micro_export
    assert sorted(p.name for p in folder.iterdir()) == [
        "kerascnn_metadata.json", "micro.json", "model.tflite", "model_data.cc",
        "model_data.h", "op_resolver.h",
    ]  # fmt: skip
    figures = json.loads((folder / "micro.json").read_text())
    assert figures["flash_bytes"] == (folder / "model.tflite").stat().st_size
    assert figures["arena_bytes"] % 16 == 0 and figures["arena_bytes"] <= 20_000
    assert figures["parity"]["top1_agreement"] >= 0.98
    (artifact,) = report.artifacts
    assert artifact.micro["arena_bytes"] == figures["arena_bytes"]
    resolver = (folder / "op_resolver.h").read_text()
    assert "MicroMutableOpResolver<kNumOps>" in resolver
    assert f"constexpr int kNumOps = {len(figures['ops'])};" in resolver
    assert resolver.count("resolver.Add") == len(figures["ops"]) == 5
    assert "resolver.AddConv2D()" in resolver and "resolver.AddSoftmax()" in resolver


def test_the_arena_is_the_smallest_tflite_micro_runs_in(micro_export):
    folder, _, _ = micro_export
    arena = json.loads((folder / "micro.json").read_text())["arena_bytes"]
    # In a child process each: TFLite Micro may crash on too small an arena.
    code = (
        "import sys\nfrom tflite_micro.python.tflite_micro import runtime\n"
        "model = open(sys.argv[1], 'rb').read()\n"
        "runtime.Interpreter.from_bytes(model, arena_size=int(sys.argv[2]))"
    )
    model = str(folder / "model.tflite")
    runs = [
        subprocess.run([sys.executable, "-c", code, model, str(size)], capture_output=True)
        for size in (arena, arena - 16)
    ]
    assert runs[0].returncode == 0, runs[0].stderr[-500:]
    assert runs[1].returncode != 0


def test_tflite_micro_classifies_real_digits_like_keras(micro_export, mnist_test):
    from tflite_micro.python.tflite_micro import runtime

    folder, _, model = micro_export
    arena = json.loads((folder / "micro.json").read_text())["arena_bytes"]
    interpreter = runtime.Interpreter.from_bytes(
        (folder / "model.tflite").read_bytes(), arena_size=arena
    )
    images, labels = mnist_test
    images, labels = images[500:800], labels[500:800]  # not the calibration images
    detail = interpreter.get_input_details(0)
    scale, zero = detail["quantization_parameters"]["scales"][0], -128
    assert detail["dtype"] == np.int8
    predicted = []
    for image in images:
        interpreter.set_input((np.round(image / scale) + zero).astype(np.int8)[None], 0)
        interpreter.invoke()
        predicted.append(int(np.argmax(interpreter.get_output(0))))
    keras_predicted = model.predict(images, verbose=0).argmax(axis=-1)
    assert np.mean(np.array(predicted) == keras_predicted) >= 0.98
    assert np.mean(np.array(predicted) == labels) >= 0.97


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs a C++ compiler")
def test_the_cpp_data_compiles_and_holds_the_same_bytes_and_names(micro_export, tmp_path):
    folder, _, _ = micro_export
    main = tmp_path / "main.cc"
    main.write_text(
        '#include <cstdint>\n#include <cstdio>\n#include "model_data.h"\n'
        "int main() {\n"
        "  if (reinterpret_cast<std::uintptr_t>(g_model) % 16 != 0) return 3;\n"
        "  std::fwrite(g_model, 1, g_model_len, stdout);\n"
        "  for (int i = 0; i < kerascnn::kNumClasses; ++i)\n"
        '    std::fprintf(stderr, "%s\\n", kerascnn::kClassNames[i]);\n'
        "  return 0;\n}\n"
    )
    binary = tmp_path / "dump"
    subprocess.run(
        ["g++", "-std=c++17", "-Wall", "-Werror", f"-I{folder}", str(main),
         str(folder / "model_data.cc"), "-o", str(binary)],
        check=True, capture_output=True,
    )  # fmt: skip
    result = subprocess.run([str(binary)], capture_output=True, check=True)
    assert result.stdout == (folder / "model.tflite").read_bytes()
    assert result.stderr.decode("utf-8").splitlines() == NAMES


def test_an_operator_tflite_micro_lacks_is_named(tmp_path):
    from kerascnn.export.micro import write_micro

    with pytest.raises(ExportError, match="no kernel for CUMSUM"):
        write_micro(b"", ["CONV_2D", "CUMSUM"], tmp_path, {"model": "m"})
