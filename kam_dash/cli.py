"""`kam-dash` commands: demo, import, derive, export, review, export-parquet, plans, users, docs."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from kam_dash.config import DEFAULT_DB

EXIT_OK, EXIT_BAD_INPUT = 0, 1


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _progress_bar(total_label: str):
    from tqdm import tqdm

    bar = tqdm(total=100, desc=total_label, unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def update(stage: str, fraction: float) -> None:
        bar.n = int(fraction * 100)
        bar.set_postfix_str(stage)
        bar.refresh()

    return bar, update


def cmd_demo(args) -> int:
    from kam_dash import demo

    path = Path(args.db)
    if path.exists() and not args.force:
        print(f"{path} exists; pass --force to replace it.", file=sys.stderr)
        return EXIT_BAD_INPUT
    bar, update = _progress_bar(f"Building the {args.scale} demo")
    counts = demo.build(path, scale=args.scale, seed=args.seed, as_of=args.as_of, progress=update)
    update("done", 1.0)
    bar.close()
    for name, n in counts.items():
        print(f"  {name:<22} {n:>12,} rows")
    print(f"Wrote {path}")
    return _demo_plan(path, args.state, args.seed)


def _demo_plan(db: Path, state: str | None, seed: int) -> int:
    """The demo's account plan for its top accounts, in the state database beside the demo."""
    from kam_dash.engine import DuckDBEngine
    from kam_dash.state import demo_plan
    from kam_dash.state.store import StateError, Store, default_state_path

    path = Path(state) if state else default_state_path(db)
    engine = DuckDBEngine(db)
    try:
        counts = demo_plan.write(engine, Store(path), seed)
    except StateError as exc:
        print(f"Cannot write the demo account plan: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        engine.close()
    print(f"Wrote the demo account plan to {path}: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    return EXIT_OK


def cmd_import(args) -> int:
    from kam_dash import ingest

    try:
        columns = {}
        for pair in args.column or ():
            source, sep, target = pair.partition("=")
            if not sep or not source.strip() or not target.strip():
                raise ingest.ImportFailed(f"--column {pair!r} is not FILE_COLUMN=CONTRACT_COLUMN, e.g. Date=week")
            columns[source.strip()] = target.strip()
        layout = ingest.Layout(week_ending=args.week_ending, columns=columns, retailer_id=args.retailer_id,
                               sum_over=tuple(args.sum_over or ()))
        report = ingest.import_files([Path(p) for p in args.paths], Path(args.db), table=args.table,
                                     layout=layout, wait=args.wait)
    except ingest.ImportFailed as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(report.render())
    return EXIT_OK


def cmd_derive(args) -> int:
    from kam_dash import derived, ingest

    db = Path(args.db)
    if not db.is_file():
        print(f"{db} does not exist. Build the demo with `kam-dash demo` or load files with `kam-dash import`.",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        counts = derived.derive(db, force=args.force, wait=args.wait)
    except ingest.ImportFailed as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_BAD_INPUT
    if counts is None:
        print(f"The derived tables of {db} are up to date (same base tables, same code); --force computes them "
              "again.")
        return EXIT_OK
    for name, n in counts.items():
        print(f"  derived.{name:<22} {n:>12,} rows")
    print(f"Derived tables written into {db}")
    return EXIT_OK


def _filters_from_args(args):
    from kam_dash.filters import Filters

    if (args.start is None) != (args.end is None):
        raise SystemExit("give both --start and --end, or neither (year to date)")
    if args.start and args.start > args.end:
        raise SystemExit("--start is after --end")
    period = "custom" if args.start else "ytd"
    return Filters(period=period, start=args.start, end=args.end, retailers=tuple(args.retailer or ()),
                   categories=tuple(args.category or ()), channels=tuple(args.channel or ()),
                   brands=tuple(args.brand or ()))


EXTRA_OPTIONS = ("method", "grain", "year", "window", "week", "state")


def cmd_export(args) -> int:
    from kam_dash import export
    from kam_dash.config import Settings, settings_from_env
    from kam_dash.engine import DataError, open_engine

    exports = export.registry()
    if args.metric not in exports:
        print(f"Unknown metric {args.metric!r}; choose from: {', '.join(exports)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    spec = exports[args.metric]
    options = {k: getattr(args, k) for k in EXTRA_OPTIONS if getattr(args, k) is not None}
    bad = set(options) - set(spec.options)
    if bad:
        print(f"{args.metric} does not take --{', --'.join(sorted(bad))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    env = settings_from_env()
    settings = Settings(db=Path(args.db) if args.db else env.db, engine=env.engine, spark_master=env.spark_master)
    if "state" in spec.options and "state" not in options:
        from kam_dash.state.store import state_path_from_env

        options["state"] = str(state_path_from_env({"KAM_DASH_DB": str(settings.db), **_state_env()}))
    try:
        engine = open_engine(settings, require_file=True)
        reason = export.lacking(args.metric, engine)
        if reason:
            raise DataError(reason)
        frame = export.compute(args.metric, engine, _filters_from_args(args), **options)
    except (DataError, ValueError) as exc:
        print(f"Cannot export {args.metric}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    export.write(frame, args.out, args.format)
    print(f"Wrote {len(frame):,} rows of {args.metric} to {args.out}")
    return EXIT_OK


def _review_retailers(args, engine, filters) -> list[str]:
    """The retailers a `review` run covers: --retailer, every retailer in view (--all), or one tier."""
    from kam_dash import export
    from kam_dash.metrics import account

    if args.retailer:
        return [args.retailer]
    if args.all:
        return list(account.account_choices(engine, filters)["retailer_id"])
    exports = export.registry()
    if "account-scores" not in exports or "tier" not in exports["account-scores"].columns:
        raise ValueError("--tier needs the key-account tiers (the account-scores export), which this installation "
                         "does not have; name the retailers with --retailer or use --all")
    scores = export.compute("account-scores", engine, filters)
    tiers = {t.lower(): t for t in scores["tier"].dropna().unique()}
    wanted = args.tier.strip().lower()
    if wanted not in tiers:
        raise ValueError(f"no retailer is in tier {args.tier!r}; tiers in view: {', '.join(sorted(tiers.values()))}")
    return list(scores.loc[scores["tier"] == tiers[wanted], "retailer_id"])


def cmd_review(args) -> int:
    from tqdm import tqdm

    from kam_dash import report
    from kam_dash.config import Settings, settings_from_env
    from kam_dash.engine import DataError, open_engine

    try:
        formats = report.check_formats(args.format.split(","))
    except ValueError as exc:
        print(f"--format: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    env = settings_from_env()
    settings = Settings(db=Path(args.db) if args.db else env.db, engine=env.engine, spark_master=env.spark_master)
    filters = _filters_from_args(argparse.Namespace(**{**vars(args), "retailer": None}))
    try:
        engine = open_engine(settings, require_file=True)
        rids = _review_retailers(args, engine, filters)
    except (DataError, ValueError) as exc:
        print(f"Cannot build the review pack: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not rids:
        print("No retailer matches; nothing written.", file=sys.stderr)
        return EXIT_BAD_INPUT
    written = []
    # one browser renders the deck images of every pack in the batch
    images = report.ChartImages().start() if "pptx" in formats else None
    try:
        for rid in tqdm(rids, desc="Review packs", unit="pack", disable=bool(args.retailer)):
            try:
                written += report.write_pack(engine, filters, rid, formats, Path(args.out), images)
            except (DataError, ValueError) as exc:
                print(f"Cannot build the review pack of {rid}: {exc}", file=sys.stderr)
                return EXIT_BAD_INPUT
    finally:
        if images is not None:
            images.close()
    for path in written:
        print(f"Wrote {path}")
    return EXIT_OK


def cmd_export_parquet(args) -> int:
    from kam_dash import parquet

    written = parquet.export_database(Path(args.db), Path(args.dir))
    for name, n in written.items():
        print(f"  {name:<12} {n:>12,} rows")
    print(f"Wrote Parquet tables to {args.dir}")
    return EXIT_OK


def _state_env() -> dict[str, str]:
    import os

    return {"KAM_DASH_STATE": os.environ["KAM_DASH_STATE"]} if os.environ.get("KAM_DASH_STATE") else {}


def _state_store(args, create: bool):
    from kam_dash.state.store import Store, state_path_from_env

    path = Path(args.state) if args.state else state_path_from_env(
        {"KAM_DASH_DB": args.db, **_state_env()} if getattr(args, "db", None) else None)
    return Store(path, create=create)


def cmd_plans(args) -> int:
    """`plans import DIR` / `plans export DIR`: the account plans as CSV files (see docs/DATA_MODEL.md)."""
    import getpass

    from kam_dash.state import io, plans
    from kam_dash.state.store import StateError

    try:
        if args.action == "export":
            store = _state_store(args, create=False)
            for name, n in io.export_dir(store, Path(args.dir)).items():
                print(f"  {name + '.csv':<16} {n:>6,} rows")
            print(f"Wrote the account plans of {store.path} to {args.dir}")
            return EXIT_OK
        from kam_dash.config import Settings, settings_from_env
        from kam_dash.engine import DataError, open_engine

        env = settings_from_env()
        db = Path(args.db) if args.db else env.db
        try:
            engine = open_engine(Settings(db=db, engine=env.engine, spark_master=env.spark_master))
            refs = plans.refs_from_engine(engine)
        except DataError as exc:
            print(f"Cannot check the plans against {db}: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        store = _state_store(args, create=True)
        report = io.import_dir(store, Path(args.dir), refs, args.actor or f"cli:{getpass.getuser()}")
    except StateError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(report.render())
    print(f"Saved in {store.path}")
    return EXIT_OK


def cmd_users(args) -> int:
    """`users import FILE` / `users export FILE`: who may sign in, their role and retailers (kam_dash.auth)."""
    import getpass

    from kam_dash import auth
    from kam_dash.state.store import StateError

    try:
        if args.action == "export":
            store = _state_store(args, create=False)
            n = auth.export_csv(store, Path(args.file))
            print(f"Wrote {n:,} users of {store.path} to {args.file}")
            return EXIT_OK
        store = _state_store(args, create=True)
        read, changed = auth.import_csv(store, Path(args.file), args.actor or f"cli:{getpass.getuser()}")
    except StateError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{read:,} users read, {changed:,} added or changed; saved in {store.path}")
    return EXIT_OK


def cmd_docs(args) -> int:
    from kam_dash import docs

    path = docs.write_metrics_doc(Path(args.out))
    print(f"Wrote {path}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kam-dash", description="Key account analytics")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="write the demo dataset (with its planted truth) into a DuckDB file")
    p.add_argument("--scale", choices=("small", "default", "large", "shape", "stores200m"), default="default",
                   help="stores200m: the default demo plus store chains of 200M+ store rows (minutes, ~10 GB)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--as-of", type=_date, default=None, help="data ends the week before this date (default today)")
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--state", default=None,
                   help="state database for the demo account plan (default beside --db: NAME.state.sqlite)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="validate and load CSV, Parquet or Excel files, all or nothing")
    p.add_argument("paths", nargs="+", help="files, or folders of files named after the tables")
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--table", help="the table every given file loads into (default: from each file's name)")
    p.add_argument("--week-ending", choices=("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
                   help="the files date each week by its last day, this weekday (e.g. fri); each row moves to the "
                        "Monday of the week holding most of its days")
    p.add_argument("--column", action="append", metavar="FILE_COLUMN=COLUMN",
                   help="read a file column as a contract column, e.g. --column Weekly_Sales=sales_value")
    p.add_argument("--retailer-id", help="the retailer of every row, for files that do not name it")
    p.add_argument("--sum-over", action="append", metavar="FILE_COLUMN",
                   help="add up rows that differ only in this column, e.g. --sum-over Store (store rows -> chain)")
    p.add_argument("--wait", type=float, default=120.0,
                   help="seconds to wait for another import into the same database to finish (default 120)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("derive", help="compute again the tables derived from the data (lift per promotion, "
                       "seasonal index, and the store summaries when their store rows changed); import and demo do "
                       "it themselves, this is for a file changed otherwise")
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--force", action="store_true", help="compute them even when they are up to date")
    p.add_argument("--wait", type=float, default=120.0,
                   help="seconds to wait for an import into the same database to finish (default 120)")
    p.set_defaults(func=cmd_derive)

    p = sub.add_parser("export", help="write a metric's table exactly as the app computes it")
    p.add_argument("metric")
    p.add_argument("--db", default=None, help="database (default KAM_DASH_DB)")
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    p.add_argument("--retailer", action="append")
    p.add_argument("--category", action="append")
    p.add_argument("--channel", action="append")
    p.add_argument("--brand", action="append")
    p.add_argument("--method")
    p.add_argument("--grain", choices=("month", "week"))
    p.add_argument("--year", type=int)
    p.add_argument("--window", type=int, choices=(4, 8, 13))
    p.add_argument("--week", type=_date)
    p.add_argument("--state", default=None, help="account-plan: the state database (default KAM_DASH_STATE, "
                   "else beside the database)")
    p.add_argument("--format", choices=("csv", "parquet", "json"), default="csv")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("review", help="write a retailer's review pack (HTML, Excel, PowerPoint)")
    p.add_argument("--db", default=None, help="database (default KAM_DASH_DB)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--retailer", help="the retailer id")
    who.add_argument("--tier", help="every retailer of a key-account tier (e.g. strategic)")
    who.add_argument("--all", action="store_true", help="every retailer in view")
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    p.add_argument("--category", action="append")
    p.add_argument("--channel", action="append", help="with --tier / --all: the retailers of these channels")
    p.add_argument("--brand", action="append")
    p.add_argument("--format", default="html,xlsx,pptx", help="comma-separated: html, xlsx, pptx")
    p.add_argument("--out", required=True, help="folder to write the files into")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("export-parquet", help="copy the tables to Parquet for the Spark engine")
    p.add_argument("dir")
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(func=cmd_export_parquet)

    p = sub.add_parser("plans", help="import or export the account plans (objectives, initiatives, contacts, "
                       "meetings) as CSV files")
    p.add_argument("action", choices=("import", "export"))
    p.add_argument("dir", help="folder of objectives.csv, initiatives.csv, contacts.csv, meetings.csv")
    p.add_argument("--state", default=None, help="state database (default KAM_DASH_STATE, else beside the database)")
    p.add_argument("--db", default=None, help="import: the analytics database retailer and promotion ids are "
                   "checked against (default KAM_DASH_DB)")
    p.add_argument("--actor", default=None, help="import: the name recorded in the history (default cli:USER)")
    p.set_defaults(func=cmd_plans)

    p = sub.add_parser("users", help="import or export the users who may sign in (CSV: email, name, role, "
                       "retailers, restrict_reads)")
    p.add_argument("action", choices=("import", "export"))
    p.add_argument("file", help="the CSV file; retailers are ids separated by ';' (empty: by the kam column)")
    p.add_argument("--state", default=None, help="state database (default KAM_DASH_STATE, else beside the database)")
    p.add_argument("--db", default=None, help="the analytics database the state database sits beside")
    p.add_argument("--actor", default=None, help="import: the name recorded in the history (default cli:USER)")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("docs", help="regenerate docs/METRICS.md from the metric definitions")
    p.add_argument("--out", default="docs/METRICS.md")
    p.set_defaults(func=cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
