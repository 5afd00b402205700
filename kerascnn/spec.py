"""`ConvNetSpec`: a conv-ReLU-pool network described as plain data.

A spec is what a user writes (or a zoo entry registers) to say which network
they want; `kerascnn.build_model` turns it into a Keras model. It holds only
JSON values, round-trips through `to_dict`/`from_dict` and JSON, and
validates itself: every error names the block and the field, the value
received and what would work.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from kerascnn.errors import UsageError
from kerascnn.sliding_window import output_length

POOLING_TYPES = ("max", "sum", "average", "none")
HEAD_POOLING_TYPES = ("flatten", "global_average", "global_max", "global_sum")
PADDINGS = ("valid", "same")
CONV_TYPES = ("standard", "depthwise_separable")
CLASSIFIER_ACTIVATIONS = ("softmax", "sigmoid", "linear")

# Limits well beyond any network this package is for (VGG-19 has 5 blocks,
# 512 filters, 4,096 units and 144 M parameters at 224x224): a spec past
# them is a typo, and building it would exhaust memory or Python's stack.
LIMITS = {
    "image side": 8192,
    "blocks": 64,
    "convs per block": 32,
    "filters": 16384,
    "dense layers": 16,
    "dense units": 65536,
    "parameters": 500_000_000,
}


def _at_most(value: int, limit: str, where: str, name: str) -> None:
    if value > LIMITS[limit]:
        raise SpecError(
            where,
            f"`{name}` is {value:,}, above kerascnn's limit of {LIMITS[limit]:,} {limit}; "
            f"use a smaller value. Received: {name}={value!r}",
        )


class SpecError(UsageError):
    """A `ConvNetSpec` that cannot describe a working network.

    Attributes:
        where: Which part of the spec is wrong ("block 3", "head", ...).
        reason: What is wrong and what would work.
    """

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason

    def at(self, where: str) -> SpecError:
        """The same error, located at `where` (e.g. "block 3")."""
        return SpecError(where, self.reason)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(value, where: str, name: str) -> int:
    if not _is_int(value) or value < 1:
        raise SpecError(where, f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def _pair(value, where: str, name: str) -> tuple[int, int]:
    """An int or [int, int] field as a tuple of two positive ints."""
    pair = (value, value) if _is_int(value) else value
    if (
        not isinstance(pair, (list, tuple))
        or len(pair) != 2
        or not all(_is_int(v) and v >= 1 for v in pair)
    ):
        raise SpecError(
            where,
            f"`{name}` must be a positive integer or a pair of positive integers. "
            f"Received: {name}={value!r}",
        )
    return tuple(pair)


def _choice(value, choices, where: str, name: str) -> str:
    if value not in choices:
        raise SpecError(
            where,
            f"`{name}` must be one of {', '.join(map(repr, choices))}. Received: {name}={value!r}",
        )
    return value


def _rate(value, where: str, name: str) -> float:
    if not _is_number(value) or not 0 <= value < 1:
        raise SpecError(where, f"`{name}` must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def _bool(value, where: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(where, f"`{name}` must be true or false. Received: {name}={value!r}")
    return value


def _from_fields(cls, data, where: str):
    """Builds dataclass `cls` from a dict, naming unknown or missing fields."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise SpecError(where, f"expected a mapping of fields. Received: {data!r}")
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    for key in data:
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise SpecError(
                where, f"unknown field '{key}'{hint}. Valid fields: {', '.join(names)}."
            )
    for f in fields:
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in data:
            raise SpecError(where, f"the field '{f.name}' is required.")
    return cls(**data)


def _set(instance, name: str, value) -> None:
    # Frozen dataclasses normalise their fields once, at construction.
    object.__setattr__(instance, name, value)


