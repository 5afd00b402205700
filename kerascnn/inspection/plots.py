"""Pictures of feature maps, filters, each conv-ReLU-pool step and Grad-CAM.

PNG files through matplotlib's headless Agg backend; matplotlib is imported
only when a picture is drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    _pyplot().close(figure)
    return path


def _show_image(axis, image):
    image = np.asarray(image, dtype=np.float32)
    if image.shape[-1] == 1:
        axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        axis.imshow(np.clip(image, 0, 255).astype(np.uint8))
    axis.set_xticks([])
    axis.set_yticks([])


def plot_feature_maps(maps: dict, path, *, index: int = 0, max_channels: int = 16) -> Path:
    """One grid per layer (a row block each): the channels of image `index`."""
    plt = _pyplot()
    rows = []
    for name, values in maps.items():
        channels = min(values.shape[-1], max_channels)
        rows.append((name, values[index], channels))
    columns = 8
    height = sum(math.ceil(c / columns) for _, _, c in rows)
    figure, axes = plt.subplots(height, columns, figsize=(columns * 1.3, height * 1.45))
    axes = np.atleast_2d(axes)
    row = 0
    for name, values, channels in rows:
        for k in range(math.ceil(channels / columns) * columns):
            axis = axes[row + k // columns, k % columns]
            axis.axis("off")
            if k < channels:
                axis.imshow(values[..., k], cmap="viridis")
                axis.set_title(f"{name}[{k}]" if k == 0 else f"[{k}]", fontsize=7, loc="left")
        row += math.ceil(channels / columns)
    figure.suptitle("Feature maps (one row block per layer)", fontsize=10)
    return _save(figure, path)


def plot_filters(kernel: np.ndarray, path, *, name: str = "", max_filters: int = 32) -> Path:
    """The filters of one convolution: RGB when they see 3 channels, else gray (mean)."""
    plt = _pyplot()
    count = min(kernel.shape[-1], max_filters)
    columns = min(count, 8)
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.0, rows * 1.1))
    axes = np.atleast_1d(axes).ravel()
    for k, axis in enumerate(axes):
        axis.axis("off")
        if k >= count:
            continue
        weights = kernel[..., k]
        if weights.shape[-1] == 3:
            low, high = weights.min(), weights.max()
            axis.imshow((weights - low) / (high - low + 1e-12))
        else:
            axis.imshow(weights.mean(axis=-1), cmap="gray")
        axis.set_title(str(k), fontsize=7)
    # Above the filters' own titles, however many rows there are.
    figure.suptitle(f"Filters of {name}" if name else "Filters", fontsize=10, y=1 + 0.1 / rows)
    return _save(figure, path)


def plot_steps(image, maps: dict, steps, probabilities, class_names, path) -> Path:
    """Input -> convolution -> rectified map -> pooled map, block after block,
    then the class probabilities. Each map shows the channel that responds
    most to this image."""
    plt = _pyplot()
    rows = len(steps) + 1
    figure, axes = plt.subplots(rows, 4, figsize=(10, 2.4 * rows))
    axes = np.atleast_2d(axes)
    for row, step in enumerate(steps):
        channel = int(np.argmax(maps[step.rectified][0].mean(axis=(0, 1))))
        panels = [("input pixels", None)] if row == 0 else [("", None)]
        panels += [
            (f"{step.conv} [{channel}]\nconvolution", step.conv),
            (f"{step.rectified} [{channel}]\nrectified (ReLU)", step.rectified),
            (f"{step.pooled} [{channel}]\npooled", step.pooled),
        ]
        for column, (title, layer) in enumerate(panels):
            axis = axes[row, column]
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                if row == 0:
                    _show_image(axis, image)
                else:
                    axis.axis("off")
            elif layer is None or layer not in maps:
                axis.axis("off")
                continue
            else:
                values = maps[layer][0][..., channel]
                if column == 1:
                    bound = float(np.abs(values).max()) or 1.0
                    shown = axis.imshow(values, cmap="RdBu_r", vmin=-bound, vmax=bound)
                else:
                    shown = axis.imshow(values, cmap="viridis", vmin=0)
                figure.colorbar(shown, ax=axis, fraction=0.046)
                height, width = values.shape
                title = f"{title}\n{height}x{width}"
            axis.set_title(title, fontsize=8)
    bars = axes[-1, 0]
    for axis in axes[-1, 1:]:
        axis.axis("off")
    gs = axes[-1, 0].get_gridspec()
    bars.remove()
    bars = figure.add_subplot(gs[-1, :])
    positions = np.arange(len(class_names))
    bars.bar(positions, probabilities, color="tab:blue")
    bars.set_xticks(positions, [str(n) for n in class_names], rotation=45, fontsize=8)
    bars.set_ylim(0, 1)
    bars.set_title("class probabilities", fontsize=9)
    figure.tight_layout()
    return _save(figure, path)


def plot_grad_cam(image, heat_map, path, *, title: str = "") -> Path:
    """The image with its Grad-CAM heat map laid over it."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(6, 3))
    _show_image(axes[0], image)
    axes[0].set_title("input", fontsize=9)
    _show_image(axes[1], image)
    axes[1].imshow(heat_map, cmap="jet", alpha=0.5, vmin=0, vmax=1)
    axes[1].set_title(title or "Grad-CAM", fontsize=9)
    return _save(figure, path)
