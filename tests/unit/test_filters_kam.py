"""The KAM filter: kept in the URL, checked against the retailers table, narrowing the retailers in scope."""

from __future__ import annotations

import datetime as dt

from kam_dash import scope
from kam_dash.calendar import resolve_period
from kam_dash.filters import Filters, Known
from tests.unit.test_share import PRODUCTS, RETAILERS, SELL_IN

KNOWN = Known(retailers=frozenset({"R1", "R2", "R3"}), kams=frozenset({"Avery Chen", "Sam Ortiz"}),
              first_week=dt.date(2025, 1, 6), latest_week=dt.date(2026, 3, 2))


def test_kam_round_trips_through_the_url():
    f = Filters(kams=("Sam Ortiz", "Avery Chen"))
    assert f.kams == ("Avery Chen", "Sam Ortiz")  # sorted, like every list filter
    assert f.to_params()["kam"] == ["Avery Chen", "Sam Ortiz"]
    back, warnings = Filters.from_params(f.to_params(), KNOWN)
    assert back == f and warnings == []
    assert Filters().cache_key() != f.cache_key()


def test_a_tampered_kam_is_dropped_with_a_message_not_an_exception():
    f, warnings = Filters.from_params({"kam": ["Avery Chen", "'; DROP TABLE retailers; --", "<b>x</b>"]}, KNOWN)
    assert f.kams == ("Avery Chen",)
    assert len(warnings) == 2 and all(w.startswith("Unknown KAM ") for w in warnings)
    assert not any("<" in w or ";" in w for w in warnings)  # never echoed as markup or SQL


def test_header_line_names_the_kam_and_the_retailers():
    f = Filters(kams=("Avery Chen",), retailers=("R2",))
    text = f.describe(resolve_period(f, KNOWN.first_week, KNOWN.latest_week), retailer_names={"R2": "Two Mart"})
    assert "retailers: Two Mart" in text and "R2" not in text and "KAM: Avery Chen" in text


def test_kam_narrows_the_retailers_in_scope(hand_db):
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN)
    # the hand-built retailers: R1 and R3 are KAM A's, R2 is KAM B's
    assert scope.known(engine).kams == frozenset({"A", "B"})
    assert scope.resolve(engine, Filters(kams=("A",))).retailer_ids == ("R1", "R3")
    assert scope.resolve(engine, Filters(kams=("A",), channels=("mass",))).retailer_ids == ()  # R2 is B's
    assert scope.resolve(engine, Filters()).retailer_ids is None