@dataclass(frozen=True)
class InputSpec:
    """The raw images a model accepts and how it preprocesses them in-graph.

    The model takes raw pixels (0-255) so that every artifact exported from
    it does too; the rescaling and grayscale conversion are in the graph.

    Args:
        height: Image height in pixels.
        width: Image width in pixels.
        channels: Channels of the raw input images: 1 (grayscale) or 3 (RGB).
        scale: Pixels are multiplied by `scale`, then `offset` is added
            (1/255 and 0 map 0-255 to 0-1).
        offset: See `scale`.
        grayscale: Convert 3-channel input to one luminance channel before
            the first convolution (requires `channels=3`).
    """

    height: int = 28
    width: int = 28
    channels: int = 1
    scale: float = 1.0 / 255.0
    offset: float = 0.0
    grayscale: bool = False

    def __post_init__(self):
        where = "input"
        for name in ("height", "width"):
            _at_most(_positive_int(getattr(self, name), where, name), "image side", where, name)
        if self.channels not in (1, 3) or not _is_int(self.channels):
            raise SpecError(
                where,
                "`channels` must be 1 (grayscale) or 3 (RGB). "
                f"Received: channels={self.channels!r}",
            )
        for name in ("scale", "offset"):
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(value):
                raise SpecError(
                    where, f"`{name}` must be a finite number. Received: {name}={value!r}"
                )
            _set(self, name, float(value))
        if self.scale == 0:
            raise SpecError(
                where, "`scale` must not be 0: it would erase the image. Received: scale=0"
            )
        _bool(self.grayscale, where, "grayscale")
        if self.grayscale and self.channels != 3:
            raise SpecError(
                where,
                "`grayscale=true` converts RGB input, so it needs channels=3; set "
                f"grayscale=false for 1-channel input. Received: channels={self.channels}",
            )


@dataclass(frozen=True)
class ConvBlockSpec:
    """One conv-ReLU-pool block.

    Args:
        filters: Number of filters of each convolution (the depth of the
            feature map it produces).
        conv_type: "standard", or "depthwise_separable" (MobileNet's
            factorisation: a per-channel `kernel_size` filter, then a 1x1
            convolution mixing channels into `filters`; about
            1/filters + 1/kernel_area of the multiply-adds).
        kernel_size: Filter size, an int or [height, width].
        strides: Convolution stride, an int or [height, width]. In a
            shortcut block only the first convolution strides, as in ResNet.
        padding: "same" (zero padding keeps the size at stride 1) or "valid".
        convs: Number of convolution + ReLU pairs before the pooling.
        shortcut: Add the block's input to the output of its last
            convolution (after batch norm, before the ReLU): the residual
            block of He et al., "Deep residual learning for image
            recognition" (2016). Where the stride or the width changes, the
            input passes through a 1x1 convolution with the block's stride
            first (a projection, with a bias and no batch norm, as in MLPerf
            Tiny's ResNet-8). Needs padding "same", so that the sum's two
            maps match.
        pooling: "max", "sum", "average" or "none".
        pool_size: Pooling window, an int or [height, width].
        pool_strides: Pooling stride; null means `pool_size`.
        pool_padding: "valid" or "same" (zeros outside the feature map).
        batch_norm: Batch normalisation between each convolution and its ReLU.
        dropout: Dropout rate after the block, in [0, 1).
    """

    filters: int
    conv_type: str = "standard"
    kernel_size: Any = 3
    strides: Any = 1
    padding: str = "same"
    convs: int = 1
    shortcut: bool = False
    pooling: str = "max"
    pool_size: Any = 2
    pool_strides: Any = None
    pool_padding: str = "valid"
    batch_norm: bool = False
    dropout: float = 0.0

    def __post_init__(self):
        where = "block"
        _at_most(_positive_int(self.filters, where, "filters"), "filters", where, "filters")
        _choice(self.conv_type, CONV_TYPES, where, "conv_type")
        _set(self, "kernel_size", _pair(self.kernel_size, where, "kernel_size"))
        _set(self, "strides", _pair(self.strides, where, "strides"))
        _choice(self.padding, PADDINGS, where, "padding")
        _at_most(_positive_int(self.convs, where, "convs"), "convs per block", where, "convs")
        _bool(self.shortcut, where, "shortcut")
        if self.shortcut and self.padding != "same":
            raise SpecError(
                where,
                "a shortcut block adds its input to its convolutions' output, so their "
                "maps must match: set padding='same' (or shortcut=false). "
                f"Received: padding={self.padding!r}",
            )
        _choice(self.pooling, POOLING_TYPES, where, "pooling")
        _set(self, "pool_size", _pair(self.pool_size, where, "pool_size"))
        if self.pool_strides is not None:
            _set(self, "pool_strides", _pair(self.pool_strides, where, "pool_strides"))
        _choice(self.pool_padding, PADDINGS, where, "pool_padding")
        _bool(self.batch_norm, where, "batch_norm")
        _set(self, "dropout", _rate(self.dropout, where, "dropout"))

    def conv_strides(self, index: int) -> tuple[int, int]:
        """The stride of convolution `index` (1-based) of the block."""
        return (1, 1) if self.shortcut and index > 1 else self.strides

    def projects(self, in_channels: int) -> bool:
        """Whether the shortcut needs a 1x1 projection: a stride or a new width."""
        return self.shortcut and (self.strides != (1, 1) or in_channels != self.filters)

    @property
    def effective_pool_strides(self) -> tuple[int, int]:
        """The pooling stride, `pool_size` when `pool_strides` is null."""
        return self.pool_size if self.pool_strides is None else self.pool_strides


