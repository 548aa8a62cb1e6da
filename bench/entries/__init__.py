"""Bench registrations that live beside the systems they run.

Each module here calls `register_task` / `register_optimizer` from
`undertow.bench.registry` when imported; the registry imports every module of this
package once its own entries are in (so adding a system to the bench is adding a file).
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every module of this package (each registers its entries)."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        importlib.import_module(f"{__name__}.{info.name}")
