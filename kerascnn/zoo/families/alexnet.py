"""`alexnet`: Krizhevsky, Sutskever and Hinton, "ImageNet classification with
deep convolutional neural networks", NeurIPS 2012, scaled to 32x32 images.

Five convolutions (5x5, 5x5, 3x3, 3x3, 3x3) with overlapping 3x3 max
pooling at stride 2 after the first, second and fifth, then two dropout
fully connected layers. Batch norm stands in for local response
normalisation, and the 11x11 stride-4 stem becomes a 5x5 stride-1 one,
which suits small images.
"""

from __future__ import annotations

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo.families._common import input_fields
from kerascnn.zoo.registry import register_model


@register_model(
    family="alexnet",
    reference="AlexNet-style (Krizhevsky et al. 2012) for 32x32: 5 convolutions, "
    "overlapping max pooling, 2 dropout FC layers.",
)
def alexnet_mini(input_shape, num_classes, dropout=0.5):
    overlapping = {"pool_size": 3, "pool_strides": 2, "pool_padding": "same"}
    return ConvNetSpec(
        name="alexnet_mini",
        input=input_fields(input_shape),
        blocks=[
            {"filters": 64, "kernel_size": 5, "batch_norm": True, **overlapping},
            {"filters": 128, "kernel_size": 5, "batch_norm": True, **overlapping},
            {"filters": 192, "pooling": "none", "batch_norm": True},
            {"filters": 192, "pooling": "none", "batch_norm": True},
            {"filters": 128, "batch_norm": True, **overlapping},
        ],
        head={"dense": [512, 256], "dropout": dropout, "num_classes": num_classes},
    )
