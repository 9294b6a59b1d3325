"""The stack's floor with charts: bench/floor/tiles.py (run as it is) and three small plotly charts below it (a line
of 52 weeks, 24 bars, a 12 x 12 heatmap), the kinds the app's pages draw, and no data work."""

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

runpy.run_path(str(Path(__file__).with_name("tiles.py")))  # the page config, title, tiles and table
weeks = pd.DataFrame({"week": range(1, 53), "revenue": np.sin(np.arange(52) / 8) + 2})
st.plotly_chart(px.line(weeks, x="week", y="revenue", title="A line of 52 weeks"), key="line")
left, right = st.columns(2)
left.plotly_chart(px.bar(x=[f"R{i}" for i in range(24)], y=np.arange(24), title="24 bars"), key="bars")
right.plotly_chart(px.imshow(np.arange(144).reshape(12, 12), title="A 12 x 12 heatmap"), key="heatmap")
