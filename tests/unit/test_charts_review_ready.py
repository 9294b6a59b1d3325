"""Charts that do not mislead (issue 13): checked on the figure JSON of hand-built frames, expected values
worked out here."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from kam_dash.charts import account as account_charts
from kam_dash.charts import aligned_axes, nice_step
from kam_dash.charts import inventory as inventory_charts
from kam_dash.charts import plan as plan_charts
from kam_dash.charts import promotions as promo_charts
from kam_dash.charts import seasonality as season_charts
from kam_dash.metrics import account

MECHANIC_CODES = ("bogo", "tpr", "multibuy")


# -- the account's monthly net sales vs target -------------------------------------------------------------------
def landing_weeks() -> pd.DataFrame:
    """One retailer, October and November 2026, sell-in loaded through 16 Nov.

    October 2026 has the Mondays 5, 12, 19, 26 (4 weeks), November 2, 9, 16, 23, 30 (5 weeks). Each week's
    target is 10 and each loaded week sold 9.
    """
    weeks = pd.date_range("2026-10-05", "2026-11-30", freq="7D")
    done = weeks <= pd.Timestamp("2026-11-16")
    return pd.DataFrame({
        "retailer_id": "R1", "week": weeks,
        "actual": np.where(done, 9.0, np.nan), "ly_actual": 8.0,
        "projected": np.where(done, np.nan, 11.0),
        "basis": np.where(done, "actual", "last_year"), "target": 10.0,
    })


def test_monthly_plan_marks_the_running_month_partial_with_the_target_of_its_loaded_weeks():
    m = account.monthly_plan(landing_weeks()).set_index("month")
    oct_, nov = pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-01")
    # October: all 4 weeks loaded -> complete, its loaded target is the month's 4 x 10 = 40
    assert m.loc[oct_, ["weeks_loaded", "weeks_in_month", "target", "target_loaded"]].tolist() == [4, 4, 40, 40]
    assert not m.loc[oct_, "partial"]
    # November: 3 of its 5 weeks loaded (2, 9, 16 Nov) -> partial; actual 3 x 9 = 27 against 3 x 10 = 30 (not 50)
    assert m.loc[nov, ["weeks_loaded", "weeks_in_month", "actual", "target", "target_loaded"]].tolist() == \
        [3, 5, 27, 50, 30]
    assert m.loc[nov, "partial"]
    assert m.loc[nov, ["last_year", "last_year_loaded"]].tolist() == [40, 24]  # 5 x 8 for the month, 3 x 8 loaded
    # landing: 27 done + 2 x 11 projected = 49
    assert m.loc[nov, "landing"] == 49


def test_monthly_plan_counts_a_week_once_over_several_retailers():
    two = pd.concat([landing_weeks(), landing_weeks().assign(retailer_id="R2")])
    m = account.monthly_plan(two).set_index("month")
    nov = pd.Timestamp("2026-11-01")
    assert m.loc[nov, ["weeks_loaded", "weeks_in_month", "target_loaded"]].tolist() == [3, 5, 60]  # 2 x 30


def traces(fig) -> dict:
    return {t["name"]: t for t in json.loads(fig.to_json())["data"]}


def test_each_target_sits_over_its_own_bar_and_the_running_month_is_flagged():
    monthly = account.monthly_plan(landing_weeks())
    fig = account_charts.monthly_vs_target(monthly, 2026)
    t = traces(fig)
    bars, target = t["Net sales 2026"], t["Target"]
    # a marker per month at the bar's own x, not a step line across month middles (no drop in the last month)
    assert target["mode"] == "markers" and "shape" not in target.get("line", {})
    assert target["x"][:len(bars["x"])] == bars["x"]
    assert [x[:10] for x in bars["x"]] == ["2026-10-01", "2026-11-01"]
    # November's target is its 3 loaded weeks' (30), October's the whole month's (40)
    assert list(fig.data[2].y) == [40, 30] and fig.data[2].name == "Target"
    # the running month: hatched and lighter, and said in words
    assert bars["marker"]["pattern"]["shape"] == ["", "/"]
    assert bars["marker"]["opacity"][1] < bars["marker"]["opacity"][0] == 1
    assert "partial: 3 of 5 weeks" in bars["customdata"][1]
    assert list(t["Last year"]["customdata"]) == ["", "<br>(its 3 loaded weeks: 24)"]
    notes = [a["text"] for a in json.loads(fig.to_json())["layout"]["annotations"]]
    assert notes == ["partial: 3 of 5 weeks"]


def test_a_year_with_no_running_month_has_no_partial_mark():
    weeks = landing_weeks()
    weeks = weeks[weeks["week"] < pd.Timestamp("2026-11-01")]  # October only, complete
    fig = account_charts.monthly_vs_target(account.monthly_plan(weeks), 2026)
    assert traces(fig)["Net sales 2026"]["marker"]["pattern"]["shape"] == [""]
    assert not fig.layout.annotations


# -- plan waterfall ---------------------------------------------------------------------------------------------
def test_the_plan_waterfall_starts_at_zero():
    steps = pd.DataFrame({"step": ["Last year", "Alpha", "Beta", "Landing"], "value": [1000.0, 60.0, -20.0, 1040.0],
                          "measure": ["absolute", "relative", "relative", "total"]})
    fig = plan_charts.landing_waterfall(steps, 2026)
    # the walk's levels are 1000, 1060, 1040, 1040: from 0 to 1060 with 12% room for the labels
    assert list(fig.layout.yaxis.range) == [0, pytest.approx(1060 * 1.12)]
    assert list(fig.data[0].text) == ["$1.00K", "+$60", "-$20", "$1.04K"]


# -- aligned secondary axes -------------------------------------------------------------------------------------
def ticks(axis: dict) -> list[float]:
    lo, hi = axis["range"]
    n = round((hi - lo) / axis["dtick"])
    return [round(lo + i * axis["dtick"], 10) for i in range(n + 1)]


def test_nice_step_rounds_up_to_1_2_or_5_times_a_power_of_ten():
    assert [nice_step(v) for v in (0.21, 0.17, 3, 7, 12, 86)] == [0.5, 0.2, 5, 10, 20, 100]


def test_aligned_axes_give_round_ticks_of_the_same_count():
    # Data 0..86M on the left, 0..86% on the right (+2% headroom: 87.72M and 87.72%). With 5 intervals a
    # step of 17.5M rounds up to 20M (0..100M) and 17.5% to 20% (0..100%), both filled 88%; 4 intervals need
    # 50M steps (fill 44%), 6 or 7 intervals overshoot to 120M/140M. So: 0, 20, ..., 100 on both.
    main, second = aligned_axes([0, 43e6, 86e6], [0.21, 0.43, 0.86])
    assert ticks(main) == [0, 20e6, 40e6, 60e6, 80e6, 100e6]
    assert ticks(second) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert main["tickmode"] == second["tickmode"] == "linear"


def test_aligned_axes_put_zero_at_the_same_height():
    # Left -10..30, right 0..6, no headroom. 4 intervals, 1 below zero: left step max(10/1, 30/3) = 10, right
    # max(0, 6/3) = 2, fills 100% and 75%. Every other layout fills less on one axis (e.g. 5 intervals: left
    # -10..40 at 80%, right -2..8 at 60%). Zero is the second of five ticks on both.
    main, second = aligned_axes([-10, 30], [0, 6], headroom=0.0)
    assert ticks(main) == [-10, 0, 10, 20, 30]
    assert ticks(second) == [-2, 0, 2, 4, 6]


def test_a_share_axis_is_not_stretched_past_100_percent():
    # Left 0..6.6 weeks, right 0..100%: 7 intervals would fill the left axis best (0..7) but take the
    # right to 140%; capped at 100% the best is 5 intervals, 0..10 weeks by 2 and 0..100% by 20%.
    main, second = aligned_axes([1.5, 6.6], [0.9, 1.0], headroom=0.0, second_top=1.0)
    assert ticks(main) == [0, 2, 4, 6, 8, 10]
    assert ticks(second) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_the_cover_trend_right_axis_is_aligned_and_covers_its_values():
    trend = pd.DataFrame({"week": pd.date_range("2026-01-05", periods=4, freq="7D"),
                          "weeks_of_cover": [1.5, 1.7, 1.9, 1.6], "in_stock_share": [0.95, 1.0, 0.9, 1.0]})
    layout = json.loads(inventory_charts.cover_trend(trend, (2.0, 6.0), "Alpha", 4).to_json())["layout"]
    # the band's top with 10% room is 6.6 weeks: as above, 0..10 by 2 and 0..100% by 20%
    assert ticks(layout["yaxis"]) == [0, 2, 4, 6, 8, 10]
    assert ticks(layout["yaxis2"]) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert layout["yaxis2"]["range"][0] <= 0.9 and layout["yaxis2"]["range"][1] >= 1.0


def test_every_dual_axis_chart_has_round_aligned_ticks():
    weeks = pd.date_range("2026-01-05", periods=3, freq="7D")
    pipe = pd.DataFrame({"week": weeks, "sell_in_units": [120.0, 80, 95], "sell_out_units": [90.0, 85, 100],
                         "cum_pipeline_units": [30.0, 25, 20]})
    channels = pd.DataFrame({"week": weeks, "store": [700.0, 650, 720], "online": [70.0, 90, 80],
                             "online_share": [0.0909, 0.1216, 0.1]})
    for fig in (account_charts.pipeline(pipe), account_charts.store_vs_online(channels)):
        layout = json.loads(fig.to_json())["layout"]
        left, right = ticks(layout["yaxis"]), ticks(layout["yaxis2"])
        assert len(left) == len(right)
        assert left.index(0) == right.index(0)  # zero at the same height
        for axis in (layout["yaxis"], layout["yaxis2"]):
            mantissa = axis["dtick"] / 10 ** math.floor(math.log10(axis["dtick"]))
            assert round(mantissa, 9) in (1, 2, 5), axis


# -- inventory ----------------------------------------------------------------------------------------------------
def test_the_reconciliation_shows_levels_and_the_unexplained_part_on_their_own_scales():
    row = pd.Series({"opening_units": 600.0, "sell_in_units": 20_000.0, "sell_out_units": 19_700.0,
                     "unexplained_units": 50.0, "closing_units": 850.0})
    fig = json.loads(inventory_charts.reconciliation_waterfall(row, "Alpha: stock").to_json())
    levels, change = fig["data"]
    assert levels["x"] == ["Opening stock", "Closing stock"] and levels["y"] == [600, 850]
    # sell-in minus sell-out = +300, less 50 unexplained = +250 = 850 - 600, on the second panel's own axis
    assert change["yaxis"] == "y2" and change["y"] == [300, -50, 250]
    assert change["x"][1] == "- Unexplained" and "20,000" in change["x"][0] and "19,700" in change["x"][0]
    low, high = fig["layout"]["yaxis2"]["range"]
    assert low <= 0 and 300 < high < 1000  # on the scale of the change, not of 20,000 units of sell-in


def test_the_forward_buy_limit_is_labelled_in_words():
    fill = pd.DataFrame({"retailer_id": ["R1"], "retailer_name": ["Alpha"], "fill_weeks": [2.5],
                         "warning": [True]})
    fig = inventory_charts.pipeline_fill(fill, 2.0, 8)
    assert [a.text for a in fig.layout.annotations] == ["limit: 2 weeks of sell-out"]


# -- promotions ---------------------------------------------------------------------------------------------------
def promo_events(n_retailers: int = 4, n_products: int = 10) -> pd.DataFrame:
    """One event per retailer x product (40 rows): trade spend 1, 2, ... in order, mechanics in turn."""
    rows = []
    for r in range(n_retailers):
        for p in range(n_products):
            i = r * n_products + p
            rows.append({"promo_id": f"P{i:02d}", "retailer_name": f"Retailer {r}", "sku_id": f"S{p}",
                         "sku_name": f"Product {p}", "brand": "B", "mechanic": MECHANIC_CODES[i % 3],
                         "start_date": pd.Timestamp("2026-03-02") + pd.Timedelta(weeks=i % 20),
                         "end_date": pd.Timestamp("2026-03-15") + pd.Timedelta(weeks=i % 20),
                         "trade_spend": float(i + 1), "net_incremental_units": 10.0, "discount_pct": 20.0,
                         "lift_pct": 0.1 * (i % 5), "retailer_id": f"R{r}"})
    return pd.DataFrame(rows)


def test_the_calendar_shows_at_most_25_rows_each_labelled():
    events = promo_events()
    fig = json.loads(promo_charts.calendar(events).to_json())
    yaxis = fig["layout"]["yaxis"]
    rows = yaxis["categoryarray"]
    # the 25 with the most trade spend: events 15..39, i.e. Retailer 1's products 5..9 and all of Retailers 2, 3
    assert len(rows) == 25
    assert set(rows) == {f"Retailer {i // 10} · Product {i % 10}" for i in range(15, 40)}
    assert yaxis["tickvals"] == rows and yaxis["ticktext"] == rows  # every row has its label
    # grouped by retailer, the retailer with the most spend on top (plotly draws the array bottom up)
    assert rows[-1] == "Retailer 3 · Product 9" and rows[0] == "Retailer 1 · Product 5"
    assert {y for t in fig["data"] for y in t["y"]} == set(rows)  # no bar outside the labelled rows
    assert promo_charts.calendar_note(events).startswith("25 of 40 retailer x product rows shown")
    assert fig["layout"]["title"]["subtitle"]["text"] == "25 of 40 rows shown (most trade spend)"
    by_product = json.loads(promo_charts.calendar(events, "product").to_json())["layout"]["yaxis"]["categoryarray"]
    assert by_product[-1].startswith("Product ") and " · Retailer " in by_product[-1]
    assert promo_charts.calendar_note(promo_events(2, 5)) == ""  # 10 rows: all shown, nothing to say


def figure_text(fig) -> str:
    """Every name, hover template, tick and category label a reader sees."""
    spec = json.loads(fig.to_json())
    parts = []
    for t in spec["data"]:
        parts += [str(t.get("name", "")), str(t.get("hovertemplate", ""))]
        for axis in ("x", "y"):
            values = t.get(axis)
            if isinstance(values, list) and values and isinstance(values[0], str):
                parts += values
    for key, axis in spec["layout"].items():
        if key.startswith(("xaxis", "yaxis")):
            parts += [str(v) for v in axis.get("ticktext", [])] + [json.dumps(axis.get("title", ""))]
    return " | ".join(parts)


def test_no_raw_mechanic_code_in_any_promotion_chart():
    events = promo_events()
    curves = pd.DataFrame({"mechanic": ["tpr", "tpr"], "discount_pct": [10.0, 30.0], "lift_pct": [0.1, 0.3]})
    summary = pd.DataFrame({"group": list(MECHANIC_CODES), "roi": [0.2, -0.1, 0.05],
                            "events_with_roi": [3, 2, 1], "paid_back_share": [0.6, 0.2, 1.0],
                            "trade_spend": [100.0, 50.0, 20.0]})
    figs = [promo_charts.calendar(events), promo_charts.lift_vs_discount(events, curves),
            promo_charts.roi_bars(summary, "ROI by mechanic", groups="mechanic")]
    for fig in figs:
        text = figure_text(fig)
        for code in MECHANIC_CODES:
            assert not re.search(rf"\b{code}\b", text), (code, text[:300])
    assert {t.name for t in figs[0].data} == {"Buy one get one", "Price cut", "Multi-buy"}
    assert list(figs[2].data[0].x) == ["Buy one get one", "Price cut", "Multi-buy"]


# -- seasonality ----------------------------------------------------------------------------------------------------
def test_the_week_heatmap_is_ticked_by_month_and_its_colours_explained():
    index = pd.DataFrame({"series": "Snacks", "period": range(1, 53), "index": np.linspace(80, 120, 52)})
    layout = json.loads(season_charts.index_heatmap(index, "week").to_json())
    assert layout["layout"]["xaxis"]["ticktext"] == list(season_charts.MONTHS)
    assert layout["data"][0]["x"] == list(range(1, 53))
    heat = layout["data"][0]
    assert "100 = an" in heat["colorbar"]["title"]["text"]
    # from 0 (no negative index on the colour bar) to 200, the highest 120 being below it: white at 100 / 200
    assert (heat["zmin"], heat["zmax"]) == (0, 200) and heat["colorscale"][1] == [0.5, "#f7f7f7"]


def test_year_over_year_starts_at_zero_in_distinct_colours():
    yoy = pd.DataFrame([(year, week, 100.0 + week) for year in (2023, 2024, 2025, 2026) for week in range(1, 53)],
                       columns=["year", "week_of_year", "units"])
    fig = season_charts.yoy_lines(yoy, "Snacks")
    assert fig.layout.yaxis.rangemode == "tozero"
    colors = [t.line.color for t in fig.data]
    assert len(set(colors)) == 4
    assert fig.data[-1].name == "2026" and fig.data[-1].line.width > max(t.line.width for t in fig.data[:-1])


def test_plan_phasing_colours_are_named_in_the_legend():
    phasing = pd.DataFrame({"period": [1, 2, 3], "seasonal_index": [90.0, 100.0, 110.0],
                            "plan_index": [95.0, 100.0, 105.0]})
    fig = season_charts.plan_vs_season(phasing, "Snacks", 2026, "units target")
    bars = {t.name: list(t.x) for t in fig.data if t.type == "bar"}
    # January asks 5 points more than its season, February and March ask no more (0 and -5)
    assert bars == {"Plan asks more than the season": ["Jan"], "Plan asks less than the season": ["Feb", "Mar"]}
