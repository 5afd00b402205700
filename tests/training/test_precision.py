"""`--precision auto`: bfloat16 only where the hardware computes it."""

import json
import os
import subprocess

import keras
import pytest

from kerascnn.data import load_dataset
from kerascnn.training import TrainConfig, precision, train
from kerascnn.training import run as run_module
from kerascnn.training.precision import choose_precision, cpu_flags

from .helpers import SMALL_SPEC, kerascnn_command

# First lines of /proc/cpuinfo on an AVX2-only AMD EPYC and on a Zen 4 one.
AVX2_CPU = """processor	: 0
vendor_id	: AuthenticAMD
model name	: AMD EPYC
flags		: fpu vme sse sse2 avx f16c fma avx2 bmi2 sha_ni vaes
"""
ZEN4_CPU = AVX2_CPU.replace("avx2 bmi2", "avx2 avx512f avx512_vnni avx512_bf16 bmi2")
ARM_CPU = "processor	: 0\nFeatures	: fp asimd evtstrm aes pmull sha1 sha2 crc32 bf16\n"


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    (tmp_path / "avx2").write_text(AVX2_CPU)
    (tmp_path / "zen4").write_text(ZEN4_CPU)
    (tmp_path / "arm").write_text(ARM_CPU)
    assert "avx2" in cpu_flags(tmp_path / "avx2") and "avx512_bf16" not in cpu_flags(
        tmp_path / "avx2"
    )
    assert "avx512_bf16" in cpu_flags(tmp_path / "zen4")
    assert "asimd" in cpu_flags(tmp_path / "arm")
    assert cpu_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize(
    "cpu, gpus, policy",
    [
        (AVX2_CPU, [], "float32"),
        (ZEN4_CPU, [], "mixed_bfloat16"),
        (AVX2_CPU, [(8, 0)], "mixed_bfloat16"),  # an A100 trains, not the CPU
        (ZEN4_CPU, [(7, 5)], "float32"),  # a T4 has no bfloat16 units
        (AVX2_CPU, [(9, 0), (7, 0)], "float32"),  # the slowest replica sets the pace
    ],
)
def test_auto_picks_bfloat16_only_on_native_hardware(tmp_path, cpu, gpus, policy):
    (tmp_path / "cpuinfo").write_text(cpu)
    choice = choose_precision("auto", gpu_capabilities=gpus, flags=cpu_flags(tmp_path / "cpuinfo"))
    assert choice.policy == policy and choice.requested == "auto" and choice.reason


def test_a_named_policy_is_kept():
    assert choose_precision("mixed_float16", gpu_capabilities=[], flags=set()).policy == (
        "mixed_float16"
    )


def _time_policies(rates):
    """A `training_speed` stand-in answering `rates[policy]` for the policy
    the network is built in (building it checks the policy reaches it)."""
    timed = []

    def speed(build, input_shape, batch_size):
        policy = build().get_layer("block1_conv1").dtype_policy.name
        timed.append(policy)
        return rates[policy]

    return speed, timed


@pytest.mark.parametrize(
    "cpu, rates, expected",
    [
        (AVX2_CPU, None, "float32"),  # emulated bfloat16: not even timed
        (ZEN4_CPU, {"float32": 900.0, "mixed_bfloat16": 1100.0}, "mixed_bfloat16"),  # resnet8
        (ZEN4_CPU, {"float32": 5000.0, "mixed_bfloat16": 2800.0}, "float32"),  # LeNet-5
    ],
)
def test_auto_is_recorded_in_run_json_and_used(
    tfds_data_dir, tmp_path, capsys, monkeypatch, cpu, rates, expected
):
    # Whichever CPU this runs on, each answer of "auto" is trained once.
    (tmp_path / "cpuinfo").write_text(cpu)
    monkeypatch.setattr(precision, "cpu_flags", lambda: cpu_flags(tmp_path / "cpuinfo"))
    monkeypatch.setattr(precision, "_gpu_capabilities", lambda: [])
    speed, timed = _time_policies(rates)
    monkeypatch.setattr(run_module, "training_speed", speed)
    data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, max_examples=256, batch_size=64)
    run_dir = tmp_path / "run"
    result = train(SMALL_SPEC, data, run_dir, TrainConfig(epochs=1, precision="auto"), verbose=2)
    run = json.loads((run_dir / "run.json").read_text())
    assert run["config"]["precision"] == "auto"
    assert run["precision"]["policy"] == result.precision.policy == expected
    assert run["precision"].get("measured") == rates
    assert sorted(timed) == (sorted(rates) if rates else [])
    assert f"precision: {expected} (" in capsys.readouterr().out
    model = keras.saving.load_model(result.best_model_path)
    assert model.get_layer("block1_conv1").dtype_policy.name == expected
    assert model.get_layer("block1_conv1").compute_dtype == expected.removeprefix("mixed_")


def test_auto_times_the_real_network_in_both_policies():
    # Whichever is faster on this machine, the choice is the faster measured.
    from kerascnn.builder import build_model
    from kerascnn.spec import ConvNetSpec

    spec = ConvNetSpec.from_dict(SMALL_SPEC)

    def speed(policy):
        def build():
            model = build_model(spec, dtype=policy)
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
            return model

        shape = (spec.input.height, spec.input.width, spec.input.channels)
        return precision.training_speed(build, shape, 32, seconds=0.3)

    choice = choose_precision("auto", gpu_capabilities=[], flags={"avx512_bf16"}, speed=speed)
    assert set(choice.measured) == {"float32", "mixed_bfloat16"}
    assert all(rate > 0 for rate in choice.measured.values())
    assert choice.policy == max(choice.measured, key=choice.measured.get)
    assert f"{choice.measured['float32']:,.0f} in float32" in choice.reason


@pytest.mark.parametrize(
    "user_choice, onednn",
    [(None, True), pytest.param("0", False, marks=pytest.mark.slow)],
)
def test_the_command_line_uses_onednn_unless_the_user_says_no(user_choice, onednn):
    # TensorFlow's own start-up log (shown by -V) says whether its oneDNN
    # kernels are on; it turns them on by itself only on AVX-512 VNNI/BF16 CPUs.
    env = {} if user_choice is None else {"TF_ENABLE_ONEDNN_OPTS": user_choice}
    environment = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    result = subprocess.run(
        kerascnn_command("-V", "info", "lenet5"),
        capture_output=True, text=True, env={**environment, **env}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert ("oneDNN custom operations are on" in result.stderr) == onednn
