"""Tables in words on every page (issue 13): headings without machine names, names instead of ids, the run rate
said per week beside the current one, a short needs-attention list, and A/B/C of the whole portfolio."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from kam_dash import scope
from kam_dash.engine import DuckDBEngine
from tests.app.test_auth_pages import signed_in  # noqa: F401 - the signed-in AppTest fixture

PAGES = ["pages/portfolio.py", "pages/account_review.py", "pages/account_plan.py", "pages/plan.py",
         "pages/promotions.py", "pages/inventory.py", "pages/stores.py", "pages/seasonality.py", "pages/data.py",
         "pages/users.py"]
ID_LIKE = re.compile(r"^(SKU|R|ST)\d{3,}$")  # the demo's SKU00001, R001 and store ids
NAME_HEADINGS = ("Retailer", "Product", "SKU", "Store")


def dataframes(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


@pytest.mark.parametrize("page", PAGES)
def test_every_table_has_headings_in_words_and_names_not_ids(app, small_db, page):
    at = app(small_db, page=page)
    frames = dataframes(at)
    if page not in ("pages/users.py", "pages/account_plan.py"):  # no users or plan records on a fresh demo
        assert frames, f"{page} shows no table"
    engine = DuckDBEngine(small_db)
    ids = set(scope.retailers(engine)["retailer_id"]) | set(scope.products(engine)["sku_id"])
    engine.close()
    for frame in frames:
        bad = [c for c in frame.columns if "_" in str(c) or str(c) != str(c).strip()]
        assert not bad, f"{page}: headings in code {bad}"
        for col in (c for c in frame.columns if c in NAME_HEADINGS):
            values = set(frame[col].astype(str))
            assert not values & ids, f"{page}: ids in {col}: {sorted(values & ids)[:5]}"
            assert not any(ID_LIKE.match(v) for v in values), f"{page}: id-like values in {col}"
        for col in (c for c in frame.columns if c == "Mechanic"):
            assert not set(frame[col]) & {"tpr", "bogo", "multibuy"}, f"{page}: mechanic codes"


def test_run_rate_needed_says_per_week_beside_the_current_one(app, small_db):
    at = app(small_db, page="pages/plan.py")
    tile = next(m for m in at.metric if m.label == "Run rate needed per week")
    assert tile.value.startswith("$") and tile.delta.startswith("now $") and tile.delta.endswith(" per week")
    # every delta on the page says what it compares with
    assert all(m.delta.endswith(("vs plan", "vs last year", "pts", "per week")) for m in at.metric if m.delta)


def test_needs_attention_lists_at_most_five_of_the_default_demo(app, default_db):
    at = app(default_db, page="pages/portfolio.py")
    links = [link for link in at.get("page_link") if link.proto.page == "account_review"]
    flagged = (next(d.value for d in at.dataframe if "Tier" in d.value.columns)["Health"]
               .isin(["Red", "Amber"]).sum())
    assert flagged > 10  # the default demo has many red and amber accounts ...
    assert 1 <= len(links) <= 5  # ... and leadership sees the few that matter, each with money at stake
    assert all("\\$" in link.proto.label for link in links)


def test_abc_class_does_not_change_under_a_retailer_filter(app, small_db):
    def classes(at):
        table = next(d.value for d in at.dataframe if "A/B/C class" in d.value.columns)
        return dict(zip(table["Retailer"], table["A/B/C class"]))

    everyone = classes(app(small_db, page="pages/portfolio.py"))
    smallest_two = list(everyone)[-2:]  # the revenue-share table is largest first
    engine = DuckDBEngine(small_db)
    ids = {n: i for i, n in zip(scope.retailers(engine)["retailer_id"], scope.retailers(engine)["retailer_name"])}
    engine.close()
    picked = classes(app(small_db, page="pages/portfolio.py", query={"retailer": [ids[n] for n in smallest_two]}))
    assert picked == {n: everyone[n] for n in smallest_two}
    assert "A" not in picked.values()  # alone in view the larger would have been re-classed as A


def test_kam_filter_is_kept_in_the_url_and_a_tampered_one_is_said_in_words(app, small_db):
    engine = DuckDBEngine(small_db)
    retailers = scope.retailers(engine)
    engine.close()
    kam = sorted(retailers["kam"].dropna())[0]
    theirs = set(retailers.loc[retailers["kam"] == kam, "retailer_name"])
    at = app(small_db, page="pages/plan.py", query={"kam": kam})
    assert at.multiselect(key="f_kam").value == [kam]
    table = next(d.value for d in at.dataframe if "Retailer" in d.value.columns)
    assert set(table["Retailer"]) <= theirs and len(theirs) < len(retailers)
    assert any(f"KAM: {kam}" in c.value for c in at.caption)  # the header's filter line
    at = app(small_db, page="pages/portfolio.py", query={"kam": "<script>x</script>"})
    assert not at.exception
    assert any(w.value.startswith("Unknown KAM") for w in at.warning)
    at.multiselect(key="f_kam").set_value([kam]).run()
    assert at.query_params["kam"] == [kam] or at.query_params["kam"] == kam


def test_a_restricted_reader_sees_whole_portfolio_classes_of_their_rows_only(app, small_db, signed_in):
    def classes(at):
        table = next(d.value for d in at.dataframe if "A/B/C class" in d.value.columns)
        return dict(zip(table["Retailer"], table["A/B/C class"]))

    everyone = classes(app(small_db, page="pages/portfolio.py"))
    # the broker reads only R003 Metro Online: alone in their view it would be the largest, so "A"
    theirs = classes(signed_in("broker@example.com", "portfolio"))
    assert theirs == {"Metro Online": everyone["Metro Online"]} and theirs["Metro Online"] != "A"


def test_a_long_table_shows_200_rows_says_so_and_offers_every_row_as_csv(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from kam_dash import ui

    written = []
    real_csv = ui.csv_bytes
    monkeypatch.setattr(ui, "csv_bytes", lambda frame: written.append(real_csv(frame)) or written[-1])

    def script():
        import pandas as pd

        from kam_dash import ui

        frame = pd.DataFrame({"retailer_id": [f"R{i:03d}" for i in range(250)],
                              "retailer_name": ["=HYPERLINK(1)"] + [f"Shop {i}" for i in range(1, 250)],
                              "mechanic": ["bogo"] * 250, "net_sales_ly": range(250)})
        ui.table(frame, {"net_sales_ly": lambda v: f"${v:,}"}, key="long")

    at = AppTest.from_function(script).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert len(shown) == 200 and list(shown.columns) == ["Retailer", "Mechanic", "Net sales last year"]
    assert shown["Mechanic"].iloc[0] == "Buy one get one" and shown["Net sales last year"].iloc[1] == "$1"
    assert any(c.value == "200 of 250 rows shown; the CSV holds them all." for c in at.caption)
    # under it, every row as CSV (through ui.csv_bytes: the exports' spreadsheet-safe writer)
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Download all rows (CSV)"]
    assert written == []  # built when clicked, not on every rerun
    import pandas as pd

    ui.all_rows_csv(pd.DataFrame({"retailer_id": [f"R{i:03d}" for i in range(250)],  # the script's table, as
                                  "retailer_name": ["=HYPERLINK(1)"] + [f"Shop {i}" for i in range(1, 250)],
                                  "mechanic": ["bogo"] * 250, "net_sales_ly": range(250)}))  # the click builds it
    lines = written[0].decode().splitlines()
    assert lines[0] == "Retailer ID,Retailer,Mechanic,Net sales last year" and len(lines) == 1 + 250
    assert not lines[1].split(",")[1].startswith("=")  # a formula in a cell is neutralised


def test_a_signed_in_kam_opens_on_their_biggest_own_account_listed_first(signed_in):
    from kam_dash import auth

    # a KAM whose one account, R005 Sun Market, is not the portfolio's biggest (R001 Fresh Market is)
    auth.save_user(signed_in.store, dict(email="sun@example.com", name="Sun Kam", role="kam", retailers="R005"),
                   "test")
    at = signed_in("sun@example.com", "account_review")
    assert at.subheader[0].value == "Sun Market"
    assert at.selectbox(key="account").options[0] == "Sun Market"
    at = signed_in("admin@example.com", "account_review")
    assert at.subheader[0].value == "Fresh Market"  # anyone else: the biggest account in view
