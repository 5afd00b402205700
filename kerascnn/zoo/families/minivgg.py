"""`minivgg`: VGG-style networks for 32x32 images (Simonyan and Zisserman,
"Very deep convolutional networks for large-scale image recognition", 2015).

Three stages of two 3x3 convolutions (batch norm, ReLU) and 2x2 max pooling,
doubling the width at each stage as VGG does, then global average pooling
and the classifier, so they accept any input of 8x8 or more.
"""

from __future__ import annotations

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo.families._common import input_fields
from kerascnn.zoo.registry import register_model


def _minivgg(name, input_shape, num_classes, width, dropout):
    return ConvNetSpec(
        name=name,
        input=input_fields(input_shape),
        blocks=[
            {"filters": width * 2**stage, "convs": 2, "batch_norm": True} for stage in range(3)
        ],
        head={"pooling": "global_average", "dropout": dropout, "num_classes": num_classes},
    )


_REFERENCE = "VGG-style (Simonyan & Zisserman 2015) for 32x32: 3 stages of 2 conv3x3, {} filters."


@register_model(family="minivgg", reference=_REFERENCE.format("16/32/64"))
def minivgg_s(input_shape, num_classes, dropout=0.0):
    return _minivgg("minivgg_s", input_shape, num_classes, 16, dropout)


@register_model(family="minivgg", reference=_REFERENCE.format("18/36/72"))
def minivgg_18(input_shape, num_classes, dropout=0.0):
    # The widest minivgg under 100,000 parameters on 28x28 grayscale input
    # (92,296), for Fashion-MNIST's budget.
    return _minivgg("minivgg_18", input_shape, num_classes, 18, dropout)


@register_model(family="minivgg", reference=_REFERENCE.format("32/64/128"))
def minivgg_m(input_shape, num_classes, dropout=0.0):
    return _minivgg("minivgg_m", input_shape, num_classes, 32, dropout)


@register_model(family="minivgg", reference=_REFERENCE.format("64/128/256"))
def minivgg_l(input_shape, num_classes, dropout=0.0):
    return _minivgg("minivgg_l", input_shape, num_classes, 64, dropout)
