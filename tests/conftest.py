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
    """A TFDS data dir where the real builders prepared MNIST and
    Fashion-MNIST offline, both through kerascnn (`load_dataset` with
    `manual_dir`): their original files share names, so one data dir holding
    both is the case that once mixed their pixels up (`tests/data/test_tfds.py`
    checks each against its own official files)."""
    from kerascnn.data import load_dataset

    data_dir = tmp_path_factory.mktemp("tfds")
    for name, folder in (("mnist", "mnist"), ("fashion_mnist", "fashion-mnist")):
        load_dataset(f"tfds:{name}", data_dir=str(data_dir), manual_dir=str(shared(folder)))
    return str(data_dir)


@pytest.fixture(scope="session")
def cifar10_folder(tmp_path_factory):
    """The CIFAR-10 JPEG copy, unpacked: train/<class>/*.jpg and test/<class>/*.jpg."""
    archive = shared("cifar10-jpg") / "CIFAR-10-images.tar.gz"
    target = tmp_path_factory.mktemp("cifar10")
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target / "CIFAR-10-images"
