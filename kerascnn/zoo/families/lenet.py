"""`lenet5`: LeCun, Bottou, Bengio and Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 1998.

C1 (6 5x5 filters) - S2 - C3 (16 5x5 filters) - S4 - C5 (120) - F6 (84) -
output. The original's S2 and S4 "subsampling" layers add up each 2x2 window
(then scale it by a learned coefficient, which the next layer's weights
absorb): sum pooling. `lenet5_max` is the common modern form, with max
pooling. Both use ReLU for the scaled tanh, and 'same' padding in C1 on
28x28 images where the paper padded them to 32x32; C5 is a 5x5 convolution
on a 5x5 map, that is a fully connected layer on the flattened S4.
"""

from __future__ import annotations

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo.families._common import input_fields
from kerascnn.zoo.registry import register_model


def _lenet5(name, input_shape, num_classes, pooling):
    return ConvNetSpec(
        name=name,
        input=input_fields(input_shape),
        blocks=[
            {"filters": 6, "kernel_size": 5, "padding": "same", "pooling": pooling},
            {"filters": 16, "kernel_size": 5, "padding": "valid", "pooling": pooling},
        ],
        head={"dense": [120, 84], "num_classes": num_classes},
    )


@register_model(
    family="lenet5",
    reference="LeCun et al. 1998, LeNet-5 with its original sum-pooling subsampling (S2, S4).",
    default_input_shape=(28, 28, 1),
)
def lenet5(input_shape, num_classes):
    return _lenet5("lenet5", input_shape, num_classes, "sum")


@register_model(
    family="lenet5",
    reference="LeCun et al. 1998, LeNet-5 in its modern form: max pooling for subsampling.",
    default_input_shape=(28, 28, 1),
)
def lenet5_max(input_shape, num_classes):
    return _lenet5("lenet5_max", input_shape, num_classes, "max")
