"""The ``custintel`` command line.

- ``custintel summarize`` validates a transaction file (or the bundled CDNOW
  data with ``--demo``) and writes the customer summary.
- ``custintel report`` runs the whole job (:class:`~custintel.CustomerIntelligence`)
  and writes the customer table, the rules, the model bundle and the HTML report.
- ``custintel score`` scores a transaction file with a saved model bundle,
  without refitting, in bounded memory for Parquet input.

Outputs are checked before any work is done: ``--out`` must not be, or be
inside, an input (the transactions, ``--models`` or ``--schema``), must be of
the right kind (a folder for ``summarize`` and ``report``, a file for
``score``) and must be writable. ``report`` writes into a folder only when
everything in it was written by ``custintel report`` (the names in
``REPORT_OUTPUTS``), unless ``--force`` is given. Every file is written to a
temporary name next to it and renamed over the old one when complete, so a
failed run leaves the previous outputs as they were.

Exit codes
----------
0
    Success.
1
    An unexpected internal error: a bug, shown with its traceback.
2
    Bad input data or options (including argparse usage errors).
3
    A model bundle was refused (:class:`~custintel.exceptions.InvalidModelError`):
    not a bundle, damaged or changed since it was saved, incomplete, written by
    a newer custintel, invalid parameters, or pickled files without ``--trust-bundle``.
4
    An output cannot be written: it is or is inside an input, would overwrite
    files that ``--force`` protects, is of the wrong kind, is not writable, or
    the disk is full.

Errors of codes 2 to 4 are printed as one message on stderr that says what
is wrong and how to fix it in command-line terms, never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only light modules at import time: `custintel --version` and `--help` (and usage
# errors) are answered before pandas or any estimator is loaded. Each command imports
# what it uses when it runs.
from custintel import __version__
from custintel._roles import OPTIONAL_ROLES, REQUIRED_ROLES

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_BAD_MODEL = 3
EXIT_CANNOT_WRITE = 4
_PREVIEW_COLUMNS = ("frequency", "recency", "T", "monetary_value", "n_orders", "total_amount")
#: Customers simulated by ``custintel report --demo``: about 35,000 order lines.
DEMO_CUSTOMERS = 3000

#: Files ``custintel summarize`` writes into ``--out``.
SUMMARY_OUTPUTS = ("customers.csv", "customers.parquet")
#: Files ``custintel report`` writes into ``--out``, besides the bundle folder.
REPORT_OUTPUTS = ("customers.csv", "customers.parquet", "rules.csv", "report.html")
#: The per-segment action lists ``custintel report`` writes into ``--out``
#: (:func:`custintel.report.write_action_lists`).
ACTION_LISTS = (
    "call-at-risk-high-value.csv",
    "win-back-lapsed.csv",
    "onboard-new.csv",
    "reward-champions.csv",
    "cross-sell-loyal.csv",
)
#: The model bundle folder ``custintel report`` writes into ``--out``.
REPORT_BUNDLE = "models"
#: Prefixes of the scratch names custintel uses next to its outputs (write probes,
#: files being written, a bundle being swapped in); left over only by a killed run.
_SCRATCH_PREFIXES = (".custintel-", f".{REPORT_BUNDLE}.custintel-")
#: SchemaError reasons that mean a model bundle was refused (older bundle code).
_BUNDLE_REASONS = frozenset(("not_a_bundle", "bundle_too_new", "bad_manifest"))

_EXIT_CODES = """\
exit codes:
  0  success
  1  unexpected internal error (a bug: please report it with the traceback)
  2  bad input data or options
  3  model bundle refused: not a bundle, damaged or changed, incomplete, too new,
     invalid parameters, or pickled files without --trust-bundle
  4  output cannot be written: it is or is inside an input, it would overwrite
     files that report --force protects, it is of the wrong kind or not
     writable, or the disk is full
"""


class _CommandError(Exception):
    """A user error with its exit code; main prints the message as one line."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _q(path: Path) -> str:
    return repr(str(path))


def _reading(args: argparse.Namespace) -> dict[str, Any]:
    """Return the --sep, --decimal, --encoding, --dayfirst and --sheet options as keywords."""
    return {
        "sep": args.sep,
        "decimal": args.decimal,
        "encoding": args.encoding,
        "dayfirst": args.dayfirst,
        "sheet": args.sheet,
    }


def _read_transactions(
    path: Path, mapping: Mapping[str, str], args: argparse.Namespace
) -> pd.DataFrame:
    from custintel.pipeline import id_columns, read_transactions

    # Ids are text: "007" and "7" are two customers, written back as read.
    return read_transactions(
        path,
        text_columns=id_columns(mapping),
        date_columns=[mapping.get("timestamp", "timestamp")],
        **_reading(args),
    )


def _exclude_items(value: str) -> str | tuple[str, ...]:
    """Parse ``--exclude-items``: comma-separated ids, or ``re:PATTERN`` for a regex."""
    if value.startswith("re:"):
        pattern = value[3:]
        try:
            re.compile(pattern)
        except re.error as err:
            raise argparse.ArgumentTypeError(
                f"{pattern!r} is not a valid regular expression ({err})"
            ) from err
        if not pattern:
            raise argparse.ArgumentTypeError("re: needs a pattern, e.g. re:'POST|M|D'")
        return pattern
    codes = tuple(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    if not codes:
        raise argparse.ArgumentTypeError(
            f"{value!r} names no item id; give ids separated by commas, e.g. POST,M,D"
        )
    return codes


def _non_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not (number >= 0 and number != float("inf")):
        raise argparse.ArgumentTypeError(f"{value!r} is not a number >= 0, e.g. 0.01")
    return number


def _clv_covariates(value: str) -> str | list[str]:
    """Check ``--clv-covariates``: 'auto' or a comma-separated list of attribute names."""
    if value.strip() == "auto":
        return "auto"
    roles = [part.strip() for part in value.split(",") if part.strip()]
    if not roles or len(set(roles)) != len(roles):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not 'auto' or a comma-separated list of distinct attribute names "
            "(customer_type, region, channel, or columns named with --attribute), e.g. "
            "--clv-covariates region,channel"
        )
    return roles


