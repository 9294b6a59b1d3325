"""Users: who may sign in, their role and their retailers (admins only once sign-in is on)."""

import streamlit as st

from kam_dash import auth, fmt, scope, ui
from kam_dash.state.store import StateError

NEW = "__new__"


def save(store, actor: str, delete: bool) -> None:
    s = st.session_state
    try:
        if delete:
            auth.delete_user(store, s["user_pick"], actor)
            ui.flash(f"Deleted user {s['user_pick']}.")
            s["user_pick"] = NEW
        else:
            saved = auth.save_user(store, dict(email=s["user_email"] if s["user_pick"] == NEW else s["user_pick"],
                                               name=s["user_name"], role=s["user_role"],
                                               retailers=s["user_retailers"], restrict_reads=s["user_restrict"]),
                                   actor)
            ui.flash(f"Saved user {saved.email} ({saved.role}).")
            s["user_pick"] = saved.email
    except StateError as exc:
        s["user_error"] = str(exc)


if ui.admin_gate("Users"):
    engine = ui.engine()
    store = ui.state()
    ui.page_header("Users", engine, ui.filters_in_force(), tables=())  # the data's freshness, as on every page
    st.caption("Who may sign in and what they may do: " + "; ".join(f"**{r}** {m}" for r, m in
                                                                     auth.ROLE_MEANING.items())
               + ". A KAM's retailers are those assigned here, else those whose KAM (retailers table) is their "
               "name. *Restrict reads* shows a user only their retailers (for brokers and agencies). Also "
               "`kam-dash users import/export FILE.csv`.")
    ui.show_flash()
    retailers = scope.retailers(engine)
    names = dict(zip(retailers["retailer_id"], retailers["retailer_name"]))
    people = auth.users(store)
    if people.empty:
        st.info("No users yet. While sign-in is off the app is open to everyone; add at least one admin before "
                "turning it on.")
    else:
        def named(ids) -> str:
            return ", ".join(sorted(names.get(i, i) for i in ids))

        own = {u.email: named(auth.own_retailers(auth.get_user(store, u.email), retailers))
               for u in people.itertuples()}
        assigned = people["retailers"].fillna("").map(lambda text: named(r for r in text.split(";") if r))
        ui.table(people.assign(own_retailers=people["email"].map(own), retailers=assigned)
                 [["email", "name", "role", "retailers", "own_retailers", "restrict_reads", "updated_at",
                   "updated_by"]], {}, key="users_table")
    actor = ui.current_actor()
    if actor is None:
        st.stop()
    rows = {u["email"]: u for u in people.to_dict("records")}
    if st.session_state.get("user_pick", NEW) not in (NEW, *rows):
        st.session_state["user_pick"] = NEW
    pick = st.selectbox("Add or edit a user", [NEW, *rows], key="user_pick",
                        format_func=lambda e: "+ New user" if e == NEW else f"{rows[e]['name']} ({e})")
    user = rows.get(pick, {})
    for key, value in (("user_email", pick if user else ""), ("user_name", user.get("name", "")),
                       ("user_role", user.get("role", "kam")),
                       ("user_retailers", [r for r in (user.get("retailers") or "").split(";") if r]),
                       ("user_restrict", bool(user.get("restrict_reads", False)))):
        if st.session_state.get("user_loaded") != pick:
            st.session_state[key] = value
    st.session_state["user_loaded"] = pick
    with st.form("user_form"):
        st.text_input("Email (the one the sign-in provider gives)", key="user_email", disabled=bool(user))
        st.text_input("Name", key="user_name")
        st.selectbox("Role", auth.ROLES, key="user_role", format_func=lambda r: f"{r}: {auth.ROLE_MEANING[r]}")
        st.multiselect("Retailers (empty: by the retailers table's KAM column)", sorted(names, key=names.get),
                       key="user_retailers", format_func=lambda i: names.get(i, i))
        st.checkbox("Restrict reads to these retailers", key="user_restrict")
        left, right = st.columns(2)
        left.form_submit_button("Save", type="primary", icon=":material/save:", key="user_save", on_click=save,
                                args=(store, actor, False))
        if user:
            right.form_submit_button("Delete", icon=":material/delete:", key="user_delete", on_click=save,
                                     args=(store, actor, True))
    error = st.session_state.pop("user_error", None)
    if error:
        st.error(fmt.md_text(error), icon=":material/error:")
