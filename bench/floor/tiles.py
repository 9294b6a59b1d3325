"""The stack's floor, without charts: a page of Streamlit only (title, four tiles, a table of 20 rows) and no data
work. bench/browser.py times it like the app's pages, so their figures read against what Streamlit itself costs."""

import pandas as pd
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
st.title("Floor: tiles and a table")  # bench/floor/charts.py draws its charts below
for column, (label, value) in zip(st.columns(4), [("Revenue", "$1.2M"), ("vs plan", "+3.1%"),
                                                   ("vs last year", "-0.4%"), ("Promotions", "41")]):
    column.metric(label, value)
st.dataframe(pd.DataFrame({"retailer": [f"Retailer {i}" for i in range(20)], "revenue": range(20)}))
