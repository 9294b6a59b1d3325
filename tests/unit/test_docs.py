"""One definition per metric: docs/METRICS.md is generated from the modules' DEFINITIONS and must be current."""

from __future__ import annotations

from pathlib import Path

from kam_dash.docs import metrics_markdown
from kam_dash.metrics import domain_modules

ROOT = Path(__file__).resolve().parents[2]


def test_metrics_doc_is_current():
    assert (ROOT / "docs" / "METRICS.md").read_text() == metrics_markdown(), (
        "docs/METRICS.md is stale: run `kam-dash docs`")


def test_every_metric_module_defines_its_metrics():
    for module in domain_modules():
        defs = getattr(module, "DEFINITIONS", None)
        assert defs, f"{module.__name__} has no DEFINITIONS"
        for name, text in defs.items():
            assert len(text) > 30, f"{module.__name__}: the definition of {name!r} is too thin"


def test_library_never_imports_streamlit_outside_ui():
    for path in (ROOT / "kam_dash").rglob("*.py"):
        if path.name == "ui.py":
            continue
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path