@dataclass(frozen=True)
class HeadSpec:
    """The classifier on top of the last block.

    Args:
        pooling: How the last feature map becomes a vector: "flatten"
            (every position keeps its own weights) or "global_average",
            "global_max", "global_sum" (one value per channel).
        dense: Units of each hidden fully connected ReLU layer.
        dropout: Dropout rate before each fully connected layer, in [0, 1).
        num_classes: Number of classes predicted.
        activation: "softmax", "sigmoid" or "linear" (logits).
    """

    pooling: str = "flatten"
    dense: tuple = ()
    dropout: float = 0.0
    num_classes: int = 10
    activation: str = "softmax"

    def __post_init__(self):
        where = "head"
        _choice(self.pooling, HEAD_POOLING_TYPES, where, "pooling")
        if not isinstance(self.dense, (list, tuple)):
            raise SpecError(
                where, f"`dense` must be a list of layer sizes. Received: dense={self.dense!r}"
            )
        _at_most(len(self.dense), "dense layers", where, "len(dense)")
        for i, units in enumerate(self.dense):
            _at_most(
                _positive_int(units, where, f"dense[{i}]"), "dense units", where, f"dense[{i}]"
            )
        _set(self, "dense", tuple(self.dense))
        _set(self, "dropout", _rate(self.dropout, where, "dropout"))
        _positive_int(self.num_classes, where, "num_classes")
        _at_most(self.num_classes, "dense units", where, "num_classes")
        _choice(self.activation, CLASSIFIER_ACTIVATIONS, where, "activation")


def _block(data, number: int) -> ConvBlockSpec:
    """Builds block `number` (1-based), naming it in any error."""
    where = f"block {number}"
    try:
        return _from_fields(ConvBlockSpec, data, where)
    except SpecError as error:
        raise (error.at(where) if error.where == "block" else error) from None


def _apply_window(size, window, strides, padding, *, where, window_name, padding_name):
    """The (height, width) after a sliding window, or a `SpecError`."""
    out = tuple(
        output_length(n, k, s, padding) for n, k, s in zip(size, window, strides, strict=True)
    )
    if min(out) < 1:
        raise SpecError(
            where,
            f"{window_name}={window[0]}x{window[1]} with {padding_name}='valid' does not fit "
            f"the {size[0]}x{size[1]} feature map it receives (it would shrink below 1x1); "
            f"use {padding_name}='same', a {window_name} of at most {size[0]}x{size[1]}, "
            "fewer blocks or a larger input.",
        )
    return out