def _date(value: str) -> str:
    """Check a ``--as-of`` date on the command line; the text is passed on as given."""
    import pandas as pd

    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError):
        day = pd.NaT
    if pd.isna(day):
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD")
    return value


def _n_jobs(value: str) -> int:
    """Check ``--n-jobs``: a whole number other than 0 (-1 means every CPU)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number == 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number other than 0")
    return number


def _days_or_off(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days >= 0")
    return number


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number >= 1")
    return number


#: What each role's column holds, for the help of its option.
_ROLE_HELP = {
    "customer_id": "the customer id, read as text: 007 and 7 are two customers",
    "timestamp": "the date and time of the line",
    "amount": "the revenue of the line; without it, amount = quantity x unit price",
    "order_id": "the order or invoice id, read as text",
    "item_id": "the product id, e.g. a stock code, read as text",
    "item_name": "the product name or description, for readable rules",
    "quantity": "the units on the line (negative on return lines)",
    "unit_price": "the price of one unit; lines priced 0 or less are left out and counted",
    "cost": "the cost of the line, for margins",
    "margin": "the margin of the line (instead of a cost column)",
    "channel": "the sales channel",
    "region": "the region or country",
    "customer_type": "the customer type, e.g. consumer or business",
    "discount": "the amount taken off the line's list price (0 at full price)",
    "list_amount": "the line's amount before discount (instead of a discount column)",
    "promotion": "a promotion flag or campaign code of the line (empty: no promotion)",
}
#: Other spellings of role options.
_ROLE_ALIASES = {"item_id": ("--item",)}


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
    mapping.add_argument(
        "--attribute",
        dest="attributes",
        action="append",
        metavar="COLUMN",
        help="another per-customer attribute column (e.g. a loyalty tier), kept under its own "
        "name for --clv-covariates; repeat for more",
    )
    for role in REQUIRED_ROLES + OPTIONAL_ROLES:
        what = _ROLE_HELP.get(role, f"the {role.replace('_', ' ')}")
        default = (
            f"default: {role}"
            if role in REQUIRED_ROLES
            else f"default: the column {role}, if there is one"
        )
        mapping.add_argument(
            f"--{role.replace('_', '-')}",
            *_ROLE_ALIASES.get(role, ()),
            dest=role,
            metavar="COLUMN",
            help=f"column holding {what} ({default})",
        )


def _add_reading_options(parser: argparse.ArgumentParser) -> None:
    reading = parser.add_argument_group(
        "reading the file", "how the input file is written (default: found from the file)"
    )
    reading.add_argument(
        "--sep",
        metavar="CHAR",
        help="CSV column separator: , ; | or tab (default: sniffed from the first lines)",
    )
    reading.add_argument(
        "--decimal",
        choices=[".", ","],
        metavar="MARK",
        help="CSV decimal mark, . or , (default: , when the separator is not a comma and numbers "
        "look like 1,5; else .)",
    )
    reading.add_argument(
        "--encoding",
        metavar="NAME",
        help="CSV text encoding, e.g. latin-1 or cp1252 (default: utf-8, with or without "
        "a byte-order mark)",
    )
    reading.add_argument(
        "--dayfirst",
        action="store_true",
        help="dates are day first: 03/04/2011 is 3 April (default: ISO dates, or month "
        "first with a note when ambiguous)",
    )
    reading.add_argument(
        "--sheet",
        metavar="NAME",
        help="sheet of an Excel file (default: the first); reading Excel needs "
        "pip install 'custintel[excel]'",
    )


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    cleaning = parser.add_argument_group(
        "cleaning",
        "what to do with lines that are not plain purchases;\n"
        "every line dropped or changed is counted and reported",
    )
    cleaning.add_argument(
        "--refunds",
        choices=["auto", "match", "net", "drop", "raise"],
        default="auto",
        help="return lines (negative quantity or amount): match = cancel or reduce the "
        "purchase each one reverses; net = subtract them from the customer's revenue; "
        "drop = leave them out; raise = stop with an error; auto (default) = match when "
        "there is an item or order column, else net",
    )
    cleaning.add_argument(
        "--unmatched-refunds",
        choices=["net", "drop", "raise"],
        default="net",
        help="under --refunds match, returns that reverse no purchase in the file (default: net)",
    )
    cleaning.add_argument(
        "--missing-ids",
        choices=["raise", "drop"],
        default="raise",
        help="lines without a customer id (guest checkouts): raise = stop with an error "
        "(default); drop = leave them out and count them",
    )
    cleaning.add_argument(
        "--exclude-items",
        type=_exclude_items,
        metavar="CODES",
        help="item ids that are no products (postage, fees, adjustments), kept out of "
        "purchases and baskets: ids separated by commas, e.g. POST,M,D, or re:PATTERN for "
        "a regular expression the whole id matches, e.g. 're:POST|M|D|BANK CHARGES'",
    )
    cleaning.add_argument(
        "--duplicates",
        choices=["warn", "keep", "drop", "raise"],
        default="warn",
        help="lines identical to an earlier line: warn (default) = keep them with a note; "
        "keep = keep them silently; drop = drop them; raise = stop with an error",
    )


_INPUT_HELP = (
    "transactions: .csv (also .csv.gz), .parquet, or .xlsx/.xls (pip install 'custintel[excel]')"
)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custintel",
        description="Customer intelligence on a transaction log.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"custintel {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    summarize = commands.add_parser(
        "summarize",
        help="one row per customer: BTYD, RFM and profile features",
        description="Validate transactions and write the customer summary (CSV and, with "
        "pyarrow, Parquet) to --out.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = summarize.add_mutually_exclusive_group(required=True)
    source.add_argument("input", nargs="?", type=Path, help=_INPUT_HELP)
    source.add_argument("--demo", action="store_true", help="use the bundled CDNOW data")
    summarize.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output folder (created if needed); customers.csv and customers.parquet in it "
        "are replaced, other files are kept",
    )
    _add_mapping_options(summarize)
    _add_reading_options(summarize)
    summarize.add_argument(
        "--observation-end",
        metavar="DATE",
        help="last observed day, e.g. 1998-06-30 (default: the last date)",
    )
    summarize.add_argument(
        "--time-unit",
        choices=["h", "D", "W", "M"],
        default="D",
        help="unit of recency and T: h = hours, D = days (default), W = weeks, "
        "M = months of 365.25/12 days",
    )
    _add_policy_options(summarize)

    report = commands.add_parser(
        "report",
        help="the whole job: segments, churn, CLV, cross-sell, 80/20 and an HTML report",
        description="Fit every model on a transaction log and write customers.csv, "
        "customers.parquet, rules.csv, the model bundle models/, report.html and the "
        "per-segment action lists (call-at-risk-high-value.csv and the like) to --out.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("input", nargs="?", type=Path, help=_INPUT_HELP)
    source.add_argument(
        "--demo",
        action="store_true",
        help="use simulated data with items and costs (custintel.datasets.make_transactions)",
    )
    report.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output folder: new, empty, or written by an earlier custintel report",
    )
    report.add_argument(
        "--force",
        action="store_true",
        help="also write into an --out folder that holds other files; only customers.csv, "
        "customers.parquet, rules.csv, report.html, the action lists (call-at-risk-high-value.csv "
        "and the like) and the bundle files in models/ are replaced, other files are kept",
    )
    _add_mapping_options(report)
    _add_reading_options(report)
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
    report.add_argument(
        "--max-rules",
        type=_positive_int,
        default=5000,
        metavar="N",
        help="most association rules kept, the best by confidence and lift (default 5000)",
    )
    report.add_argument(
        "--max-basket-size",
        type=_positive_int,
        default=500,
        metavar="N",
        help="orders with more items than this (bulk orders) are left out of rule mining, "
        "with a note (default 500)",
    )
    report.add_argument(
        "--early-life-days",
        type=_days_or_off,
        default=90,
        metavar="DAYS",
        help="customers at most this many days past their first purchase get an "
        "early_life_value from their first order and first days; 0 turns it off (default 90)",
    )
    report.add_argument(
        "--penalizer",
        type=_non_negative,
        metavar="FLOAT",
        help="L2 penalty of the CLV model fits, e.g. 0.001 to 0.01 when a fit does not "
        "converge (default: none)",
    )
    report.add_argument(
        "--clv-covariates",
        type=_clv_covariates,
        metavar="NAMES",
        help="customer attributes the CLV models may read as covariates: 'auto' (every "
        "mapped one of customer_type, region, channel and every --attribute column) or a "
        "comma-separated list; the "
        "covariate models are chosen only when they forecast the holdout better "
        "(default: none)",
    )
    report.add_argument(
        "--n-jobs",
        type=_n_jobs,
        metavar="N",
        help="threads for the churn model; -1 = every CPU (default: 1, the fastest on a "
        "busy machine)",
    )
    report.add_argument(
        "--currency",
        metavar="TEXT",
        help="currency of the amounts for the report, e.g. GBP (changes no number)",
    )
    _add_policy_options(report)
    report.add_argument("--quiet", action="store_true", help="no step log on stderr")

    score = commands.add_parser(
        "score",
        help="score transactions with a saved model bundle, without refitting",
        description="Score a transaction file with the models/ bundle of `custintel report`. "
        "Parquet input is processed in chunks, so memory stays bounded.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    score.add_argument("--models", type=Path, required=True, help="bundle folder (models/)")
    score.add_argument("--input", type=Path, required=True, help=_INPUT_HELP)
    score.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="output file, .csv or .parquet; replaced when the scoring is complete",
    )
    score.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="day to score at, e.g. 2024-12-31 (default: the day the models were fitted at)",
    )
    # The old name of --as-of, kept working for existing scripts.
    score.add_argument("--observation-end", type=_date, help=argparse.SUPPRESS)
    score.add_argument(
        "--trust-bundle",
        action="store_true",
        help="also load the bundle's pickled (joblib) files; unpickling can run any code, so "
        "use it only for bundles you wrote yourself",
    )
    score.add_argument(
        "--rows-per-bucket",
        type=_positive_int,
        metavar="N",
        default=2_000_000,
        help="transaction rows scored at once (bounds memory; default 2,000,000)",
    )
    _add_reading_options(score)
    score.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


#: Keyword arguments of the Python API and the options of the subcommands that take them,
#: as (argparse dest, option); a fix hint naming one is rewritten for the command line.
_KEYWORD_OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "duplicates": (("duplicates", "--duplicates"),),
    "refunds": (("refunds", "--refunds"),),
    "observation_end": (("as_of", "--as-of"), ("observation_end", "--observation-end")),
    "as_of": (("as_of", "--as-of"),),
    "time_unit": (("time_unit", "--time-unit"),),
    "horizon": (("horizon", "--horizon"),),
    "min_support": (("min_support", "--min-support"),),
    "discount_rate": (("discount_rate", "--discount-rate"),),
    "rows_per_bucket": (("rows_per_bucket", "--rows-per-bucket"),),
    "unmatched_refunds": (("unmatched_refunds", "--unmatched-refunds"),),
    "missing_ids": (("missing_ids", "--missing-ids"),),
    "exclude_items": (("exclude_items", "--exclude-items"),),
    "penalizer": (("penalizer", "--penalizer"),),
    "clv_covariates": (("clv_covariates", "--clv-covariates"),),
    "n_jobs": (("n_jobs", "--n-jobs"),),
    "max_rules": (("max_rules", "--max-rules"),),
    "max_basket_size": (("max_basket_size", "--max-basket-size"),),
    "early_life_days": (("early_life_days", "--early-life-days"),),
    "currency": (("currency", "--currency"),),
    "sep": (("sep", "--sep"),),
    "decimal": (("decimal", "--decimal"),),
    "encoding": (("encoding", "--encoding"),),
    "sheet": (("sheet", "--sheet"),),
}
#: Boolean keyword arguments whose ``=True`` is a flag option.
_FLAG_OPTIONS: dict[str, tuple[str, str]] = {
    "trusted": ("trust_bundle", "--trust-bundle"),
    "overwrite": ("force", "--force"),
    "dayfirst": ("dayfirst", "--dayfirst"),
}
_KEYWORD_HINT = re.compile(
    r"\b(?P<name>[a-z_]+)=(?:'(?P<quoted>[^']*)'|\[(?P<list>[^\]]*)\]|\((?P<tuple>[^)]*)\)"
    r"|(?P<bare>[\w.:-]+))"
)
_REPEATED_OPTION = re.compile(r"(?P<option>--[a-z-]+) \((?P=option)\)")
#: "parse them yourself: pd.to_datetime(df['date'], dayfirst=True)" is --dayfirst here.
_DAYFIRST_HINT = re.compile(
    r"(?:parse (?:them|the column) yourself(?:, e\.g\.)?:? )?"
    r"pd\.to_datetime\(df\[[^\]]*\](?:, format='mixed')?, dayfirst=True\)"
)
_LIST_ITEM = re.compile(r"'([^']*)'")
#: A schema hint, e.g. "TransactionSchema(region='country')": options on the command line.
_SCHEMA_HINT = re.compile(r"TransactionSchema\((?P<args>[^()]*)\)")
_SCHEMA_ARGUMENT = re.compile(r"(?P<role>[a-z_]+)=(?:'(?P<column>[^']*)'|\[(?P<list>[^\]]*)\])")
#: A pandas or numpy example of a fix (", e.g. df = df[np.isfinite(df[...])]"), to the end
#: of its clause: the command line cannot run it, so the fix is made in the file.
_PANDAS_SNIPPET = re.compile(
    r",? e\.g\.:? (?:df = )?(?:df|pd|np)[.\[](?:[^;()\n]|\((?:[^()]|\([^()]*\))*\))*"
)


def _schema_options(match: re.Match[str]) -> str:
    """Spell a ``TransactionSchema(...)`` hint as the mapping options it stands for."""
    options = []
    for argument in _SCHEMA_ARGUMENT.finditer(match["args"]):
        role = argument["role"]
        if argument["list"] is not None and role == "attributes":
            for name in _LIST_ITEM.findall(argument["list"]):
                options.append(f"--attribute {shlex.quote(name)}")
        elif argument["column"] is not None and role in (*REQUIRED_ROLES, *OPTIONAL_ROLES):
            options.append(f"--{role.replace('_', '-')} {shlex.quote(argument['column'])}")
        else:
            return match[0]  # not a hint the options can spell
    return " ".join(options) if options else match[0]


def _as_options(message: str, args: argparse.Namespace) -> str:
    """Rewrite hints such as ``duplicates='drop'`` as ``--duplicates drop`` for this command.

    Only keyword arguments that the running subcommand has as options are
    rewritten (``trusted=True`` becomes ``--trust-bundle``); any other hint is
    left as the Python API spells it.
    """
    available = set(vars(args))

    def option(match: re.Match[str]) -> str:
        name = match["name"]
        listed = match["list"] if match["list"] is not None else match["tuple"]
        if listed is not None:
            # a list of ids: exclude_items=['POST', 'M'] is --exclude-items POST,M
            items = _LIST_ITEM.findall(listed) or [v.strip() for v in listed.split(",")]
            value = ",".join(v for v in items if v)
        elif match["quoted"] is not None:
            value = match["quoted"]
            if name == "exclude_items":  # a string is a pattern on the command line
                value = f"re:{value}"
        else:
            value = match["bare"]
        flag = _FLAG_OPTIONS.get(name)
        if flag is not None:
            return flag[1] if flag[0] in available and value == "True" else match[0]
        for dest, spelled in _KEYWORD_OPTIONS.get(name, ()):
            if dest in available:
                return f"{spelled} {shlex.quote(value)}"
        return match[0]

    if "dayfirst" in available:
        message = _DAYFIRST_HINT.sub("pass --dayfirst", message)
    message = _PANDAS_SNIPPET.sub(" in the file", message)
    if "attributes" in available:  # the commands with column-mapping options
        message = _SCHEMA_HINT.sub(_schema_options, message)
    if "clv_covariates" in available:
        message = message.replace("clv_covariates names", "--clv-covariates names")
    # "pass trusted=True (--trust-bundle)" would read "--trust-bundle (--trust-bundle)"
    return _REPEATED_OPTION.sub(r"\g<option>", _KEYWORD_HINT.sub(option, message))


def _schema_file(path: Path) -> dict[str, Any]:
    from custintel.exceptions import SchemaError

    if not path.is_file():
        raise SchemaError(f"schema file {str(path)!r} does not exist", reason="no_schema_file")
    kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
    try:
        text = path.read_text(encoding="utf-8")
        if kind == "JSON":
            data: Any = json.loads(text)
        else:
            import tomllib

            data = tomllib.loads(text)
    except OSError as err:
        raise SchemaError(
            f"cannot read the schema file {str(path)!r}: {err.strerror or err}",
            reason="bad_schema_file",
        ) from err
    except (ValueError, UnicodeDecodeError) as err:
        raise SchemaError(
            f"schema file {str(path)!r} is not valid {kind}: {err}", reason="bad_schema_file"
        ) from err
    if isinstance(data, dict) and isinstance(data.get("schema"), dict):
        data = data["schema"]
    roles = set(REQUIRED_ROLES + OPTIONAL_ROLES)
    attributes = data.get("attributes", []) if isinstance(data, dict) else []
    if (
        not isinstance(data, dict)
        or not all(isinstance(v, str) for k, v in data.items() if k != "attributes")
        or not isinstance(attributes, list)
        or not all(isinstance(v, str) for v in attributes)
    ):
        raise SchemaError(
            f"schema file {str(path)!r} must map roles to column names, e.g. "
            'customer_id = "cust" (TOML) or {"customer_id": "cust"} (JSON), and may list other '
            'attribute columns, e.g. attributes = ["loyalty_tier"]',
            reason="bad_schema_file",
        )
    unknown = sorted(set(data) - roles - {"attributes"})
    if unknown:
        raise SchemaError(
            f"schema file {str(path)!r} names unknown roles {unknown}; valid roles are "
            f"{list(REQUIRED_ROLES + OPTIONAL_ROLES)}, and 'attributes' lists other columns",
            reason="bad_schema_file",
        )
    return dict(data)


def _mapping(args: argparse.Namespace) -> dict[str, Any]:
    mapping = _schema_file(args.schema) if args.schema is not None else {}
    for role in REQUIRED_ROLES + OPTIONAL_ROLES:
        if getattr(args, role) is not None:
            mapping[role] = getattr(args, role)
    if getattr(args, "attributes", None):
        mapping["attributes"] = list(
            dict.fromkeys([*mapping.get("attributes", []), *args.attributes])
        )
    return mapping


# --- output safety: checked before any work ------------------------------------------------


def _inputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """Every path the command reads, with the words that name it in a message."""
    found: list[tuple[str, Path]] = []
    if getattr(args, "input", None) is not None:
        found.append(
            ("the --input file" if args.command == "score" else "the input file", args.input)
        )
    if getattr(args, "models", None) is not None:
        found.append(("the --models bundle", args.models))
    if getattr(args, "schema", None) is not None:
        found.append(("the --schema file", args.schema))
    return found


def _same(a: Path, b: Path) -> bool:
    """Whether two resolved paths name one file (hard links and case folding included)."""
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _within(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or inside it; both resolved."""
    return any(_same(p, folder) for p in (path, *path.parents))


