"""The registry: names, patterns, errors, model_info, and entry-point plugins."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerascnn.spec import ConvNetSpec
from kerascnn.zoo import ZooError, create_model, list_models, model_info, register_model, registry

PLUGIN_DIST = Path(__file__).parent / "plugin_dist"
FAMILIES = ("seed_cnn", "lenet5", "minivgg", "alexnet", "mobilecnn")


def test_at_least_ten_variants_in_the_five_families():
    names = list_models()
    assert len(names) >= 10
    families = {registry.get_entry(n).family for n in names}
    assert set(FAMILIES) <= families
    assert all(registry.get_entry(n).reference for n in names)


def test_list_models_patterns_are_shell_style_and_sorted():
    assert list_models("lenet5*") == ["lenet5", "lenet5_max"]
    assert list_models("*vgg*") == [
        "minivgg_18",
        "minivgg_l",
        "minivgg_m",
        "minivgg_s",
        "tinyvgg_8k",
        "tinyvgg_8k_full",
    ]
    assert list_models(["lenet5", "seed_cnn_?ase"]) == ["lenet5", "seed_cnn_base"]
    assert list_models("mobilecnn_*", exclude="*_100") == ["mobilecnn_050", "mobilecnn_075"]
    assert list_models() == sorted(list_models())
    assert list_models("nothing*") == []


def test_list_models_pretrained_lists_presets():
    presets = list_models(pretrained=True)
    assert "lenet5.mnist" in presets
    assert all("." in p and p.split(".")[0] in list_models() for p in presets)
    assert list_models("lenet5*", pretrained=True) == ["lenet5.mnist"]


def test_unknown_names_suggest_the_closest():
    with pytest.raises(ZooError, match=r"Unknown model 'lenet_5'.*'lenet5'"):
        create_model("lenet_5")
    with pytest.raises(ZooError, match=r"Did you mean.*'minivgg_m'"):
        create_model("minivgg_n")
    with pytest.raises(ZooError, match=r"Unknown model 'lenet5.imagenet'.*'lenet5.mnist'"):
        create_model("lenet5.imagenet")


def test_a_duplicate_name_is_refused():
    with pytest.raises(ZooError, match=r"already registered"):

        @register_model(family="lenet5", reference="again")
        def lenet5(input_shape, num_classes):  # pragma: no cover - refused
            raise AssertionError


def test_names_must_be_family_variant():
    with pytest.raises(ZooError, match=r"does not start with its family"):
        register_model(lambda s, n: None, family="abc", reference="x", name="xyz_1")
    with pytest.raises(ZooError, match=r"lowercase identifiers"):
        register_model(lambda s, n: None, family="abc", reference="x", name="abc.v1")


def test_create_model_options_and_their_errors():
    wide = create_model("mobilecnn_050", width_multiplier=1.0)
    assert wide.count_params() == create_model("mobilecnn_100").count_params()
    assert create_model("seed_cnn_small", dropout=0.5).spec.head.dropout == 0.5
    with pytest.raises(ZooError, match=r"has no option 'width'.*width_multiplier"):
        create_model("mobilecnn_050", width=2)
    with pytest.raises(ZooError, match=r"width_multiplier must be a number in"):
        create_model("mobilecnn_050", width_multiplier=0)
    with pytest.raises(ZooError, match=r"num_classes must be a positive integer"):
        create_model("lenet5", num_classes=0)
    with pytest.raises(ZooError, match=r"input_shape must be \(height, width, channels\)"):
        create_model("lenet5", input_shape=(28, 28))
    with pytest.raises(ZooError, match=r"minivgg_m cannot take input_shape=.*at least 8x8"):
        create_model("minivgg_m", input_shape=(7, 7, 3))
    with pytest.raises(ZooError, match=r"architecture is fixed"):
        create_model("lenet5.mnist", dropout=0.1)


def test_model_info_counts_lenet5_as_the_paper_does():
    info = model_info("lenet5")
    # C1 6x(25+1), C3 16x(6x25+1), C5 120x(400+1), F6 84x(120+1), output 10x(84+1).
    assert info.parameters == 156 + 2416 + 48120 + 10164 + 850
    # C1 28x28x6x25, C3 10x10x16x150, then the three dense layers.
    assert info.macs == 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    assert info.family == "lenet5" and "LeCun" in info.reference
    assert info.min_input_size == (12, 12)
    assert "lenet5.mnist" in info.presets
    assert "61,706 parameters" in str(info)


def test_the_edge_networks_fit_their_budgets_counted_by_hand():
    # tinyvgg_8k on 28x28x1: 3x3 valid convolutions without bias, batch norm
    # (4 numbers a channel), one 2x2 max pooling, a 1x1 convolution.
    convs = [(1, 10, 9, 26), (10, 16, 9, 24), (16, 10, 1, 12), (10, 14, 9, 10), (14, 16, 9, 8),
             (16, 16, 9, 6)]  # fmt: skip
    params = sum(i * o * k + 4 * o for i, o, k, _ in convs) + 16 * 10 + 10
    macs = sum(i * o * k * side * side for i, o, k, side in convs) + 16 * 10
    info = model_info("tinyvgg_8k")
    assert (info.parameters, info.macs) == (params, macs)
    assert params <= 8_000 and create_model("tinyvgg_8k").count_params() == params
    # tinyvgg_8k_full: three padded 3x3 convolutions at 28x28, pooling to 14x14,
    # four valid 3x3 convolutions, two 1x1 convolutions.
    convs = [(1, 10, 9, 28), (10, 10, 9, 28), (10, 10, 9, 28), (10, 16, 9, 12), (16, 15, 9, 10),
             (15, 8, 9, 8), (8, 8, 9, 6), (8, 8, 1, 6), (8, 16, 1, 6)]  # fmt: skip
    params = sum(i * o * k + 4 * o for i, o, k, _ in convs) + 16 * 10 + 10
    macs = sum(i * o * k * side * side for i, o, k, side in convs) + 16 * 10
    info = model_info("tinyvgg_8k_full")
    assert (info.parameters, info.macs) == (params, macs)
    assert params <= 8_000
    # minivgg_s on 32x32x3 against MLPerf Tiny's ResNet-8 budget.
    stages = [(3, 16, 32), (16, 16, 32), (16, 32, 16), (32, 32, 16), (32, 64, 8), (64, 64, 8)]
    params = sum(9 * i * o + 4 * o for i, o, _ in stages) + 64 * 10 + 10
    macs = sum(9 * i * o * side * side for i, o, side in stages) + 64 * 10
    info = model_info("minivgg_s")
    assert (info.parameters, info.macs) == (params, macs)
    assert params <= 78_666 and macs <= 12_500_000


def test_model_info_of_a_preset_has_its_measured_accuracy():
    info = model_info("lenet5.mnist")
    assert info.metadata["test_accuracy"] >= 0.992
    assert "test accuracy" in str(info)


def test_width_multiplier_scales_macs_about_quadratically():
    half, full = model_info("mobilecnn_050").macs, model_info("mobilecnn_100").macs
    assert 0.2 < half / full < 0.35


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    """The example plugin distribution, installed by pip into its own folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PLUGIN_DIST),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _python(code: str, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_an_installed_plugin_registers_models_without_being_imported(plugin_site):
    result = _python(
        "import sys\n"
        "from kerascnn.zoo import create_model, list_models, model_info\n"
        "assert 'kerascnn_plugin_example' not in sys.modules\n"
        "print(list_models('plugin*'))\n"
        "print(create_model('plugincnn_tiny', num_classes=3).output_shape)\n"
        "print(model_info('plugincnn_tiny').reference)\n",
        plugin_site,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == ["['plugincnn_tiny']", "(None, 3)", "A test plugin's two-block network."]


def test_a_broken_plugin_is_skipped_with_a_warning(plugin_site, tmp_path):
    broken = tmp_path / "broken-0.1.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (broken / "entry_points.txt").write_text("[kerascnn.zoo]\nbroken = no_such_module_xyz\n")
    result = _python(
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "from kerascnn.zoo import list_models\n"
        "print(list_models('plugin*'))\n",
        Path(f"{plugin_site}{os.pathsep}{tmp_path}"),
    )
    assert result.returncode == 0, result.stderr
    assert "['plugincnn_tiny']" in result.stdout
    assert "plugin 'broken' (no_such_module_xyz) failed to load" in result.stderr


def test_registered_spec_functions_return_specs():
    for name in list_models():
        assert isinstance(registry.get_entry(name).spec(), ConvNetSpec)


def test_a_model_file_where_a_zoo_name_goes_says_what_to_do_instead(tmp_path, monkeypatch):
    # A user's export, named like a preset ("name.tag"): one line saying what
    # the zoo reads and how to load or measure the file instead.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.tflite").write_bytes(b"TFL3")
    for zoo_call in (model_info, create_model):
        with pytest.raises(
            ZooError, match=r"'model.tflite' is a file.*kerascnn evaluate model.tflite"
        ):
            zoo_call("model.tflite")
