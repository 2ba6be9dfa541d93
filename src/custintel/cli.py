"""The ``custintel`` command line.

- ``custintel summarize`` validates a transaction file (or the bundled CDNOW
  data with ``--demo``) and writes the customer summary.
- ``custintel report`` runs the whole job (:class:`~custintel.CustomerIntelligence`)
  and writes the customer table, the rules, the model bundle and the HTML report.
- ``custintel score`` scores a transaction file with a saved model bundle,
  without refitting, in bounded memory for Parquet input.

Data problems are printed as one clear message with exit code 2, never as a
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shlex
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from custintel import __version__
from custintel.exceptions import SchemaError
from custintel.features import summarize_customers
from custintel.schema import OPTIONAL_ROLES, REQUIRED_ROLES, TransactionSchema

__all__ = ["main"]

EXIT_OK = 0
_PREVIEW_COLUMNS = ("frequency", "recency", "T", "monetary_value", "n_orders", "total_amount")
EXIT_BAD_INPUT = 2
#: Customers simulated by ``custintel report --demo``: about 35,000 order lines.
DEMO_CUSTOMERS = 3000


def _read_transactions(path: Path) -> pd.DataFrame:
    from custintel.pipeline._scoring import read_transactions

    return read_transactions(path)


def _add_mapping_options(parser: argparse.ArgumentParser) -> None:
    mapping = parser.add_argument_group(
        "column mapping", "name the column that plays each role (default: the role's name)"
    )
    mapping.add_argument(
        "--schema",
        type=Path,
        metavar="FILE",
        help='TOML or JSON file mapping roles to columns, e.g. customer_id = "cust"; '
        "options below override it",
    )
    for role in REQUIRED_ROLES + OPTIONAL_ROLES:
        mapping.add_argument(
            f"--{role.replace('_', '-')}",
            dest=role,
            metavar="COLUMN",
            help=f"column holding the {role} (default: {role})",
        )


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--refunds", choices=["net", "drop", "raise"], default="net")
    parser.add_argument("--duplicates", choices=["warn", "keep", "drop", "raise"], default="warn")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custintel", description="Customer intelligence on a transaction log."
    )
    parser.add_argument("--version", action="version", version=f"custintel {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    summarize = commands.add_parser(
        "summarize",
        help="one row per customer: BTYD, RFM and profile features",
        description="Validate transactions and write the customer summary (CSV and, with "
        "pyarrow, Parquet) to --out.",
    )
    source = summarize.add_mutually_exclusive_group(required=True)
    source.add_argument("input", nargs="?", type=Path, help="transactions, .csv or .parquet")
    source.add_argument("--demo", action="store_true", help="use the bundled CDNOW data")
    summarize.add_argument("--out", type=Path, required=True, help="output directory")
    _add_mapping_options(summarize)
    summarize.add_argument("--observation-end", help="last observed day, e.g. 1998-06-30")
    summarize.add_argument("--time-unit", choices=["D", "W"], default="D")
    _add_policy_options(summarize)

    report = commands.add_parser(
        "report",
        help="the whole job: segments, churn, CLV, cross-sell, 80/20 and an HTML report",
        description="Fit every model on a transaction log and write customers.csv, "
        "customers.parquet, rules.csv, the model bundle models/ and report.html to --out.",
    )
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("input", nargs="?", type=Path, help="transactions, .csv or .parquet")
    source.add_argument(
        "--demo",
        action="store_true",
        help="use simulated data with items and costs (custintel.datasets.make_transactions)",
    )
    report.add_argument("--out", type=Path, required=True, help="output directory")
    _add_mapping_options(report)
    report.add_argument(
        "--observation-end", metavar="DATE", help="last observed day (default: the last date)"
    )
    report.add_argument(
        "--horizon",
        type=int,
        default=365,
        metavar="DAYS",
        help="days of the churn window and CLV (default 365)",
    )
    report.add_argument(
        "--discount-rate",
        type=float,
        default=0.10,
        metavar="RATE",
        help="annual CLV discount rate (0.10)",
    )
    report.add_argument(
        "--clv-margin",
        type=float,
        metavar="SHARE",
        help="share of revenue that is profit, for CLV (default: from the cost column, else 1)",
    )
    report.add_argument(
        "--min-support",
        type=float,
        metavar="SHARE",
        help="minimum support of the rules (default: automatic)",
    )
    _add_policy_options(report)
    report.add_argument("--quiet", action="store_true", help="no step log on stderr")

    score = commands.add_parser(
        "score",
        help="score transactions with a saved model bundle, without refitting",
        description="Score a transaction file with the models/ bundle of `custintel report`. "
        "Parquet input is processed in chunks, so memory stays bounded.",
    )
    score.add_argument("--models", type=Path, required=True, help="bundle folder (models/)")
    score.add_argument("--input", type=Path, required=True, help="transactions, .csv or .parquet")
    score.add_argument("--out", type=Path, required=True, help="output file, .csv or .parquet")
    score.add_argument(
        "--observation-end", metavar="DATE", help="day to score at (default: the last date)"
    )
    score.add_argument(
        "--rows-per-bucket",
        type=int,
        metavar="N",
        default=2_000_000,
        help="transaction rows scored at once (bounds memory; default 2,000,000)",
    )
    score.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


#: Keyword arguments of the Python API that are also ``--name-with-dashes`` options of some
#: subcommands; a fix hint naming one is rewritten for the command line where it exists.
_KEYWORD_OPTIONS = frozenset(
    ("duplicates", "refunds", "observation_end", "time_unit", "horizon", "min_support")
)
_KEYWORD_HINT = re.compile(r"\b(?P<name>[a-z_]+)=(?:'(?P<quoted>[^']*)'|(?P<bare>[\w.:-]+))")


def _as_options(message: str, args: argparse.Namespace) -> str:
    """Rewrite hints such as ``duplicates='drop'`` as ``--duplicates drop`` for this command.

    Only keyword arguments that the running subcommand has as options are
    rewritten; any other hint is left as the Python API spells it.
    """
    available = _KEYWORD_OPTIONS & set(vars(args))

    def option(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in available:
            return match[0]
        value = match["quoted"] if match["quoted"] is not None else match["bare"]
        return f"--{name.replace('_', '-')} {shlex.quote(value)}"

    return _KEYWORD_HINT.sub(option, message)


def _schema_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise SchemaError(f"schema file {str(path)!r} does not exist", reason="no_schema_file")
    text = path.read_text()
    try:
        if path.suffix.lower() == ".json":
            data: Any = json.loads(text)
        else:
            import tomllib

            data = tomllib.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise SchemaError(
            f"schema file {str(path)!r} is not valid {kind}: {err}", reason="bad_schema_file"
        ) from err
    if isinstance(data, dict) and isinstance(data.get("schema"), dict):
        data = data["schema"]
    roles = set(REQUIRED_ROLES + OPTIONAL_ROLES)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise SchemaError(
            f"schema file {str(path)!r} must map roles to column names, e.g. "
            'customer_id = "cust" (TOML) or {"customer_id": "cust"} (JSON)',
            reason="bad_schema_file",
        )
    unknown = sorted(set(data) - roles)
    if unknown:
        raise SchemaError(
            f"schema file {str(path)!r} names unknown roles {unknown}; valid roles are "
            f"{list(REQUIRED_ROLES + OPTIONAL_ROLES)}",
            reason="bad_schema_file",
        )
    return dict(data)


def _mapping(args: argparse.Namespace) -> dict[str, str]:
    mapping = _schema_file(args.schema) if args.schema is not None else {}
    for role in REQUIRED_ROLES + OPTIONAL_ROLES:
        if getattr(args, role) is not None:
            mapping[role] = getattr(args, role)
    return mapping


def _summarize(args: argparse.Namespace) -> int:
    if args.demo:
        from custintel.datasets import load_cdnow

        tx = load_cdnow()
        source = "bundled CDNOW data (Fader & Hardie)"
    else:
        tx = _read_transactions(args.input)
        source = str(args.input)
    mapping = _mapping(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = summarize_customers(
            tx,
            TransactionSchema(**mapping),
            observation_end=args.observation_end,
            time_unit=args.time_unit,
            refunds=args.refunds,
            duplicates=args.duplicates,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    written = [args.out / "customers.csv"]
    summary.to_csv(written[0])
    try:
        summary.to_parquet(args.out / "customers.parquet")
        written.append(args.out / "customers.parquet")
    except ImportError:
        pass

    end = summary.attrs["observation_end"]
    print(f"custintel {__version__}: customer summary of {source}")
    print(f"{len(tx):,} transactions, {len(summary):,} customers, observed until {end}")
    for warning in caught:
        print(f"note: {_as_options(str(warning.message), args)}")
    repeaters = (summary["frequency"] > 0).mean()
    print(f"repeat buyers: {repeaters:.1%}; total revenue: {summary['total_amount'].sum():,.2f}")
    print()
    overview = summary.drop(columns=["first_purchase", "last_purchase"]).describe()
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(overview.T[["mean", "std", "min", "50%", "max"]].round(2).to_string())
        print()
        print(summary[list(_PREVIEW_COLUMNS)].head(10).round(2).to_string())
    print()
    print("written: " + ", ".join(str(p) for p in written))
    return EXIT_OK


def _demo_transactions() -> pd.DataFrame:
    from custintel.datasets import make_transactions

    # Four years of history, so the churn backtest (2 x 365 days) has room.
    return make_transactions(
        DEMO_CUSTOMERS, start="2021-01-01", acquisition_days=365, random_state=0
    ).transactions


def _report(args: argparse.Namespace) -> int:
    from custintel.pipeline import CustomerIntelligence
    from custintel.pipeline._scoring import _output_frame

    if args.demo:
        tx = _demo_transactions()
        source = f"simulated data (make_transactions, {DEMO_CUSTOMERS:,} customers)"
    else:
        tx = _read_transactions(args.input)
        source = str(args.input)
    ci = CustomerIntelligence(
        TransactionSchema(**_mapping(args)),
        horizon=args.horizon,
        observation_end=args.observation_end,
        discount_rate=args.discount_rate,
        margin=args.clv_margin,
        min_support=args.min_support,
        refunds=args.refunds,
        duplicates=args.duplicates,
        verbose=not args.quiet,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # collected in ci.data_quality_ and printed below
        ci.fit(tx)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    customers = _output_frame(ci.customers_)
    written = [out / "customers.csv"]
    customers.to_csv(written[0])
    try:
        customers.to_parquet(out / "customers.parquet")
        written.append(out / "customers.parquet")
    except ImportError:
        ci.data_quality_.append(
            "customers.parquet not written: install pyarrow (pip install 'custintel[parquet]')"
        )
    if ci.rules_ is not None:
        rules = ci.rules_.copy()
        for column in ("antecedents", "consequents"):
            rules[column] = rules[column].map(lambda items: " & ".join(map(str, items)))
        rules.to_csv(out / "rules.csv", index=False)
        written.append(out / "rules.csv")
    ci.save(out / "models")
    written.append(out / "models")
    report_path = _write_report(ci, out / "report.html")
    if report_path is not None:
        written.append(report_path)
    logging.getLogger("custintel").debug("outputs written in %.1f s", time.perf_counter() - started)

    overview = ci.overview_
    chosen = ci.clv_selection_.index[ci.clv_selection_["chosen"]][0]
    print(f"custintel {__version__}: customer intelligence report of {source}")
    print(
        f"{overview['n_rows']:,} transactions, {overview['n_customers']:,} customers, "
        f"{overview['first_date'].date()} to {ci.observation_end_.date()}; "
        f"horizon {ci.horizon_} days"
    )
    for message in ci.data_quality_:
        print(f"note: {_as_options(message, args)}")
    print(
        f"CLV model: {chosen} + Gamma-Gamma (holdout MAE "
        f"{ci.clv_selection_.loc[chosen, 'holdout_mae']:.3f}); expected CLV over the horizon: "
        f"{ci.customers_['expected_clv'].sum():,.0f} in total, "
        f"{ci.customers_['expected_clv'].mean():,.2f} per customer"
    )
    if ci.churn_backtest_ is not None:
        auc = ci.churn_backtest_.metrics.loc["ChurnClassifier", "roc_auc"]
        print(f"churn backtest AUC: {auc:.3f}")
    print(
        f"top 20% of customers hold {ci.pareto_.share_of_top(0.2):.0%} of "
        f"{'margin' if overview['has_costs'] else 'revenue'}"
    )
    if ci.rules_ is not None:
        print(f"cross-sell rules: {len(ci.rules_):,}")
    print("written: " + ", ".join(str(p) for p in written))
    if report_path is not None:
        print(f"open the report: {report_path.resolve()}")
    return EXIT_OK


def _write_report(ci: Any, path: Path) -> Path | None:
    try:
        from custintel.report import write_report
    except ImportError:
        ci.data_quality_.append("report.html not written: custintel.report is not installed")
        return None
    try:
        return Path(write_report(ci, path))
    except ImportError as err:  # matplotlib (the "plot" extra) is missing
        ci.data_quality_.append(f"report.html not written: {err}")
        return None


def _score(args: argparse.Namespace) -> int:
    from custintel.pipeline import score_file
    from custintel.pipeline._bundle import load_bundle

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ci = load_bundle(args.models)
        n = score_file(
            ci,
            args.input,
            args.out,
            observation_end=args.observation_end,
            rows_per_bucket=args.rows_per_bucket,
        )
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"note: {message}", file=sys.stderr)
    if not args.quiet:
        print(
            f"custintel: scored {n:,} customers in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    print(f"written: {args.out}")
    return EXIT_OK


_COMMANDS = {"summarize": _summarize, "report": _report, "score": _score}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``custintel`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 on success, 2 when the input data or options are unusable.
    """
    args = _build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except SchemaError as err:
        print(f"custintel: error: {err}", file=sys.stderr)
        if err.reason == "missing_column" and "suggestion" in err.failure_cases:
            options = [
                f"--{role.replace('_', '-')} {column}"
                for role, column in zip(
                    err.failure_cases["role"], err.failure_cases["suggestion"], strict=True
                )
                if column is not None
            ]
            if options:
                print(f"on the command line: {' '.join(options)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ValueError, TypeError) as err:
        print(f"custintel: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as err:
        # An optional dependency is missing, e.g. pyarrow for Parquet files.
        print(f"custintel: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