def _check_not_an_input(out: Path, targets: Sequence[Path], args: argparse.Namespace) -> None:
    """Refuse an --out that is, or is inside, an input, or whose outputs would replace one."""
    where = out.resolve()
    for label, path in _inputs(args):
        source = path.resolve()
        if _same(where, source):
            raise _CommandError(
                f"--out {_q(out)} is {label} {_q(path)}; writing there would destroy it; "
                "choose another --out",
                EXIT_CANNOT_WRITE,
            )
        if _within(where, source):
            raise _CommandError(
                f"--out {_q(out)} is inside {label} {_q(path)}; writing there would change "
                "it; choose another --out",
                EXIT_CANNOT_WRITE,
            )
        for target in targets:
            if _within(source, target.resolve()):
                raise _CommandError(
                    f"--out {_q(out)} would replace {label} {_q(path)} with the output "
                    f"{_q(target)}; choose another --out",
                    EXIT_CANNOT_WRITE,
                )


def _check_writable(out: Path, folder: Path, existing: Sequence[Path] = ()) -> None:
    """Refuse an output that cannot be created: probe the folder it will be written in.

    ``folder`` (or, when it does not exist yet, its nearest existing parent)
    must be a folder this process can create files in; ``existing`` outputs
    that will be replaced must not be read-only.
    """
    base = folder.resolve()
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise _CommandError(
            f"cannot write {_q(out)}: {_q(base)} is a file, not a folder; choose another --out",
            EXIT_CANNOT_WRITE,
        )
    if not os.access(base, os.W_OK | os.X_OK):
        raise _CommandError(
            f"cannot write {_q(out)}: no permission to create files in {_q(base)}; "
            "choose another --out",
            EXIT_CANNOT_WRITE,
        )
    # os.access does not see read-only mounts, ACLs or a full inode table: try it.
    probe: str | None = None
    try:
        handle, probe = tempfile.mkstemp(prefix=f"{_SCRATCH_PREFIXES[0]}probe-", dir=base)
        os.close(handle)
    except OSError as err:
        raise _CommandError(_cannot_write(out, err), EXIT_CANNOT_WRITE) from err
    finally:
        if probe is not None:
            with contextlib.suppress(OSError):
                os.unlink(probe)
    for path in existing:
        if path.exists() and not os.access(path, os.W_OK):
            raise _CommandError(
                f"cannot write {_q(path)}: it is read-only; make it writable or choose "
                "another --out",
                EXIT_CANNOT_WRITE,
            )


