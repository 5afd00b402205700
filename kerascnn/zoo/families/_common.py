"""Shared by the family modules."""

from __future__ import annotations


def input_fields(input_shape) -> dict:
    """The `InputSpec` fields of a (height, width, channels) shape."""
    height, width, channels = input_shape
    return {"height": height, "width": width, "channels": channels}
