"""Presets: trained weights as a folder of data, verified before use.

A preset folder holds exactly four files, as a keras-hub preset does:

- `config.json`: the model's own Keras config
  (`keras.saving.serialize_keras_object(model)`: its spec, class names,
  provenance), loaded through Keras' safe-mode deserializer;
- `model.weights.h5`: the weights (HDF5 arrays, no code);
- `metadata.json`: data set, class names, preprocessing, measured test
  accuracy, parameters, MACs, training recipe, reproducing command, library
  versions, the data's license;
- `manifest.json`: the sha256 of each of the other three.

`read_preset` checks the manifest before it parses anything else, and
`build_from_preset` builds the network through Keras' safe-mode
deserialization, so a preset cannot carry code. Presets of format 1 (a
`spec.json` instead of `config.json`) still load. Presets ship inside the
package (`kerascnn/zoo/presets/<name>/`), sit in any local folder, or come
from an http(s) URL as a `.tar.gz` or `.zip` archive with a known sha256,
cached under `kerascnn.settings.home()`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kerascnn import atomic_files, settings
from kerascnn.spec import ConvNetSpec, SpecError
from kerascnn.zoo.registry import ZooError, input_shape_of

if TYPE_CHECKING:  # Keras and NumPy load when a model is built, not to list presets.
    import keras
    import numpy as np

    from kerascnn.builder import ConvNet

CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
METADATA = "metadata.json"
MANIFEST = "manifest.json"
PRESET_FILES = (CONFIG, WEIGHTS, METADATA)
FORMAT_VERSION = 2
# Format 1 kept the architecture as a plain `ConvNetSpec`.
SPEC_V1 = "spec.json"
# The one class a preset's config may name.
CONVNET = {
    "module": "kerascnn.builder",
    "class_name": "ConvNet",
    "registered_name": "kerascnn>ConvNet",
}
PACKAGED_DIR = Path(__file__).parent / "presets"

logger = logging.getLogger("kerascnn.zoo")


class PresetIntegrityError(ZooError):
    """A preset file is missing, unexpected, or does not match its checksum."""


@dataclass(frozen=True)
class Preset:
    """A verified preset folder.

    Attributes:
        name: `model.tag`, e.g. "lenet5.mnist".
        directory: The folder.
        config: The model's serialized Keras config (`config.json`).
        spec: The network's `ConvNetSpec` (from its config).
        metadata: The parsed `metadata.json`.
        weights_sha256: The sha256 of `model.weights.h5`, as its manifest
            lists it (and as checked).
    """

    name: str
    directory: Path
    config: dict
    spec: ConvNetSpec
    metadata: dict
    weights_sha256: str

    @property
    def model(self) -> str:
        """The registered model the preset trains (the part before the '.')."""
        return self.metadata["model"]

    @property
    def class_names(self) -> list[str]:
        return list(self.metadata["class_names"])


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_preset(directory: str | Path) -> dict[str, str]:
    """Checks a preset folder against its manifest, before anything is parsed;
    returns the manifest's checksums, file name -> sha256.

    Raises:
        PresetIntegrityError: a file is missing, unexpected (a preset is only
            data: no extra files), or its sha256 differs from the manifest;
            the message names the file.
    """
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not directory.is_dir():
        raise ZooError(f"No preset folder at '{directory}'.")
    if not manifest_path.is_file():
        raise PresetIntegrityError(
            f"'{directory}' is not a preset: it has no {MANIFEST} listing the sha256 of "
            f"{', '.join(PRESET_FILES)}."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        expected = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as error:
        raise PresetIntegrityError(f"'{manifest_path}' is not a valid manifest: {error}") from None
    files = PRESET_FILES if CONFIG in expected else (SPEC_V1, WEIGHTS, METADATA)
    if sorted(expected) != sorted(files):
        raise PresetIntegrityError(
            f"'{manifest_path}' must list exactly {', '.join(PRESET_FILES)}. "
            f"Received: {', '.join(sorted(expected))}"
        )
    present = {p.name for p in directory.iterdir()}
    unexpected = sorted(present - {*files, MANIFEST})
    if unexpected:
        raise PresetIntegrityError(
            f"Preset '{directory}' holds unexpected file(s) {', '.join(unexpected)}; a preset "
            "is exactly the files of its manifest. Remove them or fetch the preset again."
        )
    for name, checksum in expected.items():
        path = directory / name
        if not path.is_file():
            raise PresetIntegrityError(f"Preset file '{path}' is missing.")
        actual = sha256_file(path)
        if actual != checksum:
            raise PresetIntegrityError(
                f"Preset file '{path}' is corrupted or was modified: its sha256 is {actual}, "
                f"the manifest says {checksum}. Reinstall kerascnn or fetch the preset again."
            )
    return expected


def _read_config(directory: Path, checksums: dict) -> tuple[dict, ConvNetSpec]:
    """The model config a preset holds, and the spec in it (plain data)."""
    if SPEC_V1 in checksums:
        name = SPEC_V1
        config = {**CONVNET, "config": {"spec": None}}
    else:
        name = CONFIG
        config = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
        named = {key: config.get(key) for key in CONVNET} if isinstance(config, dict) else {}
        if named != CONVNET or not isinstance(config.get("config"), dict):
            raise ZooError(
                f"Preset '{directory}': {CONFIG} must hold a serialized kerascnn ConvNet "
                f"({CONVNET['registered_name']}). Received: {named or type(config).__name__}"
            )
    try:
        if name == SPEC_V1:
            spec = ConvNetSpec.from_json((directory / SPEC_V1).read_text(encoding="utf-8"))
            config["config"]["spec"] = spec.to_dict()
        else:
            spec = ConvNetSpec.from_dict(config["config"].get("spec"))
    except SpecError as error:
        raise ZooError(f"Preset '{directory}' has an invalid spec in {name}: {error}") from None
    return config, spec


def read_preset(directory: str | Path) -> Preset:
    """Verifies a preset folder, then reads its config and metadata."""
    directory = Path(directory)
    checksums = verify_preset(directory)
    metadata = json.loads((directory / METADATA).read_text(encoding="utf-8"))
    config, spec = _read_config(directory, checksums)
    for key in ("name", "model", "class_names", "format_version"):
        if key not in metadata:
            raise ZooError(f"Preset '{directory}': {METADATA} lacks '{key}'.")
    if metadata["format_version"] > FORMAT_VERSION:
        raise ZooError(
            f"Preset '{directory}' has format version {metadata['format_version']}; this "
            f"kerascnn reads up to {FORMAT_VERSION}. Upgrade kerascnn."
        )
    return Preset(
        name=metadata["name"],
        directory=directory,
        config=config,
        spec=spec,
        metadata=metadata,
        weights_sha256=checksums[WEIGHTS],
    )


def save_preset(model: keras.Model, directory: str | Path, metadata: dict) -> Preset:
    """Writes a `ConvNet` and its metadata as a preset folder, atomically.

    Args:
        model: A `ConvNet`; its config is the preset's architecture.
        directory: The preset folder to create or replace.
        metadata: At least `name` ("model.tag"), `model` and `class_names`.

    Returns:
        The written `Preset`, read back and verified.
    """
    import keras

    metadata = {**metadata, "format_version": FORMAT_VERSION}
    if model.compiled:
        # A preset is an architecture and its weights: a run's best.keras
        # also carries its optimizer (and compile settings), which Keras
        # would write into both files.
        trained = model
        model = type(model).from_config(model.get_config())
        model.set_weights(trained.get_weights())
    with atomic_files.directory(directory) as tmp:
        config = keras.saving.serialize_keras_object(model)
        (tmp / CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        model.save_weights(tmp / WEIGHTS)
        (tmp / METADATA).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        manifest = {"files": {name: sha256_file(tmp / name) for name in PRESET_FILES}}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        verify_preset(tmp)
    return read_preset(directory)


def packaged_presets(directory: str | Path = PACKAGED_DIR) -> dict[str, Path]:
    """The presets in a folder (default: those shipped inside the package): name -> folder."""
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    return {p.name: p for p in sorted(directory.iterdir()) if (p / MANIFEST).is_file()}


# ----------------------------------------------------------------------------
# Presets at a URL


def _safe_extract(archive: Path, destination: Path) -> None:
    """Extracts a .tar.gz or .zip of plain files, refusing links and escapes."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            members = z.infolist()
            for member in members:
                _check_member(member.filename, archive)
            z.extractall(destination)
        return
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member.name, archive)
                if not (member.isfile() or member.isdir()):
                    raise PresetIntegrityError(
                        f"Archive '{archive}' holds '{member.name}', which is not a plain file."
                    )
            tar.extractall(destination, members=members, filter="data")
    except tarfile.TarError as error:
        raise PresetIntegrityError(
            f"'{archive}' is neither a .zip nor a .tar(.gz) archive: {error}"
        ) from None


