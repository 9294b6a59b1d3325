"""The review pack's narratives: numbers in, one sentence out (hand-picked numbers, expected words by hand)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from kam_dash.report import narrative


def test_key_figures_reads_like_the_issue_example():
    # 1,234,000 net sales; growth 0.042 -> "+4.2%"; attainment 0.97 -> "97.0%"; landing 1.2M below the target
    text = narrative.key_figures(1_234_000, 0.042, 0.97, -1_200_000)
    assert text == "Net sales $1.23M, +4.2% vs last year, 97.0% of plan; landing $1.20M short of the annual target."


def test_key_figures_ahead_of_target_and_declining():
    text = narrative.key_figures(980.0, -0.125, 1.031, 45_600)
    assert text == "Net sales $980, -12.5% vs last year, 103.1% of plan; landing $45.60K ahead of the annual target."


def test_key_figures_names_what_is_missing():
    assert narrative.key_figures(400.0, None, None, None) == \
        "Net sales $400, no last year to compare, no target for the period."
    assert narrative.key_figures(None, None, None, None) == "No net sales in the period."
    # NaN counts as missing, never printed
    text = narrative.key_figures(400.0, math.nan, float("nan"), math.nan)
    assert "nan" not in text.lower() and "none" not in text.lower()


def test_standing_keeps_acronyms():
    text = narrative.standing("Strategic", 0.8234, "amber", "YTD net sales at 97.0% of plan (below 100%).")
    assert text == ("Strategic account (key-account score 0.82); health amber: YTD net sales at 97.0% of plan "
                    "(below 100%).")
    assert narrative.standing("Key", None, "red", "Below plan.") == "Key account; health red: below plan."
    assert narrative.standing(None, None, None, None) == ""


def test_plan_landing_against_target():
    # landing 12.3M vs target 13.5M: 1.2M short; run rate 350,000 a week
    text = narrative.plan(2026, 12_300_000, 13_500_000, 350_000)
    assert text == ("Landing estimate for 2026: $12.30M against a $13.50M annual target ($1.20M short); "
                    "$350.0K a week needed from here to reach it.")
    assert narrative.plan(2026, 14_000_000, 13_500_000, -20_000) == \
        "Landing estimate for 2026: $14.00M against a $13.50M annual target ($500.0K ahead)."
    assert narrative.plan(2026, 270.0, None, None) == "Landing estimate for 2026: $270 (no annual target loaded)."
    assert narrative.plan(2026, None, None, None) == "No landing estimate for 2026: no net sales or targets."


def test_pipeline_fill_words():
    assert narrative.pipeline(27, 20, 7) == \
        "Sell-in 27 units vs sell-out 20 units over the period: retailer stock built up by 7 units (pipeline fill)."
    assert narrative.pipeline(10_000, 12_500, -2_500) == \
        "Sell-in 10,000 units vs sell-out 12,500 units over the period: retailer stock ran down by 2,500 units."
    assert narrative.pipeline(40, None, None) == \
        "Sell-in 40 units over the period; no sell-out reported, so no pipeline fill."
    assert narrative.pipeline(None, 12, None) == "Sell-out 12 units over the period; no sell-in."
    assert narrative.pipeline(None, None, None) == "No sell-in or sell-out in the period."


def test_channels_share():
    # online 30 of 170 + 30 = 200 -> 15.0%
    assert narrative.channels(170.0, 30.0) == "Online 15.0% of sell-out value ($30 of $200)."
    assert narrative.channels(0.0, 0.0) == "No sell-out value in the period."


def test_white_space_names_the_largest_gap():
    frame = pd.DataFrame({
        "category": ["Drinks", "Snacks", "Bakery"],
        "retailer_share": [0.10, 0.70, 0.20],
        "portfolio_share": [0.40, 0.40, 0.20],
        "opportunity": [3_000.0, 0.0, 0.0],  # (0.40 - 0.10) x 10,000
    })
    assert narrative.white_space(frame) == \
        "Largest white space: Drinks, $3.00K (portfolio share 40.0% vs 10.0% here)."
    two = frame.assign(opportunity=[3_000.0, 0.0, 500.0])
    assert narrative.white_space(two) == ("Largest white space: Drinks, $3.00K (portfolio share 40.0% vs 10.0% "
                                          "here); $3.50K across 2 categories in all.")
    assert narrative.white_space(frame.assign(opportunity=0.0)) == \
        "The category mix matches the portfolio's: no white space."
    assert narrative.white_space(frame.assign(retailer_share=float("nan"))).startswith("No positive net sales")


def test_promotions_and_roi():
    assert narrative.promotions(18, 16, 0.2859, 42_736.4) == \
        "18 promotions in the period, 16 with a measured lift: median lift +28.6%, 42,736 incremental units."
    assert narrative.promotions(1, 0, None, None) == \
        "1 promotion in the period, none with enough clean weeks to measure a lift."
    assert narrative.promotions(0, 0, None, None) == "No promotions in the period."
    # ROI -0.152 on 43,608 of spend; 3 of 17 paid back = 17.6%; best mechanic display +0.2
    assert narrative.roi(-0.152, 43_608.0, 3 / 17, 17, ("display", 0.2)) == \
        "ROI -15.2% on $43.61K of trade spend; 17.6% of 17 events paid back; best mechanic: display (+20.0%)."
    assert narrative.roi(None, None, None, 0).startswith("No ROI")


def test_availability_and_cover():
    assert narrative.availability(0.962, 14, 1_234.0, 12_345.0) == \
        "In stock 96.2% of SKU-weeks; 14 out-of-stock weeks lost an estimated 1,234 units ($12.35K)."
    assert narrative.availability(1.0, 0, 0.0, 0.0) == \
        "In stock 100.0% of SKU-weeks; no out-of-stock weeks in the period."
    # 4,800 on hand / 1,000 a week = 4.8 weeks
    text = narrative.cover(4_800.0, 1_000.0, (2.0, 6.0), {"ok": 130, "low": 5, "oos": 1}, dt.date(2026, 11, 16))
    assert text == ("Stock covers 4.8 weeks of sell-out at the week of 16 Nov 2026 (agreed band 2-6 weeks): "
                    "130 lines in band, 5 lines below band, 1 line out of stock.")
    assert narrative.cover(10.0, 0.0, (1.5, 5.0), {"no_sales": 2}).startswith("No weeks of cover: no sell-out")


def test_status_mix_shares_of_line_weeks():
    # 100 line-weeks: 90 ok, 6 low, 4 oos -> 6.0% below band, 4.0% out of stock
    assert narrative.status_mix({"ok": 90, "low": 6, "oos": 4}, 5, 20) == \
        "Line-weeks over 5 lines and 20 weeks: below band 6.0%, out of stock 4.0%."
    assert narrative.status_mix({"ok": 10}, 1, 10) == "Every line-week over 1 lines and 10 weeks was in band."
    assert narrative.status_mix({}, 0, 0) == "No stock counts in the weeks shown."


def test_reconciliation_words():
    # 1,000 in - 900 out = 100, stock up 80: 20 unexplained (missing)
    assert narrative.reconciliation(1_000, 900, 80, 20) == (
        "Sell-in 1,000 units minus sell-out 900 units against a stock change of 80 units: 20 units unexplained "
        "(missing: shrink, waste or a data error).")
    assert narrative.reconciliation(1_000, 900, 100, 0.0).endswith("nothing unexplained.")
    assert narrative.reconciliation(1, 1, None, None).startswith("No stock reconciliation")


@pytest.mark.parametrize("gap,words", [(-5.0, "$5 short of the annual target"), (0.0, "on the annual target"),
                                       (2_500_000, "$2.50M ahead of the annual target"),
                                       (None, "no annual target to compare")])
def test_gap_words(gap, words):
    assert narrative.gap_words(gap) == words


def test_products_gain_and_loss_in_words():
    assert narrative.products("sell-out value", ("Crisps", 20.0, 0.1), ("Cola", -1500.0, -0.25)) == (
        "Sell-out value vs last year: largest gain Crisps, +$20 (+10.0%); largest loss Cola, -$1.50K (-25.0%).")
    # a product new this year has no growth to show; no loss is said in words
    assert narrative.products("net sales", ("Tea", 400.0, float("nan")), None) == (
        "Net sales vs last year: largest gain Tea, +$400 (no sales last year); no product below last year.")


def test_range_gaps_in_words():
    assert narrative.range_gaps(2, "Thin Mart", "Crisps", 3, 4, 325.9) == (
        "2 products that comparable accounts sell are not listed at Thin Mart; the first, Crisps, sells in 3 of 4 "
        "comparable accounts and would add an estimated $326 at their rate.")
    assert narrative.range_gaps(0, "Thin Mart", comparable=1) == (
        "Thin Mart lists every product its 1 comparable account sold in the period: no range gap.")
    assert narrative.range_gaps(0, "Thin Mart") == (
        "No other account with sales in the period to compare the range of Thin Mart with.")
