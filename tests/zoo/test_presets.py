"""Every shipped preset: integrity, measured accuracy, adaptation, and the
URL, cache and offline paths."""

import hashlib
import http.server
import json
import shutil
import tarfile
import threading
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
from PIL import Image

from kerascnn.zoo import (
    PresetIntegrityError,
    ZooError,
    create_model,
    list_models,
    load_preset,
    resolve_preset,
)
from kerascnn.zoo.cards import expected_cards
from kerascnn.zoo.presets import packaged_presets, read_preset, save_preset
from tests.conftest import ROOT, read_idx, shared

PRESETS = sorted(packaged_presets())
IDX = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}


def test_the_required_presets_ship():
    families = {name.split(".")[0].split("_")[0] for name in PRESETS}
    datasets = {read_preset(packaged_presets()[n]).metadata["dataset"]["key"] for n in PRESETS}
    assert "lenet5.mnist" in PRESETS
    assert {"mnist", "fashion_mnist", "cifar10"} <= datasets
    assert "mobilecnn" in families
    assert list_models(pretrained=True) == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_a_preset_is_the_models_own_keras_config(name):
    folder = packaged_presets()[name]
    config = json.loads((folder / "config.json").read_text())
    # Architecture and weights only: no run's optimizer or compile settings,
    # and no provenance pointing at an earlier version of itself.
    assert not config.get("compile_config")
    with h5py.File(folder / "model.weights.h5") as weights:
        assert "optimizer" not in weights
    assert config["config"]["provenance"].get("preset") != name
    # Keras itself, in safe mode, builds the architecture from the file.
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    metadata = json.loads((folder / "metadata.json").read_text())
    assert model.class_names == metadata["class_names"]
    assert model.count_params() == metadata["parameters"]
    model.load_weights(folder / "model.weights.h5")  # Keras' own loader takes the weights
    x = np.random.default_rng(0).uniform(0, 255, (2, *model.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(create_model(name)(x)),
        keras.ops.convert_to_numpy(model(x)),
        atol=1e-6,
    )


def _as_format_1(folder: Path) -> None:
    """Rewrites a preset folder as format 1 wrote it: spec.json, no config.json."""
    config = json.loads((folder / "config.json").read_text())
    (folder / "spec.json").write_text(json.dumps(config["config"]["spec"]))
    (folder / "config.json").unlink()
    files = ("spec.json", "model.weights.h5", "metadata.json")
    manifest = {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in files}
    (folder / "manifest.json").write_text(json.dumps({"files": manifest}))


def test_a_format_1_preset_still_loads(tmp_path):
    folder = _copy("lenet5.mnist", tmp_path)
    _as_format_1(folder)
    x = np.random.default_rng(1).uniform(0, 255, (2, 28, 28, 1)).astype("float32")
    model = load_preset(folder)
    assert model.class_names == [str(d) for d in range(10)]
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(x)),
        keras.ops.convert_to_numpy(create_model("lenet5.mnist")(x)),
    )


def test_a_config_of_another_class_is_refused_before_keras_sees_it(tmp_path):
    folder = _copy("lenet5.mnist", tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config.update(module="keras.layers", class_name="Lambda", registered_name=None)
    (folder / "config.json").write_text(json.dumps(config))
    files = ("config.json", "model.weights.h5", "metadata.json")
    manifest = {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in files}
    (folder / "manifest.json").write_text(json.dumps({"files": manifest}))
    with pytest.raises(ZooError, match=r"config\.json must hold a serialized kerascnn ConvNet"):
        load_preset(folder)


def test_presets_follow_the_dtype_policy_or_take_one():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        fresh, trained = create_model("lenet5"), create_model("lenet5.mnist")
        assert fresh.dtype_policy.name == trained.dtype_policy.name == "mixed_bfloat16"
        assert trained.get_layer("block1_conv1").compute_dtype == "bfloat16"
        assert create_model("lenet5.mnist", dtype="float32").dtype_policy.name == "float32"
    finally:
        keras.config.set_dtype_policy(previous)
    assert (
        load_preset("lenet5.mnist", dtype="mixed_bfloat16").get_layer("fc1").compute_dtype
        == "bfloat16"
    )


def _first_test_images(metadata, cifar10_folder_factory):
    """The first 2,000 test images, read independently of kerascnn.data."""
    key = metadata["dataset"]["key"]
    if key in IDX:
        folder = shared(IDX[key])
        images = read_idx(folder / "t10k-images-idx3-ubyte.gz")[:2000, :, :, None]
        labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:2000]
        return images.astype("float32"), labels.astype(int)
    assert key == "cifar10"
    root = cifar10_folder_factory() / "test"
    images, labels = [], []
    # The folder has no order of its own: the first 200 files of each class.
    for label, class_name in enumerate(metadata["class_names"]):
        for path in sorted((root / class_name).iterdir())[:200]:
            images.append(np.asarray(Image.open(path).convert("RGB"), dtype="float32"))
            labels.append(label)
    return np.stack(images), np.array(labels)


@pytest.fixture
def cifar10_folder_factory(request):
    return lambda: request.getfixturevalue("cifar10_folder")


