"""ConvNetSpec: plain data that round-trips and says what is wrong."""

import json

import pytest

from kerascnn import ConvBlockSpec, ConvNetSpec, SpecError

LENET = {
    "name": "lenet5",
    "input": {"height": 28, "width": 28, "channels": 1},
    "blocks": [
        {"filters": 6, "kernel_size": 5, "padding": "same", "pooling": "sum"},
        {"filters": 16, "kernel_size": 5, "padding": "valid", "pooling": "sum"},
    ],
    "head": {"dense": [120, 84], "num_classes": 10},
}


def test_round_trips_through_dict_and_json():
    spec = ConvNetSpec.from_dict(LENET)
    assert ConvNetSpec.from_dict(spec.to_dict()) == spec
    assert ConvNetSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json()) == spec.to_dict()


def test_to_dict_is_plain_json_data():
    data = ConvNetSpec.from_dict(LENET).to_dict()
    assert data["blocks"][0]["kernel_size"] == [5, 5]
    assert data["blocks"][0]["pool_strides"] is None
    assert data["head"]["dense"] == [120, 84]


def test_blocks_may_be_dataclasses_or_dicts():
    spec = ConvNetSpec(blocks=[ConvBlockSpec(filters=8), {"filters": 16}])
    assert [b.filters for b in spec.blocks] == [8, 16]


def test_feature_map_shapes_follow_the_conv_and_pool_rules():
    assert ConvNetSpec.from_dict(LENET).feature_map_shapes() == [(14, 14, 6), (5, 5, 16)]


def test_pool_strides_default_to_pool_size():
    spec = ConvNetSpec(blocks=[{"filters": 4, "pool_size": 3}], input={"height": 9, "width": 9})
    assert spec.feature_map_shapes() == [(3, 3, 4)]


def test_a_shortcut_block_strides_once_and_counts_its_projection():
    strided = {"filters": 8, "convs": 2, "strides": 2, "pooling": "none", "batch_norm": True}
    spec = ConvNetSpec(
        input={"height": 9, "width": 9, "channels": 1},
        blocks=[strided, {**strided, "shortcut": True}],
        head={"pooling": "global_average", "num_classes": 2},
    )
    # 9 -> 5 -> 3 where every convolution strides; 3 -> 2 where only the first does.
    assert spec.feature_map_shapes() == [(3, 3, 8), (2, 2, 8)]
    # Convolutions without bias (batch norm), BN's four vectors, the 1x1
    # projection of the stride-2 shortcut with its bias, the classifier.
    convs = 9 * 1 * 8 + 9 * 8 * 8 + 2 * 9 * 8 * 8
    assert spec.parameter_count() == convs + 4 * 8 * 4 + (8 * 8 + 8) + (8 * 2 + 2)


def _error(**changes):
    data = json.loads(json.dumps(LENET))
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if section.startswith("block"):
            data["blocks"][int(section[5:]) - 1][field] = value
        else:
            data[section][field] = value
    with pytest.raises(SpecError) as info:
        ConvNetSpec.from_dict(data)
    return str(info.value)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"block2__filters": 0},
            "block 2: `filters` must be a positive integer. Received: filters=0",
        ),
        (
            {"block1__kernel_size": [5]},
            "block 1: `kernel_size` must be a positive integer or a pair",
        ),
        ({"block1__pooling": "min"}, "block 1: `pooling` must be one of 'max', 'sum', 'average'"),
        ({"block2__padding": "full"}, "Received: padding='full'"),
        ({"block1__dropout": 1.5}, "block 1: `dropout` must be a number in [0, 1)"),
        ({"block1__batch_norm": "yes"}, "block 1: `batch_norm` must be true or false"),
        ({"block1__shortcut": 1}, "block 1: `shortcut` must be true or false"),
        (
            {"block2__shortcut": True},
            "block 2: a shortcut block adds its input to its convolutions' output, so their "
            "maps must match: set padding='same' (or shortcut=false). Received: padding='valid'",
        ),
        ({"block1__filtres": 3}, "block 1: unknown field 'filtres' (did you mean 'filters'?)"),
        ({"head__num_classes": 0}, "head: `num_classes` must be a positive integer"),
        ({"head__pooling": "avg"}, "head: `pooling` must be one of 'flatten'"),
        ({"head__dense": [120, -1]}, "head: `dense[1]` must be a positive integer"),
        ({"input__channels": 2}, "input: `channels` must be 1 (grayscale) or 3 (RGB)"),
        ({"input__grayscale": True}, "input: `grayscale=true` converts RGB input, so it needs"),
        ({"input__scale": 0}, "input: `scale` must not be 0"),
    ],
)
def test_errors_name_the_block_and_the_field(changes, expected):
    assert expected in _error(**changes)


def test_a_window_that_does_not_fit_names_the_block_and_the_fix():
    message = _error(block2__kernel_size=15)
    assert message.startswith("block 2 conv1: kernel_size=15x15 with padding='valid'")
    assert "14x14 feature map" in message
    assert "use padding='same'" in message


def test_a_pool_that_would_shrink_below_one_pixel_names_block_3():
    blocks = [{"filters": 8}, {"filters": 8}, {"filters": 8, "pool_size": 5}]
    with pytest.raises(SpecError, match=r"^block 3 pool: pool_size=5x5 .* 3x3 feature map"):
        ConvNetSpec(input={"height": 12, "width": 12}, blocks=blocks)


def test_missing_required_field_is_named():
    with pytest.raises(SpecError, match="block 1: the field 'filters' is required"):
        ConvNetSpec(blocks=[{"kernel_size": 3}])


def test_empty_blocks_are_refused():
    with pytest.raises(SpecError, match="non-empty list"):
        ConvNetSpec(blocks=[])


def test_invalid_json_is_a_spec_error():
    with pytest.raises(SpecError, match="not valid JSON"):
        ConvNetSpec.from_json("{blocks: ")


def test_spec_errors_are_value_errors():
    assert issubclass(SpecError, ValueError)
