"""The ``custintel`` command line.

``custintel summarize`` validates a transaction file (or the bundled CDNOW data
with ``--demo``), prints an overview of the customer summary and writes it to
an output directory. Schema problems are printed as one clear message with
exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from custintel import __version__
from custintel.exceptions import SchemaError
from custintel.features import summarize_customers
from custintel.schema import OPTIONAL_ROLES, REQUIRED_ROLES, TransactionSchema

__all__ = ["main"]

EXIT_OK = 0
_PREVIEW_COLUMNS = ("frequency", "recency", "T", "monetary_value", "n_orders", "total_amount")
EXIT_BAD_INPUT = 2


def _read_transactions(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise SchemaError(f"input file {str(path)!r} does not exist", reason="no_input")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt", ".gz"):
        return pd.read_csv(path)
    raise SchemaError(
        f"cannot read {str(path)!r}: use a .csv or .parquet file", reason="unsupported_format"
    )


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
    for role in REQUIRED_ROLES + OPTIONAL_ROLES:
        summarize.add_argument(
            f"--{role.replace('_', '-')}",
            dest=role,
            metavar="COLUMN",
            help=f"column holding the {role} (default: {role})",
        )
    summarize.add_argument("--observation-end", help="last observed day, e.g. 1998-06-30")
    summarize.add_argument("--time-unit", choices=["D", "W"], default="D")
    summarize.add_argument("--refunds", choices=["net", "drop", "raise"], default="net")
    summarize.add_argument(
        "--duplicates", choices=["warn", "keep", "drop", "raise"], default="warn"
    )
    return parser


def _summarize(args: argparse.Namespace) -> int:
    if args.demo:
        from custintel.datasets import load_cdnow

        tx = load_cdnow()
        source = "bundled CDNOW data (Fader & Hardie)"
    else:
        tx = _read_transactions(args.input)
        source = str(args.input)
    mapping = {
        role: getattr(args, role)
        for role in REQUIRED_ROLES + OPTIONAL_ROLES
        if getattr(args, role) is not None
    }
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
        print(f"note: {warning.message}")
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
        return _summarize(args)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
