"""`describe`: what each layer of a network produces and costs.

Per layer: output shape, parameters and multiply-accumulates (MACs) for one
image; totals; and what a fully connected layer on the raw pixels would
cost instead of the first convolution, which is why CNNs exist: a 28x28
image already needs 784 weights per fully connected neuron, while a 5x5
filter needs 25 and is shared across every position.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from kerascnn.errors import UsageError
from kerascnn.spec import ConvNetSpec

# NOTE: Keras loads inside the functions: `import kerascnn` binds `describe`
# (the function, over this module's name) at once, and must stay light.
if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class LayerCost:
    """One row of a description: a layer's output shape and its cost."""

    name: str
    kind: str
    output_shape: tuple
    params: int
    macs: int


@dataclass(frozen=True)
class DenseComparison:
    """A fully connected layer on the raw pixels versus the first convolution.

    Attributes:
        conv_layer: Name of the first convolution.
        pixels: Input values per image (height x width x channels): the
            weights each fully connected neuron on the raw pixels needs.
        weights_per_filter: Weights of one filter of the first convolution.
        units: Values in the first convolution's feature map; a fully
            connected layer producing as many values is the comparison.
        dense_params: Parameters of that fully connected layer.
        conv_params: Parameters of the first convolution.
    """

    conv_layer: str
    pixels: int
    weights_per_filter: int
    units: int
    dense_params: int
    conv_params: int


@dataclass(frozen=True)
class ModelDescription:
    """The layers of a model with their output shapes, parameters and MACs."""

    name: str
    input_shape: tuple
    layers: tuple[LayerCost, ...]
    trainable_params: int
    non_trainable_params: int
    dense_comparison: DenseComparison | None = field(default=None)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def to_dict(self) -> dict:
        """The description as JSON-compatible data, totals included."""
        data = asdict(self)
        data.update(total_params=self.total_params, total_macs=self.total_macs)
        return data

    def __str__(self) -> str:
        header = ("layer", "type", "output shape", "params", "MACs")
        rows = [
            (r.name, r.kind, _shape(r.output_shape), f"{r.params:,}", f"{r.macs:,}")
            for r in self.layers
        ]
        rows.append(("total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}"))
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]

        def line(row):
            left = "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths[:3], strict=True))
            right = "  ".join(cell.rjust(w) for cell, w in zip(row[3:], widths[3:], strict=True))
            return f"{left}  {right}"

        rule = "-" * len(line(header))
        text = [
            f"Model: {self.name} (input {_shape(self.input_shape)})",
            rule,
            line(header),
            rule,
            *map(line, rows[:-1]),
            rule,
            line(rows[-1]),
            f"trainable params: {self.trainable_params:,}; "
            f"non-trainable: {self.non_trainable_params:,}; "
            "MACs are multiply-accumulates for one image.",
        ]
        c = self.dense_comparison
        if c is not None:
            ratio = c.dense_params / max(c.conv_params, 1)
            text += [
                "",
                textwrap.fill(
                    f"Fully connected instead of {c.conv_layer}: a neuron on the raw "
                    f"{_shape(self.input_shape)} pixels needs {c.pixels:,} weights; a filter "
                    f"of {c.conv_layer} needs {c.weights_per_filter:,}, shared across every "
                    f"position. A fully connected layer producing the same {c.units:,} values "
                    f"would have {c.dense_params:,} parameters, {ratio:,.0f}x the "
                    f"{c.conv_params:,} of {c.conv_layer}.",
                    width=88,
                ),
            ]
        return "\n".join(text)


def _shape(shape) -> str:
    return "x".join("?" if d is None else str(d) for d in shape)


def _macs(layer, input_shape, output_shape) -> int:
    """Multiply-accumulates of one layer for one image (0 for no MAC layers)."""
    import keras

    out = output_shape[1:]
    if any(d is None for d in out):
        return 0
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return math.prod(out) * math.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.SeparableConv2D):
        depthwise_out = math.prod(out[:-1]) * input_shape[-1] * layer.depth_multiplier
        return depthwise_out * math.prod(layer.kernel_size) + math.prod(out[:-1]) * (
            input_shape[-1] * layer.depth_multiplier * layer.filters
        )
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)):
        in_channels = input_shape[-1 if layer.data_format == "channels_last" else 1]
        return math.prod(out) * math.prod(layer.kernel_size) * in_channels // layer.groups
    if isinstance(layer, keras.layers.Dense):
        return math.prod(out) * input_shape[-1]
    return 0


def _layer_rows(model: keras.Model) -> list[tuple[LayerCost, keras.layers.Layer, tuple]]:
    import keras

    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows.extend(_layer_rows(layer))
            continue
        output_shape = tuple(layer.output.shape)
        if isinstance(layer, keras.layers.InputLayer):
            input_shape = output_shape
        else:
            # A merge layer (a shortcut's Add) has several inputs of one shape.
            inputs = layer.input if isinstance(layer.input, list) else [layer.input]
            input_shape = tuple(inputs[0].shape)
        cost = LayerCost(
            name=layer.name,
            kind=type(layer).__name__,
            output_shape=output_shape[1:],
            params=layer.count_params() if layer.built else 0,
            macs=_macs(layer, input_shape, output_shape),
        )
        rows.append((cost, layer, input_shape))
    return rows


def _dense_comparison(rows, input_shape) -> DenseComparison | None:
    import keras

    for cost, layer, _ in rows:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.SeparableConv2D)):
            if any(d is None for d in (*input_shape, *cost.output_shape)):
                return None
            pixels = math.prod(input_shape)
            units = math.prod(cost.output_shape)
            kernel = layer.kernel_size
            in_channels = layer.input.shape[-1]
            return DenseComparison(
                conv_layer=cost.name,
                pixels=pixels,
                weights_per_filter=math.prod(kernel) * in_channels // getattr(layer, "groups", 1),
                units=units,
                dense_params=(pixels + 1) * units,
                conv_params=cost.params,
            )
    return None


def describe(spec_or_model: ConvNetSpec | dict | keras.Model) -> ModelDescription:
    """Describes a network layer by layer: output shape, parameters, MACs.

    Args:
        spec_or_model: A `ConvNetSpec` (or its dict), built first, or any
            built functional or Sequential Keras model.

    Returns:
        A `ModelDescription`; `print()` it for a table, `to_dict()` for data.

    Example:
    >>> print(describe(ConvNetSpec(blocks=[{"filters": 6, "kernel_size": 5}])))
    """
    import keras

    from kerascnn.builder import build_model

    if isinstance(spec_or_model, (ConvNetSpec, dict)):
        model = build_model(spec_or_model)
    elif isinstance(spec_or_model, keras.Model):
        model = spec_or_model
    else:
        raise TypeError(
            "describe() takes a ConvNetSpec, its dict or a Keras model. "
            f"Received: {type(spec_or_model).__name__}"
        )
    if not model.built or not model.inputs:
        raise UsageError(
            f"Model '{model.name}' has no known input shape; call it on data or "
            "build it with an input shape before describing it."
        )
    rows = _layer_rows(model)
    input_shape = tuple(model.inputs[0].shape[1:])
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return ModelDescription(
        name=model.name,
        input_shape=input_shape,
        layers=tuple(cost for cost, _, _ in rows),
        trainable_params=trainable,
        non_trainable_params=non_trainable,
        dense_comparison=_dense_comparison(rows, input_shape),
    )
