"""`tinyvgg`: the smallest VGG-style networks that still read digits well.

Conv-ReLU blocks with batch norm and 3x3 filters, one max pooling, then
global average pooling: the classifier has one weight per channel and
class, so almost every parameter is a filter. Most multiply-adds are spent
at full resolution, where a few filters see every stroke; the parameters go
to the smaller maps after pooling. Sized for microcontrollers, where every
kilobyte of flash counts.
"""

from __future__ import annotations

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo.families._common import input_fields
from kerascnn.zoo.registry import register_model


@register_model(
    family="tinyvgg",
    reference="Plain 3x3 convolutions with batch norm, unpadded so the map shrinks by 2 "
    "each: 10, 16 | 2x2 max pooling, 1x1 to 10 | 14, 16, 16, global average pooling; "
    "under 8,000 parameters.",
    default_input_shape=(28, 28, 1),
)
def tinyvgg_8k(input_shape, num_classes, dropout=0.0):
    def conv(filters, kernel_size=3, pooling="none"):
        return {
            "filters": filters,
            "kernel_size": kernel_size,
            "padding": "valid",
            "pooling": pooling,
            "batch_norm": True,
        }

    return ConvNetSpec(
        name="tinyvgg_8k",
        input=input_fields(input_shape),
        blocks=[
            conv(10),
            conv(16, pooling="max"),
            # A 1x1 convolution narrows the pooled map before the next stage,
            # where the parameters go.
            conv(10, kernel_size=1),
            conv(14),
            conv(16),
            conv(16),
        ],
        head={"pooling": "global_average", "dropout": dropout, "num_classes": num_classes},
    )
