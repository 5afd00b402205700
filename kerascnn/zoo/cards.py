"""Model cards, rendered from measured preset metadata.

A card is never edited by hand: `write_cards` renders `zoo/<preset>/README.md`
and `zoo/<preset>/recipe.sh`
from the preset's `metadata.json` (written by `publish_preset`, which
measures it) and the transfer measurements in `zoo/<preset>/transfer.json`
(written by `zoo/transfer.py`), and `zoo/README.md` as the table of every
preset. The tests check that the committed cards are what these functions
render, so a card cannot drift from its measurements.

Run `python -m kerascnn.zoo.cards zoo` to render them again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kerascnn import atomic_files

TRANSFER = "transfer.json"
MICRO = "micro.json"

_INDEX_HEADER = """# The zoo

One folder per preset (a named network with trained weights): its model card
(what it is, data, measured accuracy, size, MACs, how to reproduce it,
limitations) and, where measured, its fine-tuning results. The weights ship
inside the package (`kerascnn/zoo/presets/`) and load with no network:

```python
from kerascnn.zoo import create_model

model = create_model("lenet5.mnist")
```

Every figure here is rendered from measurements (`python -m kerascnn.zoo.cards
zoo`); none is typed in.

"""
_INDEX_COLUMNS = (
    "preset", "data", "test accuracy", "int8 (LiteRT)", "int8 `.tflite` bytes", "test images",
    "parameters", "MACs/image", "input",
)  # fmt: skip


def _percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def _shape(metadata: dict) -> str:
    return "x".join(map(str, metadata["preprocessing"]["input_shape"]))


def render_index(all_metadata: list[dict], micro: dict | None = None) -> str:
    """`zoo/README.md`: a table of every preset.

    Args:
        all_metadata: The presets' metadata.
        micro: Preset name -> its `micro.json` figures, where measured.
    """
    rows = []
    for m in sorted(all_metadata, key=lambda m: m["name"]):
        litert = ((micro or {}).get(m["name"]) or {}).get("litert")
        int8 = (
            f"{_percent(litert['int8_test_accuracy'])} | {litert['tflite_bytes']:,}"
            if litert
            else "- | -"
        )
        rows.append(
            f"| [`{m['name']}`]({m['name']}/README.md) | {m['dataset']['name']} | "
            f"{_percent(m['test_accuracy'])} | {int8} | {m['test_examples']:,} | "
            f"{m['parameters']:,} | {m['macs']:,} | {_shape(m)} |"
        )
    header = [
        "| " + " | ".join(_INDEX_COLUMNS) + " |",
        "|" + "---|" * len(_INDEX_COLUMNS),
    ]
    return _INDEX_HEADER + "\n".join(header + rows) + "\n"


def _transfer_section(transfer: dict) -> list[str]:
    results = transfer["results"]
    seeds = len(next(iter(results.values()))["runs"])
    lines = [
        "## Fine-tuning",
        "",
        f"{transfer['setting']}. Each result is the accuracy on the test split "
        f"({transfer['test_examples']:,} images) after the recipe, the mean of {seeds} seeds; "
        "`scratch` trains the same network from a fresh initialisation on the same images "
        "for as many epochs.",
        "",
        "| recipe | test accuracy (mean) | each seed | epochs | train time |",
        "|---|---|---|---|---|",
    ]
    for name, result in results.items():
        each = " / ".join(_percent(run["test_accuracy"]) for run in result["runs"])
        lines.append(
            f"| `{name}` | {_percent(result['test_accuracy'])} | {each} | {result['epochs']} | "
            f"{result['wall_time_s']:.0f} s |"
        )
    tuned = {name: r["test_accuracy"] for name, r in results.items() if name != "scratch"}
    if tuned and "scratch" in results:
        best = max(tuned, key=tuned.get)
        gap = 100 * (tuned[best] - results["scratch"]["test_accuracy"])
        side = "above" if gap > 0 else "below"
        # Runs of one seed share the images' order, so they pair up.
        wins = sum(
            tuned_run["test_accuracy"] > scratch_run["test_accuracy"]
            for tuned_run, scratch_run in zip(results[best]["runs"], results["scratch"]["runs"])
        )
        lines += [
            "",
            f"The best fine-tuning recipe, `{best}`, is {abs(gap):.2f} points {side} "
            f"training from scratch; it beats scratch with {wins} of {seeds} seeds.",
        ]
    if transfer.get("note"):
        lines += ["", transfer["note"]]
    lines += ["", "Measured with:", "", "```", transfer["command"], "```", ""]
    return lines


def _micro_section(micro: dict) -> list[str]:
    lines = ["## In int8, on a phone and on a microcontroller", ""]
    litert = micro.get("litert")
    if litert:
        lines += [
            f"Quantized to int8 (full-integer, calibrated on training images), the "
            f"**{litert['tflite_bytes']:,}-byte `model.int8.tflite`** classifies "
            f"**{_percent(litert['int8_test_accuracy'])}** of the full test split "
            f"({litert['test_examples']:,} images; {_percent(litert['keras_test_accuracy'])} "
            f"in float32 Keras) in LiteRT, in **{litert['latency_ms']:.3f} ms an image** "
            f"(batch 1, {litert['threads']} thread, {litert['machine']}).",
            "",
        ]
    return [
        *lines,
        f"Exported with `--format micro` (int8 in and out, calibrated on training images): "
        f"**{micro['flash_bytes']:,} bytes of flash** and a **tensor arena of "
        f"{micro['arena_bytes']:,} bytes**, the smallest TFLite Micro sets it up in. In "
        f"TFLite Micro's own interpreter it classifies {_percent(micro['test_accuracy'])} of "
        f"{micro['test_examples']:,} test images ({_percent(micro['keras_test_accuracy'])} in "
        f"Keras on the same images). Operators: {', '.join(micro['ops'])}.",
        "",
        "Measured with:",
        "",
        "```",
        micro["command"],
        "```",
        "",
    ]


def _regularisers(config: dict) -> str:
    """Label smoothing and weight averaging, where the run used them (older
    runs' records have no `ema_momentum`)."""
    text = ""
    if config.get("label_smoothing"):
        text += f"label smoothing {config['label_smoothing']}, "
    if config.get("ema_momentum"):
        text += (
            f"moving average of the weights (momentum {config['ema_momentum']}; validation "
            "and this preset use the average), "
        )
    return text


def _selection(training: dict) -> str:
    """How the published epoch was picked, in words."""
    if "teacher" in training:
        return "the last, fixed before training; the test split was read once, at the end"
    monitor = training.get("monitor", "val_accuracy")  # older presets: validation accuracy
    metric = "accuracy" if monitor.endswith("accuracy") else "loss"
    if monitor.startswith("val_"):
        share = training["data"]["validation_split"]
        return f"by validation {metric} on {share:.0%} of the training images"
    return f"by training {metric}: every training image was trained on, none held out"


def _teacher_lines(training: dict) -> list[str]:
    """Where a distilled preset's knowledge came from."""
    if "teacher" not in training:
        return []
    teacher, distill = training["teacher"], training["distill"]
    sizes = training["data"]["sizes"]
    unlabelled = sizes.get("unlabeled", 0)
    images = f"{sizes['train']:,} labelled" + (
        f" and {unlabelled:,} unlabelled images" if unlabelled else " images"
    )
    return [
        "",
        f"Distilled from the teacher `{teacher['source']}` (weights sha256 "
        f"`{teacher['weights_sha256'][:16]}...`) with the `{training['recipe']}` recipe "
        f"(`kerascnn distill`): {1 - distill['student_loss_weight']:g} of the loss the KL "
        f"divergence to the teacher's answers softened at temperature {distill['temperature']:g}, "
        f"{distill['student_loss_weight']:g} the cross-entropy on the labels, on {images}.",
    ]


def _speed_lines(training: dict) -> list[str]:
    if "seconds" not in training:
        return []
    machine = training.get("machine") or {}
    where = f" on {machine['description']}" if machine.get("description") else ""
    return [
        "",
        f"Trained in **{training['seconds'] / 60:.1f} minutes**{where}, "
        f"{training['images_per_second']:,.0f} training images a second "
        f"(precision {training['precision']}).",
    ]


def render_card(metadata: dict, transfer: dict | None = None, micro: dict | None = None) -> str:
    """A preset's model card (markdown)."""
    m = metadata
    training = m["training"]
    config = training["config"]
    per_class = sorted(m["per_class_accuracy"].items(), key=lambda kv: kv[1])
    lines = [
        f"# `{m['name']}`",
        "",
        m["description"],
        "",
        f"- Architecture: `{m['model']}`: {m['reference']}",
        f"- Data: {m['dataset']['name']} ({m['dataset']['source']}); "
        f"{len(m['class_names'])} classes: {', '.join(m['class_names'])}.",
        f"- Data license: {m['dataset']['license']}. Cite: {m['dataset']['citation']} "
        f"({m['dataset']['url']}).",
        *(
            f"- To check or reproduce it, set `{variable}` to {meaning}."
            for variable, meaning in m["dataset"].get("requires", {}).items()
        ),
        f"- Input: {_shape(m)} raw pixels (0-255); the model rescales them.",
        f"- Size: {m['parameters']:,} parameters; {m['macs']:,} multiply-accumulates per image.",
        "",
        "## Measured accuracy",
        "",
        f"**{_percent(m['test_accuracy'])}** on the full test split "
        f"({m['test_examples']:,} images). Weakest classes: "
        + ", ".join(f"{name} {_percent(acc)}" for name, acc in per_class[:3])
        + "; strongest: "
        + ", ".join(f"{name} {_percent(acc)}" for name, acc in per_class[-2:])
        + ".",
        "",
        "Check it with:",
        "",
        "```",
        f"kerascnn evaluate {m['name']} --data {m['dataset']['source']} "
        f"{m['dataset']['flags']}".rstrip(),
        "```",
        "",
        "## Training recipe",
        "",
        f"{training['epochs_completed']} epochs, best at epoch {training['best_epoch']} "
        f"({_selection(training)}); optimizer {config['optimizer']}, peak learning rate "
        f"{config['learning_rate']}, {config['schedule']} schedule, "
        f"{config['warmup_epochs']} warm-up epoch(s), weight decay {config['weight_decay']}, "
        f"{_regularisers(config)}batch size {training['data']['batch_size']}, augmentation "
        f"{training['data'].get('augment') or 'none'}, seed {config['seed']}. "
        f"Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        *_teacher_lines(training),
        *_speed_lines(training),
        "",
        "Reproduce:",
        "",
        "```",
        *m["reproduce"],
        "```",
        "",
    ]
    if transfer:
        lines += _transfer_section(transfer)
    if micro:
        lines += _micro_section(micro)
    lines += ["## Limitations", "", m["limitations"], ""]
    return "\n".join(lines)


def render_recipe(metadata: dict) -> str:
    """`zoo/<preset>/recipe.sh`: the commands that train and publish the preset."""
    lines = [
        "#!/bin/sh",
        f"# Trains and publishes {metadata['name']}; run from the repository root.",
        "set -e",
        *(
            f': "${{{variable}:?set {variable} to {meaning}}}"'
            for variable, meaning in metadata["dataset"].get("requires", {}).items()
        ),
        *metadata["reproduce"],
    ]
    return "\n".join(lines) + "\n"


def expected_cards(cards_dir: str | Path, presets_dir: str | Path | None = None) -> dict:
    """Every card and the index as they should read: path -> text.

    Args:
        cards_dir: The cards' folder (the repository's `zoo/`).
        presets_dir: The presets to describe; default those in the package.
    """
    from kerascnn.zoo.presets import PACKAGED_DIR, packaged_presets, read_preset

    cards_dir = Path(cards_dir)
    texts, all_metadata, all_micro = {}, [], {}
    for name, folder in packaged_presets(presets_dir or PACKAGED_DIR).items():
        metadata = read_preset(folder).metadata
        all_metadata.append(metadata)
        measured = {}
        for kind in (TRANSFER, MICRO):
            path = cards_dir / name / kind
            measured[kind] = (
                json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
            )
        texts[cards_dir / name / "README.md"] = render_card(
            metadata, measured[TRANSFER], measured[MICRO]
        )
        texts[cards_dir / name / "recipe.sh"] = render_recipe(metadata)
        all_micro[name] = measured[MICRO]
    texts[cards_dir / "README.md"] = render_index(all_metadata, all_micro)
    return texts


def write_cards(cards_dir: str | Path, presets_dir: str | Path | None = None) -> list[Path]:
    """Renders every card and the index into `cards_dir`; returns the paths."""
    written = []
    for path, text in expected_cards(cards_dir, presets_dir).items():
        atomic_files.write_text(path, text)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_cards(sys.argv[1] if len(sys.argv) > 1 else "zoo"):
        print(path)
