"""One module per domain: share, plan, seasonality, promotions, inventory, account.

Each module keeps its metric definitions in a module-level DEFINITIONS dict
(name -> definition in words). That dict is the one source for the page's
"How is this computed?" expander and for docs/METRICS.md (`kam-dash docs`).
"""

from __future__ import annotations

import importlib
import pkgutil

# The order metrics appear in docs/METRICS.md; modules not listed follow alphabetically.
DOC_ORDER = ("share", "plan", "account", "seasonality", "promotions", "inventory")


def domain_modules() -> list:
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    ordered = [n for n in DOC_ORDER if n in names] + sorted(n for n in names if n not in DOC_ORDER)
    return [importlib.import_module(f"{__name__}.{n}") for n in ordered]
