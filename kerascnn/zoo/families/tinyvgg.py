"""`tinyvgg`: the smallest VGG-style networks that still read digits well.

Conv-ReLU-pool blocks with batch norm and 3x3 filters, widening as the map
shrinks, then global average pooling: the classifier has one weight per
channel and class, so almost every parameter is a filter. Sized for
microcontrollers, where every kilobyte of flash counts.
"""

from __future__ import annotations

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo.families._common import input_fields
from kerascnn.zoo.registry import register_model


@register_model(
    family="tinyvgg",
    reference="VGG-style, under 8,000 parameters: conv3x3 8 | 2x conv3x3 16 | conv3x3 24, "
    "batch norm, 2x2 max pooling, global average pooling.",
    default_input_shape=(28, 28, 1),
)
def tinyvgg_8k(input_shape, num_classes, dropout=0.0):
    return ConvNetSpec(
        name="tinyvgg_8k",
        input=input_fields(input_shape),
        blocks=[
            {"filters": 8, "batch_norm": True},
            {"filters": 16, "convs": 2, "batch_norm": True},
            {"filters": 24, "batch_norm": True},
        ],
        head={"pooling": "global_average", "dropout": dropout, "num_classes": num_classes},
    )