@pytest.mark.parametrize("name", PRESETS)
def test_accuracy_on_2000_test_images_agrees_with_the_card(name, cifar10_folder_factory):
    model = create_model(name)
    metadata = resolve_preset(name).metadata
    assert model.provenance == {
        "preset": name,
        "preset_weights_sha256": hashlib.sha256(
            (resolve_preset(name).directory / "model.weights.h5").read_bytes()
        ).hexdigest(),
    }
    assert model.class_names == metadata["class_names"]
    images, labels = _first_test_images(metadata, cifar10_folder_factory)
    predictions = model.predict(images, batch_size=250, verbose=0).argmax(axis=-1)
    accuracy = float(np.mean(predictions == labels))
    # The card measured the full split; 2,000 of its images differ from it by
    # sampling alone, by about one binomial standard error (0.2 points at 99%,
    # 0.9 at 82%). Three of them, or half a point at least, is the tolerance.
    card = metadata["test_accuracy"]
    tolerance = max(0.005, 3 * np.sqrt(card * (1 - card) / len(labels)))
    assert abs(accuracy - card) <= tolerance, (accuracy, card, tolerance)


@pytest.mark.parametrize("name", PRESETS)
def test_a_new_class_count_keeps_the_backbone_under_a_fresh_head(name, caplog):
    trained = create_model(name)
    with caplog.at_level("WARNING", logger="kerascnn.zoo"):
        model = create_model(name, num_classes=5)
    assert model.output_shape == (None, 5)
    assert "fresh 5-class head" in caplog.text
    for layer in model.layers:
        if layer.name != "predictions" and layer.weights:
            for new, old in zip(layer.get_weights(), trained.get_layer(layer.name).get_weights()):
                np.testing.assert_array_equal(new, old)


def test_other_class_names_get_a_fresh_head_even_with_as_many_classes(caplog):
    trained = create_model("lenet5.mnist")
    assert trained.class_names == [str(d) for d in range(10)]
    same = create_model("lenet5.mnist", class_names=[str(d) for d in range(10)])
    np.testing.assert_array_equal(
        same.get_layer("predictions").get_weights()[0],
        trained.get_layer("predictions").get_weights()[0],
    )
    letters = list("abcdefghij")
    with caplog.at_level("WARNING", logger="kerascnn.zoo"):
        model = create_model("lenet5.mnist", class_names=letters)
    assert "fresh 10-class head" in caplog.text
    assert model.class_names == letters
    assert not np.array_equal(
        model.get_layer("predictions").get_weights()[0],
        trained.get_layer("predictions").get_weights()[0],
    )
    np.testing.assert_array_equal(
        model.get_layer("fc1").get_weights()[0], trained.get_layer("fc1").get_weights()[0]
    )


@pytest.mark.parametrize("name", PRESETS)
def test_other_channel_counts_adapt_the_first_convolution(name, caplog):
    trained = create_model(name)
    height, width, channels = trained.input_shape[1:]
    other = 4 - channels
    with caplog.at_level("WARNING", logger="kerascnn.zoo"):
        adapted = create_model(name, input_shape=(height, width, other))
    assert "adapted block1_conv1 from" in caplog.text
    gray = np.random.default_rng(0).uniform(0, 255, (4, height, width, 1)).astype("float32")
    rgb = np.repeat(gray, 3, axis=-1)
    # A gray image and the same image as three equal channels are one picture.
    ones, threes = (gray, rgb) if channels == 1 else (rgb, gray)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(adapted(threes)),
        keras.ops.convert_to_numpy(trained(ones)),
        atol=1e-5,
    )


def _copy(name, tmp_path) -> Path:
    target = tmp_path / name
    shutil.copytree(packaged_presets()[name], target)
    return target


def test_a_tampered_preset_is_refused_naming_the_file(tmp_path):
    folder = _copy("resnet8.cifar10", tmp_path)
    weights = folder / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(PresetIntegrityError, match=r"model\.weights\.h5' is corrupted"):
        load_preset(folder)


def test_edited_metadata_missing_files_and_extra_files_are_refused(tmp_path):
    folder = _copy("lenet5.mnist", tmp_path)
    metadata = folder / "metadata.json"
    metadata.write_text(
        metadata.read_text().replace('"test_accuracy": 0.9', '"test_accuracy": 1.9')
    )
    with pytest.raises(PresetIntegrityError, match=r"metadata\.json' is corrupted"):
        load_preset(folder)
    folder = _copy("lenet5.mnist", tmp_path / "b")
    (folder / "hook.py").write_text("print('no code in presets')")
    with pytest.raises(PresetIntegrityError, match=r"unexpected file.*hook.py"):
        load_preset(folder)
    (folder / "hook.py").unlink()
    (folder / "config.json").unlink()
    with pytest.raises(PresetIntegrityError, match=r"config\.json' is missing"):
        load_preset(folder)


