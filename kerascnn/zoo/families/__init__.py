"""The built-in model families; importing this package registers them."""

from kerascnn.zoo.families import alexnet, lenet, minivgg, mobile, resnet8, seed_cnn, tinyvgg

__all__ = ["alexnet", "lenet", "minivgg", "mobile", "resnet8", "seed_cnn", "tinyvgg"]