def _check_member(name: str, archive: Path) -> None:
    parts = Path(name).parts
    if Path(name).is_absolute() or ".." in parts:
        raise PresetIntegrityError(f"Archive '{archive}' holds an unsafe path '{name}'.")


def _preset_root(folder: Path) -> Path:
    """The folder holding the manifest: the archive's root or its one folder."""
    if (folder / MANIFEST).is_file():
        return folder
    children = [p for p in folder.iterdir() if p.is_dir()]
    if len(children) == 1 and (children[0] / MANIFEST).is_file():
        return children[0]
    raise PresetIntegrityError(
        f"The archive holds no {MANIFEST} at its root or in a single top folder."
    )


def fetch_preset(url: str, sha256: str | None) -> Path:
    """Downloads and unpacks a preset archive once; returns its cached folder.

    The archive must match `sha256`; it is unpacked and verified in a
    temporary folder that is renamed into the cache only when everything
    checks out, so an interrupted download never leaves a half-written
    preset. A cached preset loads without the network, even offline.

    Args:
        url: http(s) URL of a `.tar.gz`/`.zip` of a preset folder.
        sha256: The archive's hex sha256 (required: it is what makes a
            download trustworthy).

    Returns:
        The preset folder under `<kerascnn home>/presets/`.

    Raises:
        ZooError: no or malformed sha256, offline without a cached copy, or
            the download failed.
        PresetIntegrityError: the archive or its files do not match.
    """
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in ("http", "https"):
        raise ZooError(f"A preset URL must be http(s). Received: {url!r}")
    if not isinstance(sha256, str) or len(sha256) != 64 or not _is_hex(sha256):
        raise ZooError(
            f"A preset URL needs the archive's sha256 (64 hex digits), e.g. from "
            f"`sha256sum archive.tar.gz`. Received: sha256={sha256!r}"
        )
    sha256 = sha256.lower()
    cached = settings.home() / "presets" / sha256
    if cached.is_dir():
        root = _preset_root(cached)
        verify_preset(root)
        return root
    if settings.offline():
        raise ZooError(
            f"{settings.OFFLINE_VARIABLE} is set, so kerascnn will not download {url}. "
            f"Unset it, or download the archive elsewhere, unpack it and load the folder "
            "with load_preset(path)."
        )
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=cached.parent) as scratch:
        archive = Path(scratch) / "preset.archive"
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(archive, "wb") as f:
                shutil.copyfileobj(response, f)
        except OSError as error:
            raise ZooError(f"Could not download the preset at {url}: {error}") from None
        actual = sha256_file(archive)
        if actual != sha256:
            raise PresetIntegrityError(
                f"The archive downloaded from {url} has sha256 {actual}, not the expected "
                f"{sha256}; it was not used. Check the URL and checksum."
            )
        with atomic_files.directory(cached) as tmp:
            _safe_extract(archive, tmp)
            verify_preset(_preset_root(tmp))
    return _preset_root(cached)


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------
# Building a model from a preset