def _check_out_folder(
    args: argparse.Namespace,
    files: Sequence[str],
    *,
    bundle: str | None = None,
    force: bool | None = None,
) -> None:
    """Check an output folder before any work.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line, with ``out`` and the inputs.
    files : sequence of str
        Names of the files the command writes into the folder.
    bundle : str, optional
        Name of the model bundle folder the command writes into it.
    force : bool, optional
        ``--force``; ``None`` when the command writes only ``files`` and does
        not check the rest of the folder.
    """
    out: Path = args.out
    targets = [out / name for name in files]
    if bundle is not None:
        targets.append(out / bundle)
    _check_not_an_input(out, targets, args)
    if out.exists() and not out.is_dir():
        raise _CommandError(
            f"--out {_q(out)} is a file, but custintel {args.command} writes a folder of "
            "outputs; name a new or existing folder as --out",
            EXIT_CANNOT_WRITE,
        )
    for target in targets:
        wanted_folder = bundle is not None and target.name == bundle
        if target.exists() and target.is_dir() != wanted_folder:
            kind, what = (
                ("a file", "the model bundle folder") if wanted_folder else ("a folder", "the file")
            )
            raise _CommandError(
                f"{_q(target)} is {kind}, but custintel {args.command} writes {what} "
                f"{target.name} there; move it away or choose another --out",
                EXIT_CANNOT_WRITE,
            )
    if force is False and out.is_dir():
        _check_only_ours(args, files, bundle)
    _check_writable(out, out, [t for t in targets if t.is_file()])


