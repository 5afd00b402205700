"""Per-map statistics: how sparse a rectified map is, how strong, which channels respond."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MapStatistics:
    """Summary of one layer's feature maps over a batch.

    Attributes:
        layer: The layer name.
        shape: (h, w, channels) of one map.
        sparsity: Fraction of values exactly zero (what ReLU zeroed).
        mean: Mean activation.
        max: Largest activation.
        top_channels: [(channel, mean activation)] of the channels that
            respond most, strongest first.
    """

    layer: str
    shape: tuple
    sparsity: float
    mean: float
    max: float
    top_channels: list

    def to_dict(self) -> dict:
        return {
            "layer": self.layer,
            "shape": list(self.shape),
            "sparsity": self.sparsity,
            "mean": self.mean,
            "max": self.max,
            "top_channels": [[c, v] for c, v in self.top_channels],
        }


def map_statistics(maps: dict, top: int = 3) -> dict[str, MapStatistics]:
    """Statistics of every map returned by `feature_maps`."""
    result = {}
    for name, values in maps.items():
        values = np.asarray(values, dtype=np.float64)
        per_channel = values.mean(axis=(0, 1, 2))
        order = np.argsort(-per_channel, kind="stable")[:top]
        result[name] = MapStatistics(
            layer=name,
            shape=tuple(int(d) for d in values.shape[1:]),
            sparsity=float(np.mean(values == 0)),
            mean=float(values.mean()),
            max=float(values.max()),
            top_channels=[(int(c), float(per_channel[c])) for c in order],
        )
    return result
