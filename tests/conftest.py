"""Shared fixtures: the real data sets in ../shared/datasets, prepared once."""

import gzip
import tarfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


def shared(name: str) -> Path:
    path = SHARED_DATASETS / name
    if not path.is_dir():
        pytest.skip(f"needs the offline data sets in {SHARED_DATASETS}")
    return path


def read_idx(path: Path) -> np.ndarray:
    """Reads an idx(.gz) file the way its format is specified: magic, dims, bytes."""
    data = gzip.decompress(path.read_bytes())
    ndim = data[3]
    dims = np.frombuffer(data[4 : 4 + 4 * ndim], dtype=">u4")
    return np.frombuffer(data[4 + 4 * ndim :], dtype=np.uint8).reshape(dims)


@pytest.fixture(scope="session")
def tfds_data_dir(tmp_path_factory):
    """A TFDS data dir where the real MNIST builder prepared MNIST offline,
    through kerascnn (`load_dataset` with `manual_dir`)."""
    from kerascnn.data import load_dataset

    data_dir = tmp_path_factory.mktemp("tfds")
    load_dataset("tfds:mnist", data_dir=str(data_dir), manual_dir=str(shared("mnist")))
    return str(data_dir)


@pytest.fixture(scope="session")
def tfds_fashion_data_dir(tfds_data_dir):
    """The same data dir with Fashion-MNIST prepared too: their original files
    share names, so one data dir holding both is the case that once mixed
    their pixels up (`tests/data/test_tfds.py` checks each against its own
    official files)."""
    from kerascnn.data import load_dataset

    load_dataset(
        "tfds:fashion_mnist", data_dir=tfds_data_dir, manual_dir=str(shared("fashion-mnist"))
    )
    return tfds_data_dir


def _unpack_cifar10(target: Path, train_per_class: int | None) -> Path:
    archive = shared("cifar10-jpg") / "CIFAR-10-images.tar.gz"
    with tarfile.open(archive) as tar:
        members = [
            m
            for m in tar
            if train_per_class is None
            or "/train/" not in m.name
            or not m.name.endswith(".jpg")
            or int(Path(m.name).stem) < train_per_class
        ]
        tar.extractall(target, members=members, filter="data")
    return target / "CIFAR-10-images"


@pytest.fixture(scope="session")
def cifar10_folder(tmp_path_factory):
    """The CIFAR-10 JPEG copy, unpacked: test/<class>/*.jpg whole, and the
    first 1,000 photos of each train/<class>/ (what the tests train on)."""
    return _unpack_cifar10(tmp_path_factory.mktemp("cifar10"), train_per_class=1000)


@pytest.fixture(scope="session")
def cifar10_full_folder(tmp_path_factory):
    """The CIFAR-10 JPEG copy, all 60,000 photos unpacked."""
    return _unpack_cifar10(tmp_path_factory.mktemp("cifar10_full"), train_per_class=None)