def trained_weights(path: str | Path) -> dict[str, list[np.ndarray]]:
    """A Keras `.weights.h5` file as arrays by layer name (a state dict).

    NOTE: Keras writes each layer's variables, in `layer.weights` order, to
    `layers/<path>/vars/<i>`, and the layer's name as the `vars` group's
    `name` attribute; reading that is what lets a preset's weights be
    adapted (timm's `load_pretrained`) into a model built once.
    """
    import h5py
    import numpy as np

    weights = {}
    with h5py.File(path, "r") as file:

        def collect(_, node):
            if isinstance(node, h5py.Group) and node.name.endswith("/vars") and len(node):
                name = node.attrs.get("name")
                name = name.decode() if isinstance(name, bytes) else name
                weights[name] = [np.asarray(node[str(i)]) for i in range(len(node))]

        file.visititems(collect)
    return weights


def adapt_kernel(kernel: np.ndarray, channels: int) -> np.ndarray:
    """A first-convolution kernel (kh, kw, in, out) for `channels` inputs.

    1 -> 3: the kernel is repeated over the channels and divided by 3, so a
    gray image given as three equal channels gives exactly the original
    output (and an RGB image is seen through its channel mean). 3 -> 1: the
    kernel is summed over the channels, so a gray image gives what the
    original gave for that image repeated as RGB.
    """
    import numpy as np

    have = kernel.shape[2]
    if have == channels:
        return kernel
    if have == 1:
        return np.repeat(kernel, channels, axis=2) / channels
    if channels == 1:
        return kernel.sum(axis=2, keepdims=True)
    raise ZooError(
        f"Cannot adapt a first convolution from {have} to {channels} input channels; "
        "kerascnn adapts 1 <-> N channels."
    )


