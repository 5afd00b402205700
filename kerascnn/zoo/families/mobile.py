"""`mobilecnn`: a MobileNet-style family for edge hardware (Howard et al.,
"MobileNets: Efficient convolutional neural networks for mobile vision
applications", 2017).

A 3x3 convolution stem, then depthwise-separable blocks (a 3x3 depthwise
filter per channel, then a 1x1 convolution mixing channels, each with batch
norm and ReLU) that halve the map with stride 2 instead of pooling, then
global average pooling. The width multiplier scales every layer's filters
(rounded to multiples of 8, which vector units like) and so the
multiply-adds by about its square. The stem runs at stride 1, for 32x32
inputs; MobileNet's ImageNet stem is stride 2.
"""

from __future__ import annotations

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo.families._common import input_fields
from kerascnn.zoo.registry import ZooError, register_model

# (filters, stride) of each depthwise-separable block, at width 1.0.
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2))


def scaled_filters(filters: int, width_multiplier: float) -> int:
    """`filters * width_multiplier` rounded to a multiple of 8 (at least 8)."""
    return max(8, int(filters * width_multiplier + 4) // 8 * 8)


def _mobilecnn(name, input_shape, num_classes, width_multiplier, dropout):
    if not isinstance(width_multiplier, (int, float)) or not 0 < width_multiplier <= 4:
        raise ZooError(
            f"width_multiplier must be a number in (0, 4]. Received: "
            f"width_multiplier={width_multiplier!r}"
        )
    blocks = [
        {
            "filters": scaled_filters(32, width_multiplier),
            "batch_norm": True,
            "pooling": "none",
        }
    ]
    blocks += [
        {
            "filters": scaled_filters(filters, width_multiplier),
            "conv_type": "depthwise_separable",
            "strides": stride,
            "batch_norm": True,
            "pooling": "none",
        }
        for filters, stride in _BLOCKS
    ]
    return ConvNetSpec(
        name=name,
        input=input_fields(input_shape),
        blocks=blocks,
        head={"pooling": "global_average", "dropout": dropout, "num_classes": num_classes},
    )


_REFERENCE = "MobileNet v1-style (Howard et al. 2017): depthwise-separable blocks, width {}."


@register_model(family="mobilecnn", reference=_REFERENCE.format("0.5"))
def mobilecnn_050(input_shape, num_classes, width_multiplier=0.5, dropout=0.0):
    return _mobilecnn("mobilecnn_050", input_shape, num_classes, width_multiplier, dropout)


@register_model(family="mobilecnn", reference=_REFERENCE.format("0.75"))
def mobilecnn_075(input_shape, num_classes, width_multiplier=0.75, dropout=0.0):
    return _mobilecnn("mobilecnn_075", input_shape, num_classes, width_multiplier, dropout)


@register_model(family="mobilecnn", reference=_REFERENCE.format("1.0"))
def mobilecnn_100(input_shape, num_classes, width_multiplier=1.0, dropout=0.0):
    return _mobilecnn("mobilecnn_100", input_shape, num_classes, width_multiplier, dropout)