def _check_only_ours(args: argparse.Namespace, files: Sequence[str], bundle: str | None) -> None:
    """Refuse an --out folder holding anything the command did not write (without --force)."""
    from custintel.pipeline import is_bundle  # the test the bundle save uses

    out: Path = args.out
    with _writing(out, args):
        ours = {*files, *([bundle] if bundle else [])}
        foreign = sorted(
            p.name
            for p in out.iterdir()
            if p.name not in ours and not p.name.startswith(_SCRATCH_PREFIXES)
        )
        damaged: Path | None = None
        if bundle is not None:
            folder = out / bundle
            if folder.is_dir() and any(folder.iterdir()) and not is_bundle(folder):
                damaged = folder
    replaced = ", ".join([*files, *([f"{bundle}/"] if bundle else [])])
    if foreign:
        shown = ", ".join(foreign[:5])
        if len(foreign) > 5:
            shown += f" and {len(foreign) - 5} more"
        raise _CommandError(
            f"--out {_q(out)} holds files that custintel {args.command} did not write "
            f"({shown}); choose a new or empty folder, or add --force to write into it "
            f"(only {replaced} are replaced, other files are kept)",
            EXIT_CANNOT_WRITE,
        )
    if damaged is not None:
        raise _CommandError(
            f"{_q(damaged)} is not a custintel model bundle; choose another --out, or add "
            "--force to write the bundle into it (its other files are kept)",
            EXIT_CANNOT_WRITE,
        )