def test_a_local_preset_folder_loads_like_the_packaged_one(tmp_path):
    folder = _copy("lenet5.mnist", tmp_path)
    x = np.random.default_rng(1).uniform(0, 255, (2, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(load_preset(folder)(x)),
        keras.ops.convert_to_numpy(create_model("lenet5.mnist")(x)),
    )


@pytest.mark.parametrize("compiled", [False, True])
def test_a_saved_preset_is_the_architecture_and_weights_alone(compiled, tmp_path):
    model = create_model("lenet5.mnist")
    if compiled:  # as a run's best.keras comes back: with its optimizer, built
        model.compile(keras.optimizers.SGD(0.1, use_ema=True), "sparse_categorical_crossentropy")
        model.optimizer.build(model.trainable_variables)
    metadata = json.loads((packaged_presets()["lenet5.mnist"] / "metadata.json").read_text())
    preset = save_preset(model, tmp_path / "lenet5.mnist", metadata)
    assert not json.loads((preset.directory / "config.json").read_text()).get("compile_config")
    with h5py.File(preset.directory / "model.weights.h5") as weights:
        assert "optimizer" not in weights
    x = np.random.default_rng(2).uniform(0, 255, (2, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(load_preset(preset.directory)(x)),
        keras.ops.convert_to_numpy(model(x)),
    )


@pytest.fixture(params=["lenet5.mnist", "mobilecnn_050.mnist"])
def served(request, tmp_path):
    """A preset as a .tar.gz served over HTTP on 127.0.0.1."""
    name = request.param
    public = tmp_path / "public"
    public.mkdir()
    archive = public / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(packaged_presets()[name], arcname=name)
    server, base = _serve(public)
    url = f"{base}/{archive.name}"
    yield url, hashlib.sha256(archive.read_bytes()).hexdigest(), server, name
    server.shutdown()


def test_a_url_preset_is_verified_cached_and_then_loads_offline(served, tmp_path, monkeypatch):
    url, checksum, server, name = served
    home = tmp_path / "home"
    monkeypatch.setenv("KERASCNN_HOME", str(home))
    monkeypatch.delenv("KERASCNN_OFFLINE", raising=False)
    model = load_preset(url, sha256=checksum)
    shape = model.input_shape[1:]
    x = np.random.default_rng(2).uniform(0, 255, (2, *shape)).astype("float32")
    expected = keras.ops.convert_to_numpy(create_model(name)(x))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)), expected)
    cached = home / "presets" / checksum / name
    assert (cached / "manifest.json").is_file()
    assert [p.name for p in (home / "presets").iterdir()] == [checksum]  # no leftovers

    server.shutdown()  # the cache is enough now, even offline
    monkeypatch.setenv("KERASCNN_OFFLINE", "1")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(load_preset(url, sha256=checksum)(x)), expected
    )


def test_a_url_with_a_wrong_checksum_leaves_nothing_in_the_cache(served, tmp_path, monkeypatch):
    url, checksum, _, _ = served
    monkeypatch.setenv("KERASCNN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERASCNN_OFFLINE", raising=False)
    wrong = "0" * 64
    with pytest.raises(PresetIntegrityError, match=rf"has sha256 {checksum}, not the expected"):
        load_preset(url, sha256=wrong)
    assert list((tmp_path / "home" / "presets").iterdir()) == []
    with pytest.raises(ZooError, match=r"needs the archive's sha256"):
        load_preset(url)


def test_offline_refuses_the_network_with_a_clear_message(served, tmp_path, monkeypatch):
    url, checksum, _, _ = served
    monkeypatch.setenv("KERASCNN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERASCNN_OFFLINE", "1")
    with pytest.raises(ZooError, match=r"KERASCNN_OFFLINE is set, so kerascnn will not download"):
        load_preset(url, sha256=checksum)


def test_model_cards_are_rendered_from_the_measurements():
    for path, text in expected_cards(ROOT / "zoo").items():
        assert path.is_file(), f"{path} is missing; run python -m kerascnn.zoo.cards zoo"
        assert path.read_text() == text, f"{path} is stale; run python -m kerascnn.zoo.cards zoo"


def _serve(folder: Path):
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_zip_archives_load_and_unsafe_archives_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASCNN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERASCNN_OFFLINE", raising=False)
    public = tmp_path / "public"
    public.mkdir()
    source = packaged_presets()["lenet5.mnist"]
    with zipfile.ZipFile(public / "p.zip", "w") as z:
        for path in source.iterdir():
            z.write(path, path.name)  # files at the archive's root
    with tarfile.open(public / "evil.tar.gz", "w:gz") as tar:
        tar.add(source / "config.json", arcname="../escaped.json")
    server, base = _serve(public)
    try:
        digest = hashlib.sha256((public / "p.zip").read_bytes()).hexdigest()
        assert load_preset(f"{base}/p.zip", sha256=digest).output_shape == (None, 10)
        digest = hashlib.sha256((public / "evil.tar.gz").read_bytes()).hexdigest()
        with pytest.raises(PresetIntegrityError, match=r"unsafe path '\.\./escaped\.json'"):
            load_preset(f"{base}/evil.tar.gz", sha256=digest)
    finally:
        server.shutdown()
    assert not (tmp_path / "home" / "escaped.json").exists()
    assert not (tmp_path / "home" / "presets" / digest).exists()
