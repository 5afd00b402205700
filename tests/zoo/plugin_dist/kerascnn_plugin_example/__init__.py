"""A third-party family, registered when kerascnn loads its entry point."""

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo import register_model


@register_model(family="plugincnn", reference="A test plugin's two-block network.")
def plugincnn_tiny(input_shape, num_classes):
    height, width, channels = input_shape
    return ConvNetSpec(
        name="plugincnn_tiny",
        input={"height": height, "width": width, "channels": channels},
        blocks=[{"filters": 4}, {"filters": 8}],
        head={"num_classes": num_classes},
    )
