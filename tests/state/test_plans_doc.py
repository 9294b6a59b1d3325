"""docs/DATA_MODEL.md describes exactly the account-plan CSV files of kam_dash/state/plans.py, and its
examples import cleanly."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kam_dash.state import io, plans
from kam_dash.state.store import Store
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "DATA_MODEL.md").read_text(encoding="utf-8")
KINDS = {"id": "id", "text": "text", "long_text": "long text", "int": "whole number", "number": "number",
         "date": "date"}


def section(name: str) -> str:
    match = re.search(rf"^### Account plan file `{name}\.csv`\n(.*?)(?=^##|\Z)", DOC, re.MULTILINE | re.DOTALL)
    assert match, f"docs/DATA_MODEL.md has no section ### Account plan file `{name}.csv`"
    return match.group(1)


@pytest.mark.parametrize("name", list(plans.RECORD_TYPES))
def test_each_file_is_documented_column_by_column(name):
    spec = plans.RECORD_TYPES[name]
    text = section(name)
    documented = [[cell.strip() for cell in line.strip().strip("|").split("|")]
                  for line in text.splitlines() if line.startswith("| `")]
    expected = [[f"`{f.name}`", KINDS[f.kind], "yes" if f.required else "no",
                 "one of: " + ", ".join(f"`{a}`" for a in f.allowed) if f.allowed else "", f.meaning]
                for f in spec.fields]
    assert documented == expected
    assert f"Key: `{spec.key}`" in text
    assert "References: " + ", ".join(f"`{c}` -> `{t}`" for c, t in spec.references.items()) in text
    assert "```csv\n" + ",".join(spec.columns) + "\n" in text


def test_every_record_type_has_a_section_and_no_more():
    assert re.findall(r"^### Account plan file `(\w+)\.csv`$", DOC, re.MULTILINE) == list(plans.RECORD_TYPES)


def test_the_target_bounds_are_the_documented_ones():
    text = " ".join(DOC.split())
    for measure in plans.MEASURES:
        assert f"`{measure}` {plans.target_range_words(measure)}" in text


def test_the_examples_import_cleanly(tmp_path):
    for name in plans.RECORD_TYPES:
        example = re.search(r"```csv\n(.*?)```", section(name), re.DOTALL).group(1)
        (tmp_path / f"{name}.csv").write_text(example, encoding="utf-8")
    store = Store(tmp_path / "state.sqlite")
    refs = plans.Refs(retailers=frozenset({"R001"}), promo_ids=frozenset(), today=dt.date(2026, 6, 1))
    report = io.import_dir(store, tmp_path, refs, "doc")
    assert {name: c["added"] for name, c in report.counts.items()} == {
        "objectives": 2, "initiatives": 2, "contacts": 1, "meetings": 1}
    assert plans.next_steps(plans.get(store, "meetings", "MTG-1")) == ["Send the calendar", "Share the OOS report"]
