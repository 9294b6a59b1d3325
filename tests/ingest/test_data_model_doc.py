"""docs/DATA_MODEL.md must describe exactly the contract in kam_dash/schema.py."""

from __future__ import annotations

import re

import pytest

from kam_dash import ingest, schema
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "DATA_MODEL.md").read_text(encoding="utf-8")


def section(table: str) -> str:
    match = re.search(rf"^### `{table}`\n(.*?)(?=^##)", DOC, re.MULTILINE | re.DOTALL)
    assert match, f"docs/DATA_MODEL.md has no section ### `{table}`"
    return match.group(1)


def expected_cells(c: schema.Column) -> list[str]:
    """The doc's cells for a column, but its free-text meaning."""
    checks = []
    if c.allowed:
        checks.append("one of: " + ", ".join(f"`{a}`" for a in c.allowed))
    if c.min is not None:
        checks.append(f">= {c.min:g}")
    if c.max is not None:
        checks.append(f"<= {c.max:g}")
    empty = "default" if c.default is not None else ("NULL" if c.nullable else "refused")
    default = "" if c.default is None else ('`""`' if c.default == "" else f"`{c.default}`")
    return [f"`{c.name}`", c.type, "yes" if c.required else "no", empty, "; ".join(checks), default]


@pytest.mark.parametrize("table", schema.LOAD_ORDER)
def test_each_table_is_documented_column_by_column(table):
    text = section(table)
    spec = schema.TABLES[table]
    documented = [[cell.strip() for cell in line.strip().strip("|").split("|")][:6]
                  for line in text.splitlines() if line.startswith("| `")]
    assert documented == [expected_cells(c) for c in spec.columns]
    assert "Key: " + ", ".join(f"`{k}`" for k in spec.key) in text
    refs = ", ".join(f"`{col}` -> `{target}`" for col, target in spec.references.items())
    assert (f"References: {refs}" in text) == bool(spec.references)
    assert "```csv\n" + ",".join(spec.column_names) + "\n" in text  # the example shows every column


def test_the_example_rows_import_cleanly():
    examples = {table: re.search(r"```csv\n(.*?)```", section(table), re.DOTALL).group(1)
                for table in schema.LOAD_ORDER}
    result = ingest.validate([(f"{table}.csv", text.encode()) for table, text in examples.items()],
                             known={"products": {"SKU00015"}})  # the promotion example's SKU
    assert result.ok, result.render()
    assert {name: len(frame) for name, frame in result.frames.items()} == {
        "retailers": 1, "products": 1, "stores": 1, "sell_in": 1, "sell_out": 1, "sell_out_store": 1,
        "inventory": 1, "inventory_store": 1, "promotions": 1, "targets": 2}


def test_every_table_has_a_section_and_no_more():
    documented = re.findall(r"^### `(\w+)`$", DOC, re.MULTILINE)
    assert sorted(documented) == sorted(schema.TABLES)


@pytest.mark.parametrize("name", sorted(schema.TRUTH_DDL))
def test_truth_tables_are_documented_with_their_columns(name):
    row = next((line for line in DOC.splitlines() if line.startswith(f"| `truth.{name}` |")), None)
    assert row is not None
    ddl_columns = re.findall(r'[(,]\s*"?(\w+)"? (?:VARCHAR|DOUBLE|INTEGER|DATE)', schema.TRUTH_DDL[name])
    assert ddl_columns
    for column in ddl_columns:
        assert f"`{column}`" in row
