"""Makes the pictures of docs/inside-the-network.md from the shipped presets.

    python docs/tutorial/make_pictures.py --shared ../shared/datasets

lenet5.mnist looks at real MNIST test digits, minivgg_m.cifar10 at a real
CIFAR-10 test photo (both read from the offline copies in --shared).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from kerascnn.inspection import inspect_image
from kerascnn.zoo import create_model

HERE = Path(__file__).parent
PICTURES = ("steps.png", "feature_maps.png", "filters_block1_conv1.png", "grad_cam.png")


def mnist_digit(shared: Path, index: int) -> np.ndarray:
    data = gzip.decompress((shared / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes())
    images = np.frombuffer(data[16:], dtype=np.uint8).reshape(-1, 28, 28)
    return images[index, :, :, None].astype("float32")


def cifar_photo(shared: Path, member: str) -> np.ndarray:
    with tarfile.open(shared / "cifar10-jpg" / "CIFAR-10-images.tar.gz") as archive:
        data = archive.extractfile(member).read()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype="float32")


def render(model_name: str, image: np.ndarray, prefix: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        summary = inspect_image(create_model(model_name), image, Path(tmp) / "out")
        for picture in PICTURES:
            shutil.copy(Path(tmp) / "out" / picture, HERE / f"{prefix}_{picture}")
    print(f"{prefix}: {summary['prediction'][:3]}")
    return {"prediction": summary["prediction"][:3], "statistics": summary["statistics"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default="../shared/datasets", type=Path)
    parser.add_argument("--only", choices=("mnist", "cifar10"))
    args = parser.parse_args(argv)
    facts_path = HERE / "facts.json"
    facts = json.loads(facts_path.read_text()) if facts_path.is_file() else {}
    if args.only in (None, "mnist"):
        facts["mnist"] = render("lenet5.mnist", mnist_digit(args.shared, 0), "mnist")
    if args.only in (None, "cifar10"):
        member = "CIFAR-10-images/test/cat/0000.jpg"
        facts["cifar10"] = render("minivgg_m.cifar10", cifar_photo(args.shared, member), "cifar")
        facts["cifar10"]["photo"] = member
    facts_path.write_text(json.dumps(facts, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
