"""Lazy package attributes (PEP 562): a name's module loads on first use."""

from __future__ import annotations

import importlib


def lazy_getattr(package: str, exports: dict[str, str]):
    """The module `__getattr__` of `package`: `exports` maps each public name
    to the module defining it, imported the first time the name is used."""

    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
