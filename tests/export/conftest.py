"""Real MNIST test images and the lenet5.mnist exports, made once per session."""

import pytest

from kerascnn.export import export_model
from kerascnn.zoo import create_model
from tests.conftest import read_idx, shared


@pytest.fixture(scope="session")
def mnist_test():
    """The first 1,000 MNIST test images (raw 0-255, float32) and labels."""
    folder = shared("mnist")
    images = read_idx(folder / "t10k-images-idx3-ubyte.gz")[:1000, :, :, None]
    labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:1000]
    return images.astype("float32"), labels.astype(int)


@pytest.fixture(scope="session")
def lenet5_export(tmp_path_factory, mnist_test):
    """lenet5.mnist exported to every format and quantized variant."""
    out = tmp_path_factory.mktemp("lenet5") / "export"
    images, _ = mnist_test
    report = export_model(
        create_model("lenet5.mnist"),
        out,
        quantize=("float16", "dynamic", "int8", "uint8"),
        representative_data=images[:500],
        opsets=(13, 17),
        feature_maps=True,
        progress=False,
    )
    return out, report
