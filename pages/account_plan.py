"""Account plan: one retailer's objectives (with live progress), initiatives, contacts and meeting log."""

import datetime as dt

import pandas as pd
import streamlit as st

from kam_dash import fmt, scope, ui
from kam_dash.metrics import objectives as objective_metrics
from kam_dash.metrics import plan
from kam_dash.state import plans

INITIATIVE_COLUMNS = {"title": "Initiative", "function": "Function", "status": "Status", "owner": "Owner",
                      "due_date": "Due", "objective_title": "Objective", "promo_id": "Promotion"}
CONTACT_COLUMNS = {"name": "Name", "role": "Role", "influence": "Influence", "relationship_owner": "Our owner",
                   "last_contact": "Last contact", "days_since": "Days since"}
MEASURE_LABELS = {m: f"{info.label} ({m})" for m, info in objective_metrics.MEASURE_INFO.items()}

engine = ui.engine()
filters = ui.current_filters()
if ui.page_header("Account plan", engine, filters,
                  caption="The plan and the relationship, tied to the live numbers; every change is kept."):
    store = ui.state()
    rid, names = ui.account_picker(engine, filters)
    if rid is None:
        st.stop()
    latest = scope.latest_week(engine)
    stored_years = set(plans.records(store, "objectives", rid)["year"].astype(int))
    years = sorted({latest.year - 1, latest.year, latest.year + 1, *stored_years})
    year = st.selectbox("Plan year", years, index=years.index(plan.plan_year(filters, latest)), key="plan_year")
    editable = ui.may_edit(rid, names)
    actor = ui.current_actor() if editable else None
    if actor:
        st.caption(f"Editing as **{actor}**")
    ui.show_flash()
    refs = plans.refs_from_engine(engine)
    today = dt.date.today()
    objectives = plans.records(store, "objectives", rid, year)
    titles = dict(zip(objectives["objective_id"], objectives["title"]))
    tab_objectives, tab_initiatives, tab_contacts, tab_meetings = st.tabs(
        ["Objectives", "Initiatives", "Contacts", "Meeting log"])

    with tab_objectives:
        ui.objectives_progress(engine, store, rid, year)
        ui.record_editor(store, "objectives", objectives, refs, "objective", fixed={"retailer_id": rid},
                         choices={"measure": MEASURE_LABELS}, describe=lambda r: r["title"],
                         defaults={"year": year, "due_date": f"{year}-12-31", "owner": actor}, editable=editable)

    with tab_initiatives:
        initiatives = plans.records(store, "initiatives", rid, year)
        left, right = st.columns(2)
        functions = left.multiselect("Function", plans.FUNCTIONS, key="ini_function", placeholder="All functions")
        statuses = right.multiselect("Status", plans.STATUSES, key="ini_status", placeholder="All statuses")
        shown = initiatives[(initiatives["function"].isin(functions or plans.FUNCTIONS))
                            & (initiatives["status"].isin(statuses or plans.STATUSES))]
        overdue = shown["status"].isin(plans.OPEN_STATUSES) & (shown["due_date"] < today.isoformat())
        if len(shown):
            st.caption(f"{len(shown)} initiative{'s' if len(shown) != 1 else ''}, by function; "
                       f"{int(overdue.sum())} overdue, {int((shown['status'] == 'blocked').sum())} blocked.")
            table = shown.assign(title=shown["title"].where(~overdue, shown["title"] + "  (overdue)"))
            ui.table(table.sort_values(["function", "due_date"])[list(INITIATIVE_COLUMNS)]
                     .rename(columns=INITIATIVE_COLUMNS), {}, key="initiatives_table")
        else:
            st.caption("No initiatives match." if len(initiatives) else f"No initiatives for {year} yet.")
        if titles:
            ui.record_editor(store, "initiatives", initiatives, refs, "initiative",
                             choices={"objective_id": titles}, describe=lambda r: r["title"],
                             defaults={"status": "planned", "owner": actor,
                                       "due_date": (today + dt.timedelta(weeks=4)).isoformat()}, editable=editable)
        elif editable:
            st.info(f"Add an objective for {year} first: every initiative serves one.")

    with tab_contacts:
        contacts = plans.records(store, "contacts", rid)
        if len(contacts):
            days = (pd.Timestamp(today) - pd.to_datetime(contacts["last_contact"])).dt.days
            ui.table(contacts.assign(days_since=days)[list(CONTACT_COLUMNS)].rename(columns=CONTACT_COLUMNS),
                     {"Days since": fmt.number}, key="contacts_table")
            ui.stale_contacts_warning(store, rid)
        else:
            st.caption("No contacts recorded yet.")
        ui.record_editor(store, "contacts", contacts, refs, "contact", fixed={"retailer_id": rid},
                         describe=lambda r: f"{r['name']} ({r['role']})",
                         defaults={"relationship_owner": actor, "last_contact": today.isoformat()}, editable=editable)

    with tab_meetings:
        meetings = plans.records(store, "meetings", rid)
        for m in meetings.head(10).to_dict("records"):
            with st.expander(f"{m['date']} · {m['attendees']}"):
                for label, col in (("Notes", "notes"), ("Decisions", "decisions"), ("Next steps", "next_steps")):
                    if m[col]:
                        st.markdown(f"**{label}**\n\n{m[col]}")
        if len(meetings) > 10:
            st.caption(f"and {len(meetings) - 10} earlier meetings: pick one below to read or edit it.")
        if meetings.empty:
            st.caption("No meetings logged yet.")
        ui.record_editor(store, "meetings", meetings, refs, "meeting", fixed={"retailer_id": rid},
                         describe=lambda r: f"{r['date']} · {r['attendees']}",
                         defaults={"date": today.isoformat(), "attendees": actor}, editable=editable)
        ui.next_step_to_initiative(store, meetings, titles, refs, "next_step", editable=editable)
    ui.definitions(objective_metrics.DEFINITIONS)
