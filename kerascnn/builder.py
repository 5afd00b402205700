"""Builds Keras models from `ConvNetSpec`s."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from kerascnn.errors import UsageError
from kerascnn.layers import (
    BatchNormalization,
    Flatten,
    GlobalSumPooling2D,
    RectifiedFeatureMap,
    RGBToGrayscale,
    SumPooling2D,
    rectified_map_layers,
)
from kerascnn.spec import ConvBlockSpec, ConvNetSpec, HeadSpec

_POOLING_LAYERS = {
    "max": keras.layers.MaxPooling2D,
    "sum": SumPooling2D,
    "average": keras.layers.AveragePooling2D,
}
_GLOBAL_POOLING_LAYERS = {
    "global_average": keras.layers.GlobalAveragePooling2D,
    "global_max": keras.layers.GlobalMaxPooling2D,
    "global_sum": GlobalSumPooling2D,
}


def _conv_block(x, block: ConvBlockSpec, number: int, roles: dict, dtype):
    prefix = f"block{number}"
    # A bias before batch normalisation is cancelled by its mean.
    use_bias = not block.batch_norm

    def convolution(layer):
        if roles["first_conv"] is None:
            roles["first_conv"] = layer.name
        return layer

    def normalize(x, name):
        if block.batch_norm:
            x = BatchNormalization(name=f"{prefix}_{name.format('bn')}", dtype=dtype)(x)
        return x

    def rectify(x, name, conv):
        layer = RectifiedFeatureMap(name=f"{prefix}_{name.format('relu')}", dtype=dtype)
        # conv -> rectified feature map (-> pooled map, set below): one step.
        roles["steps"].append({"block": number, "conv": conv, "rectified": layer.name})
        return layer(x)

    shortcut = x
    if block.projects(x.shape[-1]):
        # As MLPerf Tiny's ResNet-8: a plain 1x1 convolution, bias and no
        # batch norm, so the budget of its 78,666 parameters holds.
        shortcut = keras.layers.Conv2D(
            block.filters,
            1,
            strides=block.strides,
            padding="same",
            name=f"{prefix}_shortcut",
            dtype=dtype,
        )(shortcut)
    for j in range(1, block.convs + 1):
        if block.conv_type == "depthwise_separable":
            # MobileNet v1: each factor has its own normalisation and ReLU.
            x = convolution(
                keras.layers.DepthwiseConv2D(
                    block.kernel_size,
                    strides=block.conv_strides(j),
                    padding=block.padding,
                    use_bias=use_bias,
                    name=f"{prefix}_dwconv{j}",
                    dtype=dtype,
                )
            )(x)
            x = rectify(normalize(x, f"dw{{}}{j}"), f"dw{{}}{j}", f"{prefix}_dwconv{j}")
            kernel_size, strides, padding = 1, 1, "valid"
        else:
            kernel_size, strides, padding = block.kernel_size, block.conv_strides(j), block.padding
        x = convolution(
            keras.layers.Conv2D(
                block.filters,
                kernel_size,
                strides=strides,
                padding=padding,
                use_bias=use_bias,
                name=f"{prefix}_conv{j}",
                dtype=dtype,
            )
        )(x)
        x = normalize(x, f"{{}}{j}")
        if block.shortcut and j == block.convs:
            # The residual sum comes before the last ReLU, as in ResNet.
            x = keras.layers.Add(name=f"{prefix}_add", dtype=dtype)([x, shortcut])
        x = rectify(x, f"{{}}{j}", f"{prefix}_conv{j}")
    if block.pooling != "none":
        roles["steps"][-1]["pooled"] = f"{prefix}_pool"
        x = _POOLING_LAYERS[block.pooling](
            pool_size=block.pool_size,
            strides=block.effective_pool_strides,
            padding=block.pool_padding,
            name=f"{prefix}_pool",
            dtype=dtype,
        )(x)
    if block.dropout:
        x = keras.layers.Dropout(block.dropout, name=f"{prefix}_dropout", dtype=dtype)(x)
    return x


def _head(x, head: HeadSpec, roles: dict, dtype):
    if head.pooling == "flatten":
        x = Flatten(name="flatten", dtype=dtype)(x)
    else:
        x = _GLOBAL_POOLING_LAYERS[head.pooling](name="global_pool", dtype=dtype)(x)
    for k, units in enumerate(head.dense, start=1):
        if head.dropout:
            x = keras.layers.Dropout(head.dropout, name=f"fc{k}_dropout", dtype=dtype)(x)
        x = keras.layers.Dense(units, activation="relu", name=f"fc{k}", dtype=dtype)(x)
        roles["fully_connected"].append(f"fc{k}")
    if head.dropout:
        x = keras.layers.Dropout(head.dropout, name="predictions_dropout", dtype=dtype)(x)
    # NOTE: float32 so that softmax stays stable under mixed precision.
    classifier = keras.layers.Dense(
        head.num_classes, activation=head.activation, name="predictions", dtype="float32"
    )
    roles["classifier"] = classifier.name
    roles["fully_connected"].append(classifier.name)
    return classifier(x)


def _network(spec: ConvNetSpec, dtype):
    """The input and output of the network a spec describes, its layers
    computing in the dtype policy `dtype`, and the names of the layers that
    play a role in it (first convolution, classifier...)."""
    roles = {"first_conv": None, "classifier": None, "fully_connected": [], "steps": []}
    image = keras.Input(
        shape=(spec.input.height, spec.input.width, spec.input.channels),
        dtype="float32",
        name="image",
    )
    x = keras.layers.Rescaling(spec.input.scale, spec.input.offset, name="rescale", dtype=dtype)(
        image
    )
    if spec.input.grayscale:
        x = RGBToGrayscale(name="grayscale", dtype=dtype)(x)
    for number, block in enumerate(spec.blocks, start=1):
        x = _conv_block(x, block, number, roles, dtype)
    return image, _head(x, spec.head, roles, dtype), roles


@dataclass(frozen=True)
class LayerRoles:
    """Which layers of a `ConvNet` play which part, by layer name.

    Code that adapts a model (a fresh head, a first convolution for other
    channels, fine-tuning only the classifier) reads these declarations, as
    timm reads a pretrained config's `first_conv` and `classifier`, instead
    of searching for a layer by type or literal name.

    Attributes:
        first_conv: The convolution that sees the preprocessed image.
        classifier: The dense layer that predicts the classes.
        fully_connected: Every dense layer, in order (the classifier last).
        rectified_maps: The layers whose outputs are rectified feature maps
            (`kerascnn.layers.is_rectified_map`).
        steps: The network's conv -> rectified map (-> pooled map) steps, in
            order: `Step`s naming their block and layers. Inspection, its
            HTML page and the web page's feature maps all read them.
    """

    first_conv: str
    classifier: str
    fully_connected: tuple[str, ...]
    rectified_maps: tuple[str, ...]
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Step:
    """One convolution -> rectified feature map (-> pooled map) step.

    Attributes:
        conv: The convolution's layer name (None where it cannot be traced).
        rectified: The rectifying layer's name.
        pooled: The pooling layer's name, or None when the step does not pool.
        block: The spec's block it belongs to (1, 2, ...), None for a
            model that has no blocks.
    """

    conv: str | None
    rectified: str
    pooled: str | None = None
    block: int | None = None

    @property
    def layers(self) -> list[str]:
        return [name for name in (self.conv, self.rectified, self.pooled) if name]


def default_class_names(count: int) -> list[str]:
    """ "0", "1", ...: the names of classes nobody named."""
    return [str(i) for i in range(count)]


def _checked_class_names(class_names, num_classes: int) -> list[str]:
    if class_names is None:
        return default_class_names(num_classes)
    if isinstance(class_names, str) or not isinstance(class_names, (list, tuple)):
        raise UsageError(
            f"`class_names` must be a list of strings. Received: class_names={class_names!r}"
        )
    names = [str(name) for name in class_names]
    if len(names) != num_classes:
        raise UsageError(
            f"The head predicts {num_classes} classes but {len(names)} class names were given; "
            f"give one name a class. Received: class_names={names}"
        )
    bad = [name for name in names if not name.strip() or "\n" in name or "\r" in name]
    if bad:
        raise UsageError(
            "Class names must be non-empty single lines (they become lines of labels.txt). "
            f"Received: class_names={names}"
        )
    if len(set(names)) != len(names):
        raise UsageError(f"Class names must be unique. Received: class_names={names}")
    return names


# What a model records of where its weights came from: the preset it
# started from and the sha256 of that preset's weights file, the
# fine-tuning recipe run on it since, and the teacher it was distilled from
# with the sha256 of the teacher's weights. None: trained from its spec.
PROVENANCE_FIELDS = (
    "preset",
    "preset_weights_sha256",
    "recipe",
    "teacher",
    "teacher_weights_sha256",
)


def _checked_provenance(provenance) -> dict:
    provenance = {} if provenance is None else provenance
    if not isinstance(provenance, dict) or not all(key in PROVENANCE_FIELDS for key in provenance):
        raise UsageError(
            f"`provenance` must be a dict with keys among {', '.join(PROVENANCE_FIELDS)}. "
            f"Received: provenance={provenance!r}"
        )
    return {key: provenance[key] for key in PROVENANCE_FIELDS if provenance.get(key) is not None}


@keras.saving.register_keras_serializable(package="kerascnn")
class ConvNet(keras.Model):
    """A functional Keras model built from a `ConvNetSpec`, that knows what it is.

    It takes raw pixels (0-255, float32, channels last), preprocesses them
    in the graph, applies the conv-ReLU-pool blocks and the head. Layer names
    are stable: `rescale`, `grayscale`, `block1_conv1`, `block1_bn1`,
    `block1_relu1`, `block1_pool`, `block1_dropout`, ..., (depthwise-separable
    blocks add `block1_dwconv1`, `block1_dwbn1`, `block1_dwrelu1` before
    the 1x1 `block1_conv1`; shortcut blocks add `block1_add` before the
    last ReLU, and the 1x1 `block1_shortcut` where they project), `flatten` or
    `global_pool`, `fc1`, `predictions`.

    Everything the model is lives in its config, as keras-hub's backbones
    keep theirs: the spec (architecture and preprocessing), the dtype
    policy, the class names and the provenance. So `.keras` save and load,
    `keras.models.clone_model`, fine-tuning and every exporter see the same
    model; `roles` and `preprocessing` follow from the spec.

    Args:
        spec: A `ConvNetSpec` or its dict.
        dtype: Dtype policy of the layers ("float32", "mixed_float16",
            "mixed_bfloat16"); None means the global policy. The classifier
            always computes in float32.
        class_names: The name of each class the head predicts, index =
            class; None means "0", "1", ...
        provenance: Where the weights came from: a dict with any of
            `preset` (name), `preset_weights_sha256`, `recipe` (the
            fine-tuning recipe run since), `teacher` and
            `teacher_weights_sha256` (the model it was distilled from);
            empty means trained from the spec.
        name: The model's name; None means the spec's name.
        **kwargs: Passed to `keras.Model` (for example `trainable`).

    Example:
    >>> model = ConvNet(spec, class_names=["cat", "dog"])
    >>> keras.models.clone_model(model).class_names
    ['cat', 'dog']
    """

    def __init__(
        self,
        spec: ConvNetSpec | dict,
        dtype=None,
        class_names=None,
        provenance: dict | None = None,
        name: str | None = None,
        **kwargs,
    ):
        spec = spec if isinstance(spec, ConvNetSpec) else ConvNetSpec.from_dict(spec)
        class_names = _checked_class_names(class_names, spec.head.num_classes)
        provenance = _checked_provenance(provenance)
        policy = keras.dtype_policies.get(keras.config.dtype_policy() if dtype is None else dtype)
        image, outputs, roles = _network(spec, policy)
        super().__init__(inputs=image, outputs=outputs, name=name or spec.name, **kwargs)
        # NOTE: a functional model takes the global policy as its own; it
        # computes in the one its layers were given.
        self.dtype_policy = policy
        self.spec = spec
        self.class_names = class_names
        self.provenance = provenance
        self.roles = LayerRoles(
            first_conv=roles["first_conv"],
            classifier=roles["classifier"],
            fully_connected=tuple(roles["fully_connected"]),
            rectified_maps=tuple(layer.name for layer in rectified_map_layers(self)),
            steps=tuple(Step(**step) for step in roles["steps"]),
        )

    @property
    def preprocessing(self) -> dict:
        """What the model expects of an image, and what it does to it in-graph."""
        spec = self.spec.input
        return {
            "input_shape": [spec.height, spec.width, spec.channels],
            "pixels": "raw 0-255, float32, channels last; rescaling is in the model",
            "scale": spec.scale,
            "offset": spec.offset,
            "grayscale": spec.grayscale,
        }

    @property
    def source(self) -> str:
        """The preset it came from, else its own name."""
        return self.provenance.get("preset", self.name)

    def get_config(self):
        return {
            "name": self.name,
            "spec": self.spec.to_dict(),
            "dtype": self.dtype_policy.name,
            "trainable": self.trainable,
            "class_names": list(self.class_names),
            "provenance": dict(self.provenance),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def update_metadata(self, *, class_names=None, provenance: dict | None = None) -> None:
        """Records new class names (as many as the head predicts) or a new
        provenance, validated as at construction: for a model about to
        learn a data set, or one a fine-tuning recipe changed.

        Example:
        >>> model.update_metadata(class_names=["animal", "vehicle"])
        """
        if class_names is not None:
            self.class_names = _checked_class_names(class_names, self.spec.head.num_classes)
        if provenance is not None:
            self.provenance = _checked_provenance(provenance)


def build_model(spec: ConvNetSpec | dict, dtype=None, class_names=None) -> ConvNet:
    """Builds the Keras model a spec describes.

    Args:
        spec: A `ConvNetSpec`, or its dict (as from `ConvNetSpec.to_dict`).
        dtype: Dtype policy of the layers; None means the global policy.
        class_names: The name of each class; None means "0", "1", ...

    Returns:
        A `ConvNet` (a functional `keras.Model`) taking raw pixels.

    Example:
    >>> model = build_model(ConvNetSpec(blocks=[{"filters": 8}]))
    >>> model.get_layer("block1_relu1")
    <RectifiedFeatureMap name=block1_relu1, built=True>
    """
    return ConvNet(spec, dtype=dtype, class_names=class_names)


def class_names(model: keras.Model) -> list[str]:
    """The names of the classes a model predicts: a `ConvNet`'s own, else
    "0", "1", ... (any other Keras model carries none)."""
    if isinstance(model, ConvNet):
        return list(model.class_names)
    return default_class_names(int(model.outputs[0].shape[-1]))


def head_activation(model: keras.Model) -> str:
    """The classifier's activation ("softmax", "sigmoid" or "linear"): a
    `ConvNet` declares it in its spec; for another model, that of the layer
    producing its output."""
    if isinstance(model, ConvNet):
        return model.spec.head.activation
    activation = model.layers[-1].get_config().get("activation", "linear")
    return activation if isinstance(activation, str) else "unknown"