def _check_out_file(args: argparse.Namespace) -> None:
    """Check the output file of ``score`` before any work."""
    out: Path = args.out
    _check_not_an_input(out, [out], args)
    if out.is_dir():
        raise _CommandError(
            f"--out {_q(out)} is a folder; name the output file, e.g. "
            f"--out {shlex.quote(str(out / 'scores.parquet'))}",
            EXIT_CANNOT_WRITE,
        )
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise _CommandError(
            f"--out {_q(out)} must end in .csv or .parquet, which sets the output format",
            EXIT_BAD_INPUT,
        )
    _check_writable(out, out.parent, [out])


# --- writing: temporary name, rename when complete, one line for an OSError -----------------

_WRITE_FIXES = {
    errno.ENOSPC: "free space or choose another --out",
    getattr(errno, "EDQUOT", errno.ENOSPC): "free space (the disk quota is used up) or choose "
    "another --out",
    errno.EACCES: "make it writable or choose another --out",
    errno.EPERM: "make it writable or choose another --out",
    errno.EROFS: "choose an --out on a writable file system",
    errno.ENAMETOOLONG: "choose a shorter --out",
}
_ERRNO_IN_TEXT = re.compile(r"\[errno (\d+)\]", re.IGNORECASE)


def _cannot_write(path: Path, err: OSError) -> str:
    """One line for an OSError while writing ``path``: what failed and the fix."""
    code = err.errno
    if code is None:  # pyarrow's OSError carries the errno in its text only
        found = _ERRNO_IN_TEXT.search(str(err))
        code = int(found[1]) if found else None
    if err.strerror:
        reason = err.strerror
    elif code is not None:
        reason = os.strerror(code)
    elif isinstance(err, FileExistsError):  # the bundle's refusal to overwrite: a full message
        return str(err)
    else:
        reason = str(err)
    fix = _WRITE_FIXES.get(code or 0, "choose another --out")
    return f"cannot write {_q(path)}: {reason}; {fix}"


def _os_error(err: OSError, target: Path, args: argparse.Namespace) -> Exception:
    """Turn an OSError raised while writing ``target`` into the error the user should see.

    Scoring reads the bundle and the input inside the write; an error on one
    of those files is about that input, and an error in the system's scratch
    folder (the bucket files) is about that folder, not about ``--out``.
    """
    from custintel.exceptions import InvalidModelError, SchemaError

    if isinstance(err.filename, str | bytes):
        where = Path(os.fsdecode(err.filename)).resolve()
        reason = err.strerror or str(err)
        for label, path in _inputs(args):
            if not _within(where, path.resolve()):
                continue
            if label == "the --models bundle":
                return InvalidModelError(
                    f"cannot read the model bundle {_q(path)}: {reason} ({_q(where)}); the "
                    "bundle is incomplete, write it again with custintel report",
                    reason="unreadable_bundle",
                )
            return SchemaError(f"cannot read {label} {_q(path)}: {reason}", reason="unreadable")
        scratch = Path(tempfile.gettempdir()).resolve()
        if _within(where, scratch) and not _same(where.parent, target.resolve().parent):
            return _CommandError(
                f"cannot write temporary files in {_q(scratch)}: {reason}; free space there or "
                "set TMPDIR to a folder with room",
                EXIT_CANNOT_WRITE,
            )
    return _CommandError(_cannot_write(target, err), EXIT_CANNOT_WRITE)


@contextlib.contextmanager
def _writing(target: Path, args: argparse.Namespace) -> Iterator[None]:
    """Report an OSError in the block as one line about ``target`` (exit code 4)."""
    try:
        yield
    except OSError as err:
        raise _os_error(err, target, args) from err


