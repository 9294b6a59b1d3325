"""Headings and codes in words (kam_dash.labels): what tables and sheets show people."""

from __future__ import annotations

import pandas as pd

from kam_dash import labels


def test_listed_heading_wins():
    assert labels.heading("net_sales_ly") == "Net sales last year"
    assert labels.heading("sku_name") == "Product"


def test_unlisted_heading_is_made_of_words():
    assert labels.heading("promo_roi") == "Promo ROI"
    assert labels.heading("oos_weeks_unreported") == "Out of stock weeks unreported"
    assert "_" not in labels.heading("some_new_metric_ly")


def test_in_words_spells_out_codes_and_headings_and_leaves_the_input_alone():
    frame = pd.DataFrame({"retailer_id": ["R001"], "mechanic": ["bogo"], "channel": ["ecommerce"], "lift": [1.5]})
    shown = labels.in_words(frame, overrides={"lift": "Lift (x)"})
    assert list(shown.columns) == ["Retailer ID", "Mechanic", "Channel", "Lift (x)"]
    assert shown.iloc[0].tolist() == ["R001", "Buy one get one", "E-commerce", 1.5]
    assert frame.loc[0, "mechanic"] == "bogo"


def test_unknown_codes_are_shown_as_given():
    assert labels.mechanic("coupon") == "coupon"
    assert labels.mechanic(None) == ""
    assert labels.mechanics(pd.Series(["tpr", None, "x"])).tolist()[0::2] == ["Price cut", "x"]


def test_spell_codes_reads_machine_names_and_headings_alike():
    frame = pd.DataFrame({"Mechanic": ["bogo", "coupon"], "status": ["in_progress", "blocked"],
                          "Health": ["unknown", "red"], "function": ["supply_chain", "sales"], "units": [1, 2]})
    out = labels.spell_codes(frame)
    assert out["Mechanic"].tolist() == ["Buy one get one", "coupon"]  # an unknown code is shown as given
    assert out["status"].tolist() == ["In progress", "Blocked"]
    assert out["Health"].tolist() == ["Not rated", "Red"]
    assert out["function"].tolist() == ["Supply chain", "Sales"]
    assert out["units"].tolist() == [1, 2] and frame["Mechanic"].iloc[0] == "bogo"  # numbers and input untouched
