"""`resnet8`: MLPerf Tiny's reference network for image classification.

He et al., "Deep residual learning for image recognition" (2016), cut down
to the budget of a microcontroller by the MLPerf Tiny benchmark (Banbury et
al., 2021): a 3x3 convolution, then three shortcut blocks of two 3x3
convolutions with batch norm (16, 32 and 64 filters; the last two start with
stride 2 instead of pooling), global average pooling and the classifier.
78,426 parameters and 12.5 M multiply-adds on 32x32x3 images, the budget the
zoo's CIFAR-10 edge presets are measured against.
"""

from __future__ import annotations

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo.families._common import input_fields
from kerascnn.zoo.registry import register_model


def _resnet8(name, input_shape, num_classes, width, dropout):
    def stage(filters, stride):
        return {
            "filters": filters,
            "convs": 2,
            "strides": stride,
            "shortcut": True,
            "pooling": "none",
            "batch_norm": True,
        }

    return ConvNetSpec(
        name=name,
        input=input_fields(input_shape),
        blocks=[
            {"filters": width, "pooling": "none", "batch_norm": True},
            stage(width, 1),
            stage(2 * width, 2),
            stage(4 * width, 2),
        ],
        head={"pooling": "global_average", "dropout": dropout, "num_classes": num_classes},
    )


_REFERENCE = (
    "MLPerf Tiny image classification reference (Banbury et al. 2021): conv3x3 {0}, then "
    "shortcut blocks of 2 conv3x3 with {0}, {1} (stride 2), {2} (stride 2) filters."
)


@register_model(family="resnet8", reference=_REFERENCE.format(16, 32, 64))
def resnet8(input_shape, num_classes, dropout=0.0):
    return _resnet8("resnet8", input_shape, num_classes, 16, dropout)


@register_model(family="resnet8", reference=_REFERENCE.format(18, 36, 72))
def resnet8_18(input_shape, num_classes, dropout=0.0):
    # The widest resnet8 under 100,000 parameters on 28x28 grayscale input
    # (98,632), for Fashion-MNIST's budget.
    return _resnet8("resnet8_18", input_shape, num_classes, 18, dropout)