@dataclass(frozen=True)
class ConvNetSpec:
    """A convolutional network: input, conv-ReLU-pool blocks, head.

    Args:
        name: The model's name (an identifier).
        input: An `InputSpec` or its dict.
        blocks: A list of `ConvBlockSpec` or their dicts, applied in order.
        head: A `HeadSpec` or its dict.

    Example:
    >>> spec = ConvNetSpec(
    ...     name="tiny",
    ...     input={"height": 28, "width": 28, "channels": 1},
    ...     blocks=[{"filters": 8, "kernel_size": 5}, {"filters": 16}],
    ...     head={"dense": [64], "num_classes": 10},
    ... )
    >>> ConvNetSpec.from_json(spec.to_json()) == spec
    True
    """

    name: str = "convnet"
    input: InputSpec = field(default_factory=InputSpec)
    blocks: tuple = ()
    head: HeadSpec = field(default_factory=HeadSpec)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise SpecError(
                "spec",
                "`name` must be an identifier (letters, digits, underscores). "
                f"Received: name={self.name!r}",
            )
        _set(self, "input", _from_fields(InputSpec, self.input, "input"))
        _set(self, "head", _from_fields(HeadSpec, self.head, "head"))
        if not isinstance(self.blocks, (list, tuple)) or not self.blocks:
            raise SpecError(
                "spec",
                "`blocks` must be a non-empty list of conv-ReLU-pool blocks, e.g. "
                f"[{{'filters': 32}}]. Received: blocks={self.blocks!r}",
            )
        _at_most(len(self.blocks), "blocks", "spec", "len(blocks)")
        _set(self, "blocks", tuple(_block(b, i) for i, b in enumerate(self.blocks, start=1)))
        self.feature_map_shapes()
        _at_most(self.parameter_count(), "parameters", "spec", "parameters")

    def parameter_count(self) -> int:
        """Weights of the network, counted from the spec (batch-norm moving
        statistics included, as in Keras' `count_params`)."""
        channels = 1 if self.input.grayscale else self.input.channels
        total = 0
        shapes = self.feature_map_shapes()
        for block in self.blocks:
            filters = block.filters
            kh, kw = block.kernel_size
            bias = 0 if block.batch_norm else 1
            norm = 4 if block.batch_norm else 0
            if block.projects(channels):
                total += filters * (channels + 1)
            for _ in range(block.convs):
                if block.conv_type == "depthwise_separable":
                    total += channels * (kh * kw + bias + norm)
                    total += filters * (channels + bias + norm)
                else:
                    total += filters * (kh * kw * channels + bias + norm)
                channels = filters
        height, width, _ = shapes[-1]
        features = height * width * channels if self.head.pooling == "flatten" else channels
        for units in (*self.head.dense, self.head.num_classes):
            total += units * (features + 1)
            features = units
        return total

    def feature_map_shapes(self) -> list[tuple[int, int, int]]:
        """(height, width, channels) of the feature map after each block.

        Raises:
            SpecError: a convolution or pooling window does not fit the
                feature map it receives; the error names the block.
        """
        size = (self.input.height, self.input.width)
        shapes = []
        for i, block in enumerate(self.blocks, start=1):
            for j in range(1, block.convs + 1):
                size = _apply_window(
                    size,
                    block.kernel_size,
                    block.conv_strides(j),
                    block.padding,
                    where=f"block {i} conv{j}",
                    window_name="kernel_size",
                    padding_name="padding",
                )
            if block.pooling != "none":
                size = _apply_window(
                    size,
                    block.pool_size,
                    block.effective_pool_strides,
                    block.pool_padding,
                    where=f"block {i} pool",
                    window_name="pool_size",
                    padding_name="pool_padding",
                )
            shapes.append((*size, block.filters))
        return shapes

    def to_dict(self) -> dict:
        """Returns the spec as JSON-compatible plain data (lists, not tuples)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict) -> ConvNetSpec:
        """Builds a spec from `to_dict()` output or hand-written data."""
        return _from_fields(cls, data, "spec")

    def to_json(self, indent: int | None = 2) -> str:
        """Returns the spec as a JSON document."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> ConvNetSpec:
        """Parses a spec from a JSON document."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SpecError("spec", f"not valid JSON: {error}") from None
        except RecursionError:
            raise SpecError(
                "spec", "the JSON is nested too deeply to be a spec (a spec nests 3 levels)"
            ) from None
        return cls.from_dict(data)

    def replace(self, **changes) -> ConvNetSpec:
        """Returns a copy with top-level fields replaced, validated again."""
        return dataclasses.replace(self, **changes)
