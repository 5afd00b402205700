"""`inspect_image`: every picture of one image's trip through the network,
and an HTML page that shows them with the prediction and the statistics."""

from __future__ import annotations

import html
import time

import keras
import numpy as np

from kerascnn import atomic_files
from kerascnn.builder import ConvNet
from kerascnn.builder import class_names as class_names_of
from kerascnn.errors import UsageError
from kerascnn.inspection import plots
from kerascnn.inspection.gradcam import grad_cam
from kerascnn.inspection.maps import feature_maps, filters, steps
from kerascnn.inspection.statistics import map_statistics

PAGE = "index.html"


def inspect_image(model: keras.Model, image, out_dir, *, top: int = 5, force: bool = False) -> dict:
    """Writes the pictures and the HTML page for one image; returns the summary.

    The folder gets `steps.png` (input -> convolution -> rectified map ->
    pooled map, block after block, then the class probabilities),
    `feature_maps.png`, `filters_<layer>.png` for each convolution,
    `grad_cam.png`, `inspection.json` and `index.html`. It is written
    atomically; an existing folder is replaced only with `force=True`, and
    only if kerascnn wrote it (`atomic_files.check_output_directory`).

    Args:
        model: A kerascnn model, or a functional model with ReLU layers.
        image: One raw image (H, W, C), as the model takes it.
        out_dir: The folder to write.
        top: How many classes the prediction lists (at least 1).
        force: Replace a folder an earlier inspection wrote.

    Example:
    >>> inspect_image(create_model("lenet5.mnist"), digit, "inspect_out")["prediction"][0]
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise UsageError(f"`top` must be a positive integer. Received: top={top!r}")
    atomic_files.check_output_directory(out_dir, force=force)
    start = time.perf_counter()
    image = np.asarray(image, dtype="float32")
    names = class_names_of(model)
    the_steps = steps(model)
    maps = feature_maps(model, image[None])
    statistics = map_statistics(maps)
    probabilities = keras.ops.convert_to_numpy(model(image[None], training=False))[0]
    order = np.argsort(-probabilities)[:top]
    prediction = [(names[i], float(probabilities[i])) for i in order]
    heat, explained = grad_cam(model, image)
    pictures = {}
    with atomic_files.directory(out_dir) as tmp:
        atomic_files.mark_output(tmp)
        pictures["steps"] = plots.plot_steps(
            image, maps, the_steps, probabilities, names, tmp / "steps.png"
        ).name
        pictures["feature maps"] = plots.plot_feature_maps(maps, tmp / "feature_maps.png").name
        for layer, kernel in filters(model).items():
            pictures[f"filters of {layer}"] = plots.plot_filters(
                kernel, tmp / f"filters_{layer}.png", name=layer
            ).name
        pictures["Grad-CAM"] = plots.plot_grad_cam(
            image, heat, tmp / "grad_cam.png", title=f"Grad-CAM for '{names[explained]}'"
        ).name
        summary = {
            "model": model.source if isinstance(model, ConvNet) else model.name,
            "prediction": prediction,
            "statistics": {name: s.to_dict() for name, s in statistics.items()},
            "pictures": pictures,
            "seconds": time.perf_counter() - start,
        }
        atomic_files.write_json(tmp / "inspection.json", summary)
        atomic_files.write_text(tmp / PAGE, _page(summary))
    return summary


def _page(summary: dict) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(name)}</td><td>{100 * p:.2f}%</td></tr>" for name, p in summary["prediction"]
    )
    stats = "".join(
        f"<tr><td>{e(s['layer'])}</td><td>{'x'.join(map(str, s['shape']))}</td>"
        f"<td>{100 * s['sparsity']:.1f}%</td><td>{s['mean']:.3g}</td><td>{s['max']:.3g}</td>"
        f"<td>{', '.join(f'{c} ({v:.3g})' for c, v in s['top_channels'])}</td></tr>"
        for s in summary["statistics"].values()
    )
    figures = "".join(
        f'<figure><img src="{e(file)}" alt="{e(title)}"><figcaption>{e(title)}</figcaption>'
        "</figure>"
        for title, file in summary["pictures"].items()
    )
    best, probability = summary["prediction"][0]
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(summary["model"])}: inside the network</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }}
figure {{ margin: 1em 0; }}
img {{ max-width: 100%; border: 1px solid #eee; }}
</style>
</head>
<body>
<h1>{e(summary["model"])}: inside the network</h1>
<p>Prediction: <strong>{e(best)}</strong> ({100 * probability:.2f}%)</p>
<h2>Top classes</h2>
<table><tr><th>class</th><th>probability</th></tr>{rows}</table>
<h2>Feature-map statistics</h2>
<p>Sparsity is the share of values the ReLU set to zero; the channels listed
respond most to this image (mean activation).</p>
<table><tr><th>layer</th><th>map</th><th>sparsity</th><th>mean</th><th>max</th>
<th>strongest channels</th></tr>{stats}</table>
<h2>Pictures</h2>
{figures}
<script>
window.addEventListener("load", () => {{
  const images = Array.from(document.images);
  const shown = images.filter((img) => img.complete && img.naturalWidth > 0).length;
  document.body.dataset.imagesShown = `${{shown}}/${{images.length}}`;
}});
</script>
</body>
</html>
"""
