from __future__ import annotations

import math

import pytest

from kam_dash import fmt


@pytest.mark.parametrize(("value", "shown"), [
    (1_234_567, "$1.23M"), (45_600, "$45.60K"), (999, "$999"), (-2_500_000, "-$2.50M"),
    (123_456_789, "$123.5M"), (3.2e9, "$3.20B"), (None, "–"), (math.nan, "–"), ("n/a", "–"),
])
def test_money_compact(value, shown):
    assert fmt.money(value) == shown


def test_money_full_number_and_percent():
    assert fmt.money(1234567.4, compact=False) == "$1,234,567"
    assert fmt.number(12345.6) == "12,346"
    assert fmt.pct(0.0421) == "4.2%"
    assert fmt.pct(-0.0421, signed=True) == "-4.2%"
    assert fmt.pct(0.1, signed=True) == "+10.0%"
    assert fmt.pct(float("nan")) == fmt.DASH
    assert fmt.weeks(2.345) == "2.3 wk"


def test_currency_symbol_from_environment(monkeypatch):
    monkeypatch.setenv("KAM_DASH_CURRENCY", "€")
    assert fmt.money(1500) == "€1.50K"
