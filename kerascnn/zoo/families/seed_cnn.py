"""`seed_cnn`: the network of the conv-ReLU-pool walkthrough.

Convolution (filters slide over the image), ReLU (the rectified feature
map), pooling (a smaller map), repeated; then flatten and fully connected
layers that predict. The three sizes differ in depth and width only.
"""

from __future__ import annotations

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo.families._common import input_fields
from kerascnn.zoo.registry import register_model

_REFERENCE = "The conv-ReLU-pool walkthrough network: {}, then flatten and fully connected."


@register_model(
    family="seed_cnn",
    reference=_REFERENCE.format("2 blocks of 8/16 5x5 filters with 2x2 max pooling"),
    default_input_shape=(28, 28, 1),
)
def seed_cnn_tiny(input_shape, num_classes, dropout=0.0):
    return ConvNetSpec(
        name="seed_cnn_tiny",
        input=input_fields(input_shape),
        blocks=[{"filters": 8, "kernel_size": 5}, {"filters": 16, "kernel_size": 5}],
        head={"dense": [64], "dropout": dropout, "num_classes": num_classes},
    )


@register_model(
    family="seed_cnn",
    reference=_REFERENCE.format("2 blocks of 32/64 3x3 filters (batch norm) with 2x2 max pooling"),
    default_input_shape=(28, 28, 1),
)
def seed_cnn_small(input_shape, num_classes, dropout=0.3):
    return ConvNetSpec(
        name="seed_cnn_small",
        input=input_fields(input_shape),
        blocks=[{"filters": 32, "batch_norm": True}, {"filters": 64, "batch_norm": True}],
        head={"dense": [128], "dropout": dropout, "num_classes": num_classes},
    )


@register_model(
    family="seed_cnn",
    reference=_REFERENCE.format(
        "2 blocks of two 3x3 convolutions (32/64 filters, batch norm) with 2x2 max pooling"
    ),
    default_input_shape=(28, 28, 1),
)
def seed_cnn_base(input_shape, num_classes, dropout=0.4):
    return ConvNetSpec(
        name="seed_cnn_base",
        input=input_fields(input_shape),
        blocks=[
            {"filters": 32, "convs": 2, "batch_norm": True},
            {"filters": 64, "convs": 2, "batch_norm": True},
        ],
        head={"dense": [256], "dropout": dropout, "num_classes": num_classes},
    )