def build_from_preset(
    preset: Preset, *, num_classes=None, input_shape=None, class_names=None, dtype=None
) -> ConvNet:
    """Builds the preset's network once, with its trained weights adapted.

    Other classes — a different `num_classes`, or `class_names` other than
    the preset's (new labels, even as many) — keep the trained backbone
    under a fresh classifier; different input channels adapt the first
    convolution's kernel (`adapt_kernel`); a different input size works
    when the head pools globally. Each change is logged. The layers changed
    are those the model declares (`model.roles`), as timm's pretrained
    configs declare `first_conv` and `classifier`. `dtype` is the layers'
    dtype policy; None means the global one.

    Returns:
        A `ConvNet` whose config records its class names (the preset's, the
        ones given, or "0", "1", ... for a fresh head given only a count)
        and its provenance: the preset's name and weights sha256.
    """
    import keras

    import kerascnn.builder  # noqa: F401 (registers ConvNet with Keras)

    if class_names is not None:
        class_names = [str(name) for name in class_names]
        if num_classes is not None and num_classes != len(class_names):
            raise ZooError(
                f"num_classes={num_classes} but {len(class_names)} class names were given; "
                "give one of them."
            )
        num_classes = len(class_names)
    spec = preset.spec
    classes = spec.head.num_classes if num_classes is None else num_classes
    shape = input_shape or (spec.input.height, spec.input.width, spec.input.channels)
    height, width, channels = input_shape_of(shape, preset.name)
    fresh_head = classes != spec.head.num_classes or (
        class_names is not None and class_names != preset.class_names
    )
    target = spec.to_dict()
    target["input"].update(
        # In-graph RGB -> gray only makes sense for RGB input.
        height=height,
        width=width,
        channels=channels,
        grayscale=spec.input.grayscale and channels == 3,
    )
    target["head"]["num_classes"] = classes
    config = {
        **preset.config,
        "config": {
            **preset.config["config"],
            "spec": target,
            "dtype": keras.config.dtype_policy().name if dtype is None else dtype,
            "class_names": class_names if fresh_head else preset.class_names,
            "provenance": {"preset": preset.name, "preset_weights_sha256": preset.weights_sha256},
        },
    }
    # Through Keras' safe-mode deserializer, as a `.keras` file would be.
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    trained = trained_weights(preset.directory / WEIGHTS)
    roles = model.roles
    for layer in model.layers:
        if not layer.weights:
            continue
        weights = trained.get(layer.name)
        if weights is None:
            raise PresetIntegrityError(
                f"Preset '{preset.directory}' has no weights for layer '{layer.name}' in "
                f"{WEIGHTS}; it does not match its config. Fetch the preset again."
            )
        if layer.name == roles.classifier and fresh_head:
            logger.warning(
                "%s: built a fresh %d-class head (layer '%s'); the backbone keeps "
                "its trained weights. The preset's %d classes no longer apply.",
                preset.name,
                classes,
                layer.name,
                spec.head.num_classes,
            )
            continue
        if layer.name == roles.first_conv and weights[0].shape[2] != channels:
            if isinstance(layer, keras.layers.DepthwiseConv2D):
                raise ZooError(
                    f"{preset.name} starts with a depthwise convolution; "
                    "its input channels cannot be adapted."
                )
            logger.warning(
                "%s: adapted %s from %d to %d input channel(s).",
                preset.name,
                layer.name,
                weights[0].shape[2],
                channels,
            )
            weights[0] = adapt_kernel(weights[0], channels)
        expected = [tuple(w.shape) for w in layer.weights]
        if [w.shape for w in weights] != expected:
            raise ZooError(
                f"{preset.name}: layer '{layer.name}' has trained weights of shape "
                f"{[w.shape for w in weights]} but the {height}x{width} input needs {expected}. "
                f"A '{spec.head.pooling}' head fixes the input size to "
                f"{spec.input.height}x{spec.input.width}; resize the images to that, or "
                "use a model with a global-pooling head."
            )
        layer.set_weights(weights)
    return model
