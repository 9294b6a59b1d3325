"""kam-dash: the router and the shared sidebar. Pages live in pages/."""

from pathlib import Path

import streamlit as st

from kam_dash import ui

HERE = Path(__file__).parent
# Pages that draw plotly charts: the browser starts on the chart code before their queries run.
CHART_PAGES = {"portfolio.py", "account_review.py", "plan.py", "promotions.py", "inventory.py", "stores.py",
               "seasonality.py"}
# Every page of the app, in menu order. A page appears once its file exists.
PAGES = {
    "Leadership": [
        ("portfolio.py", "Portfolio", ":material/pie_chart:"),
    ],
    "Key accounts": [
        ("account_review.py", "Account review", ":material/storefront:"),
        ("account_plan.py", "Account plan", ":material/handshake:"),
        ("plan.py", "Plan tracking", ":material/flag:"),
        ("promotions.py", "Promotions", ":material/sell:"),
        ("inventory.py", "Inventory", ":material/inventory_2:"),
        ("stores.py", "Distribution & stores", ":material/store:"),
    ],
    "Categories": [
        ("seasonality.py", "Seasonality", ":material/calendar_month:"),
    ],
    "Admin": [
        ("data.py", "Data", ":material/upload_file:"),
        ("users.py", "Users", ":material/manage_accounts:"),
    ],
}

st.set_page_config(page_title="kam-dash", page_icon=":material/insights:", layout="wide")
ui.phone_layout()
navigation = st.navigation({
    section: [st.Page(str(HERE / "pages" / file), title=title, icon=icon, url_path=file.removesuffix(".py"))
              for file, title, icon in pages if (HERE / "pages" / file).exists()]
    for section, pages in PAGES.items()
}, position=ui.menu_position())
if navigation.title in {title for pages in PAGES.values() for file, title, _ in pages if file in CHART_PAGES}:
    ui.start_chart_code()
ui.sidebar_filters(ui.engine())  # with sign-in, the sign-in screen stops the run here: no page before it
navigation.run()