@contextlib.contextmanager
def _replacing(target: Path, args: argparse.Namespace) -> Iterator[Path]:
    """Yield a temporary name next to ``target``; rename it over ``target`` when the block ends.

    A failed write leaves ``target`` as it was and removes the temporary file.
    The temporary name keeps the suffix, which sets the format of some writers.
    """
    scratch = target.with_name(f"{_SCRATCH_PREFIXES[0]}{secrets.token_hex(4)}-{target.name}")
    try:
        with _writing(target, args):
            yield scratch
            os.replace(scratch, target)
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)


def _write(target: Path, args: argparse.Namespace, write: Callable[[Path], object]) -> Path:
    """Write one output file through a temporary name; returns ``target``."""
    with _replacing(target, args) as scratch:
        write(scratch)
    return target


def _make_folder(folder: Path, args: argparse.Namespace) -> None:
    with _writing(folder, args):
        folder.mkdir(parents=True, exist_ok=True)


# --- the commands ---------------------------------------------------------------------------


def _summarize(args: argparse.Namespace) -> int:
    import pandas as pd

    from custintel.features import summarize_customers
    from custintel.schema import TransactionSchema, validated_transactions

    out: Path = args.out
    mapping = _mapping(args)
    _check_out_folder(args, SUMMARY_OUTPUTS)
    if args.demo:
        from custintel.datasets import load_cdnow

        tx = load_cdnow()
        source = "bundled CDNOW data (Fader & Hardie)"
    else:
        tx = _read_transactions(args.input, mapping, args)
        source = str(args.input)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Clean once with every policy, then summarise the clean purchases.
        validated = validated_transactions(
            tx,
            TransactionSchema(**mapping),
            observation_end=args.observation_end,
            **_cleaning(args),
        )
        summary = summarize_customers(
            validated.frame,
            observation_end=args.observation_end,
            time_unit=args.time_unit,
            refunds="net",  # what is left after the refunds policy counts as it stands
            duplicates="keep",  # already handled above
        )
    _make_folder(out, args)
    written = [_write(out / "customers.csv", args, summary.to_csv)]
    with contextlib.suppress(ImportError):  # no pyarrow: CSV only
        written.append(_write(out / "customers.parquet", args, summary.to_parquet))

    end = summary.attrs["observation_end"]
    print(f"custintel {__version__}: customer summary of {source}")
    print(f"{len(tx):,} transactions, {len(summary):,} customers, observed until {end}")
    _print_notes([*_quality_notes(validated), *(str(w.message) for w in caught)], args)
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


def _cleaning(args: argparse.Namespace) -> dict[str, Any]:
    """Return the cleaning policies of the command line as keyword arguments."""
    return {
        "refunds": args.refunds,
        "unmatched_refunds": args.unmatched_refunds,
        "missing_ids": args.missing_ids,
        "exclude_items": args.exclude_items,
        "duplicates": args.duplicates,
    }


def _quality_notes(holder: Any) -> list[str]:
    """Return the data-quality ledger's sentences, from validation or a fitted result.

    Both hold the ledger as ``.quality`` (``None`` when none was recorded); a result's
    ``data_quality`` is its list of notes, printed separately.
    """
    quality = holder.quality
    return [] if quality is None else list(quality.notes())


def _print_notes(messages: Sequence[str], args: argparse.Namespace, **print_args: Any) -> None:
    """Print each message once as a ``note:`` line, its hints in command-line terms."""
    for message in dict.fromkeys(messages):
        print(f"note: {_as_options(message, args)}", **print_args)


def _demo_transactions() -> pd.DataFrame:
    from custintel.datasets import make_transactions

    # Four years of history, so the churn backtest (2 x 365 days) has room.
    return make_transactions(
        DEMO_CUSTOMERS, start="2021-01-01", acquisition_days=365, random_state=0
    ).transactions


