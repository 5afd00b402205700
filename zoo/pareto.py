"""Draws the zoo's accuracy-per-multiply frontier for one data set.

Every preset trained on the data set is a point (test accuracy against
multiply-accumulates per image, from its metadata; int8 accuracy in LiteRT
too where `zoo/<preset>/micro.json` has it), beside published anchors, so a
user sees at a glance what each extra multiply buys:

    python zoo/pareto.py cifar10 --out docs/cifar10-pareto.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Published reference points: (name, MACs, parameters, float32 accuracy,
# int8 accuracy, where the figures come from).
ANCHORS = {
    "cifar10": [
        (
            "MLPerf Tiny ResNet-8",
            12_500_000,
            78_666,
            0.862,
            0.861,
            "MLPerf Tiny reference, measured on the 10,000 test images by SiliconLabs MLTK",
        ),
    ],
}


def points(dataset: str, zoo: Path) -> list[dict]:
    """The presets trained on `dataset`: name, MACs, parameters, accuracies."""
    from kerascnn.zoo import list_models, resolve_preset

    found = []
    for name in list_models(pretrained=True):
        metadata = resolve_preset(name).metadata
        if metadata["dataset"]["key"] != dataset:
            continue
        micro_file = zoo / name / "micro.json"
        micro = json.loads(micro_file.read_text()) if micro_file.is_file() else {}
        litert = micro.get("litert", {})
        found.append(
            {
                "name": name,
                "macs": metadata["macs"],
                "parameters": metadata["parameters"],
                "accuracy": metadata["test_accuracy"],
                "int8_accuracy": litert.get("int8_test_accuracy"),
            }
        )
    return found


def draw(dataset: str, presets: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    for p in presets:
        axes.scatter(p["macs"], 100 * p["accuracy"], color="tab:blue", zorder=3)
        label = f"{p['name']}\n{p['parameters']:,} params"
        if p["int8_accuracy"] is not None:
            axes.scatter(
                p["macs"], 100 * p["int8_accuracy"], marker="x", color="tab:blue", zorder=3
            )
            label += f", int8 {100 * p['int8_accuracy']:.2f}%"
        axes.annotate(
            label, (p["macs"], 100 * p["accuracy"]), textcoords="offset points",
            xytext=(6, 4), fontsize=8,
        )  # fmt: skip
    for name, macs, params, fp32, int8, _ in ANCHORS.get(dataset, []):
        axes.scatter(macs, 100 * fp32, color="tab:red", marker="s", zorder=3)
        axes.scatter(macs, 100 * int8, color="tab:red", marker="x", zorder=3)
        axes.annotate(
            f"{name}\n{params:,} params, int8 {100 * int8:.1f}%", (macs, 100 * fp32),
            textcoords="offset points", xytext=(6, -22), fontsize=8, color="tab:red",
        )  # fmt: skip
    axes.set_xscale("log")
    axes.set_xlabel("multiply-accumulates per image (log scale)")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(f"{dataset}: accuracy per multiply (dot float32, x int8)")
    axes.grid(True, which="both", alpha=0.3)
    left, right = axes.get_xlim()
    axes.set_xlim(left / 1.5, right * 3)  # room for the labels
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a data set key, e.g. cifar10")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--zoo", default=str(Path(__file__).parent), help="the zoo folder")
    args = parser.parse_args(argv)
    presets = points(args.dataset, Path(args.zoo))
    if not presets:
        parser.error(f"no preset is trained on {args.dataset!r}")
    draw(args.dataset, presets, Path(args.out))
    for p in presets:
        int8 = "" if p["int8_accuracy"] is None else f", int8 {100 * p['int8_accuracy']:.2f}%"
        print(f"{p['name']}: {p['macs']:,} MACs, {100 * p['accuracy']:.2f}%{int8}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
