"""Keras, imported without loading matplotlib.

Keras' `keras.visualization.plot_image_gallery` module runs
`import matplotlib.pyplot` when Keras is imported if matplotlib is installed
(0.7 s and a plotting backend, here). kerascnn depends on matplotlib for
its pictures, yet `import kerascnn` must stay light, so Keras is imported
with matplotlib hidden and that module gets a stand-in that imports pyplot
the first time Keras plots. Keras' plotting keeps working.
"""

from __future__ import annotations

import contextlib
import importlib
import sys

_GALLERY = "keras.src.visualization.plot_image_gallery"


class _LazyPyplot:
    """Forwards attribute access to `matplotlib.pyplot`, imported on first use."""

    def __getattr__(self, name):
        return getattr(importlib.import_module("matplotlib.pyplot"), name)


@contextlib.contextmanager
def matplotlib_hidden():
    """While Keras imports: `import matplotlib...` raises ImportError, then
    Keras' gallery module gets a pyplot that imports on first use."""
    if "matplotlib" in sys.modules:
        yield
        return
    sys.modules["matplotlib"] = None  # makes `import matplotlib...` raise ImportError
    try:
        yield
    finally:
        del sys.modules["matplotlib"]
    gallery = sys.modules.get(_GALLERY)
    if gallery is not None and getattr(gallery, "plt", False) is None:
        gallery.plt = _LazyPyplot()