def _report(args: argparse.Namespace) -> int:
    from custintel.pipeline import CustomerIntelligence, output_frame
    from custintel.schema import TransactionSchema

    out: Path = args.out
    mapping = _mapping(args)
    _check_out_folder(
        args, (*REPORT_OUTPUTS, *ACTION_LISTS), bundle=REPORT_BUNDLE, force=args.force
    )
    if args.demo:
        tx = _demo_transactions()
        source = f"simulated data (make_transactions, {DEMO_CUSTOMERS:,} customers)"
    else:
        tx = _read_transactions(args.input, mapping, args)
        source = str(args.input)
    ci = CustomerIntelligence(
        TransactionSchema(**mapping),
        horizon=args.horizon,
        observation_end=args.observation_end,
        discount_rate=args.discount_rate,
        margin=args.clv_margin,
        min_support=args.min_support,
        penalizer=args.penalizer,
        clv_covariates=args.clv_covariates,
        n_jobs=args.n_jobs,
        max_rules=args.max_rules,
        max_basket_size=args.max_basket_size,
        early_life_days=args.early_life_days,
        currency=args.currency,
        verbose=not args.quiet,
        **_cleaning(args),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # collected in ci.data_quality_ and printed below
        # Validation makes a sorted copy; the raw frame goes before the other steps run.
        log = ci.validate(tx)
        del tx
        _release_freed_memory()
        ci.fit(log)
        del log
    started = time.perf_counter()
    _make_folder(out, args)
    customers = output_frame(ci.customers_)
    written = [_write(out / "customers.csv", args, customers.to_csv)]
    try:
        written.append(_write(out / "customers.parquet", args, customers.to_parquet))
    except ImportError:
        ci.data_quality_.append(
            "customers.parquet not written: install pyarrow (pip install 'custintel[parquet]')"
        )
    if ci.rules_ is not None:
        rules = ci.rules_.copy()
        sides = ("antecedents", "consequents", "antecedent_names", "consequent_names")
        for column in (c for c in sides if c in rules.columns):
            rules[column] = rules[column].map(lambda items: " & ".join(map(str, items)))
        written.append(_write(out / "rules.csv", args, lambda p: rules.to_csv(p, index=False)))
    elif (out / "rules.csv").is_file():
        # An earlier run's rules would read as this data's: this run has none.
        with _writing(out / "rules.csv", args):
            (out / "rules.csv").unlink()
        ci.data_quality_.append(
            "rules.csv of an earlier run was removed: this data has no baskets to mine"
        )
    with _writing(out / REPORT_BUNDLE, args):
        # The bundle save is atomic itself and keeps files it did not write.
        ci.save(out / REPORT_BUNDLE, overwrite=args.force)
    written.append(out / REPORT_BUNDLE)
    from custintel.report import building_action_lists_once

    with building_action_lists_once():  # the report and the CSV files share the lists
        report_path = _write_report(ci, out / "report.html", args)
        if report_path is not None:
            written.append(report_path)
        written.extend(_write_action_lists(ci, out, args))
    logging.getLogger("custintel").debug("outputs written in %.1f s", time.perf_counter() - started)

    overview = ci.overview_
    chosen = ci.clv_selection_.index[ci.clv_selection_["chosen"]][0]
    print(f"custintel {__version__}: customer intelligence report of {source}")
    print(
        f"{overview['n_rows']:,} transactions, {overview['n_customers']:,} customers, "
        f"{overview['first_date'].date()} to {ci.observation_end_.date()}; "
        f"horizon {ci.horizon_} days"
    )
    _print_notes([*_quality_notes(ci.result_), *ci.data_quality_], args)
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


def _release_freed_memory() -> None:
    """Hand memory freed with the raw frame back to the system.

    A frame read from Parquet (or by pyarrow's CSV reader) lives in Arrow's
    memory pool, which keeps freed pages for Arrow's next allocation; the
    steps after validation allocate through numpy, never from that pool, so
    without this the 10M-row job kept about 1 GB it no longer used.
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


def _write_action_lists(ci: Any, out: Path, args: argparse.Namespace) -> list[Path]:
    """Write the per-segment action lists next to the report; remove an earlier run's others.

    ``custintel.report.write_action_lists`` writes into a scratch folder in
    ``out``; each file is then renamed into ``out``, so a failed run leaves
    the previous lists as they were.
    """
    import custintel.report

    write_lists = getattr(custintel.report, "write_action_lists", None)
    if write_lists is None:
        return []
    scratch = out / f"{_SCRATCH_PREFIXES[0]}{secrets.token_hex(4)}-actions"
    written: list[Path] = []
    try:
        with _writing(out, args):
            scratch.mkdir()
            produced = [Path(p) for p in write_lists(ci.result_, scratch)]
        for path in produced:
            target = out / path.name
            with _writing(target, args):
                os.replace(path, target)
            written.append(target)
        for name in ACTION_LISTS:
            stale = out / name
            if stale not in written and stale.is_file():
                # An earlier run's list of a segment this data does not have.
                with _writing(stale, args):
                    stale.unlink()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written


def _write_report(ci: Any, path: Path, args: argparse.Namespace) -> Path | None:
    try:
        from custintel.report import write_report
    except ImportError:
        ci.data_quality_.append("report.html not written: custintel.report is not installed")
        return None
    try:
        return _write(path, args, lambda scratch: write_report(ci, scratch))
    except ImportError as err:  # matplotlib (the "plot" extra) is missing
        ci.data_quality_.append(f"report.html not written: {err}")
        return None


def _as_of(args: argparse.Namespace) -> str | None:
    """Return the day to score at; ``--observation-end`` is the old name of ``--as-of``."""
    as_of: str | None = args.as_of
    old: str | None = args.observation_end
    if old is None:
        return as_of
    if as_of is not None and as_of != old:
        raise _CommandError(
            f"--as-of {as_of} and --observation-end {old} disagree; "
            "--observation-end is the old name of --as-of, give only --as-of",
            EXIT_BAD_INPUT,
        )
    print("note: --observation-end is deprecated; use --as-of", file=sys.stderr)
    return old


def _score(args: argparse.Namespace) -> int:
    from custintel.pipeline import score_file

    out: Path = args.out
    as_of = _as_of(args)
    _check_out_file(args)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _make_folder(out.parent, args)
        with _replacing(out, args) as scratch:
            n = score_file(
                args.models,
                args.input,
                scratch,
                as_of=as_of,
                trusted=args.trust_bundle,
                rows_per_bucket=args.rows_per_bucket,
                read_options=_reading(args),
                progress=not args.quiet,
            )
    _print_notes([str(w.message) for w in caught], args, file=sys.stderr)
    if not args.quiet:
        print(
            f"custintel: scored {n:,} customers in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    print(f"written: {out}")
    return EXIT_OK


_COMMANDS = {"summarize": _summarize, "report": _report, "score": _score}


def _fail(message: str, code: int, args: argparse.Namespace) -> int:
    print(f"custintel: error: {_as_options(message, args)}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``custintel`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 on success; 2 when the input data or options are
        unusable; 3 when a model bundle is refused; 4 when an output cannot
        be written. A usage error exits with 2 through argparse; an unexpected
        internal error propagates (exit code 1 with a traceback).
    """
    args = _build_parser().parse_args(argv)
    # Parsed: now the command runs, and its errors need the library's exception types.
    from custintel.exceptions import InvalidModelError, SchemaError

    try:
        return _COMMANDS[args.command](args)
    except _CommandError as err:
        return _fail(str(err), err.code, args)
    except InvalidModelError as err:
        return _fail(str(err), EXIT_BAD_MODEL, args)
    except SchemaError as err:
        if err.reason in _BUNDLE_REASONS:
            return _fail(str(err), EXIT_BAD_MODEL, args)
        _fail(str(err), EXIT_BAD_INPUT, args)
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
        return _fail(str(err), EXIT_BAD_INPUT, args)
    except ImportError as err:
        # An optional dependency is missing, e.g. pyarrow for Parquet files.
        return _fail(str(err), EXIT_BAD_INPUT, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
