"""Action lists: who to contact in each actionable segment, why, and what is at stake.

:func:`action_lists` builds them from an :class:`~custintel.pipeline.IntelligenceResult`;
:func:`write_action_lists` writes one CSV file per list; the report's last
section summarises them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custintel.pipeline import IntelligenceResult
from custintel.report import _format as fmt
from custintel.report._document import Section, note, table
from custintel.report._result import result_of

__all__ = ["ACTION_COLUMNS", "ActionList", "action_lists", "actions_section", "write_action_lists"]

#: Columns of every action-list file, in this order.
ACTION_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "action",
    "reason",
    "value_at_stake",
    "value_basis",
    "revenue_to_date",
    "expected_clv",
    "value_at_risk",
    "churn_probability",
    "churn_reason",
    "days_since_last",
    "rfm_segment",
    "value_tier",
    "lifecycle_stage",
    "suggested_item",
)


@dataclass(frozen=True)
class ActionList:
    """One action list: a segment rule, what to do, and the customers it selects.

    Attributes
    ----------
    key : str
        File stem (``call-at-risk-high-value`` -> ``call-at-risk-high-value.csv``).
    title : str
        The segment in a few words.
    action : str
        What to do with them, as a verb phrase.
    rule : str
        The rule that selects them, in words.
    customers : pandas.DataFrame
        :data:`ACTION_COLUMNS`, most value at stake first.
    """

    key: str
    title: str
    action: str
    rule: str
    customers: pd.DataFrame

    @property
    def filename(self) -> str:
        """Name of the CSV file of this list."""
        return f"{self.key}.csv"


@dataclass(frozen=True)
class _Spec:
    key: str
    title: str
    action: str
    basis: str  # "risk" (falls back to "revenue" without value_at_risk), "revenue" or "clv"
    rule: Callable[[_Context], str]
    select: Callable[[_Context], pd.Series]
    reason: Callable[[_Context, pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class _Context:
    frame: pd.DataFrame  # scores joined with days_since_last and n_orders
    horizon: int | None
    churn_horizon: int | None  # the churn step's window (shorter when the history is)
    top_tiers: tuple[str, ...]
    top_share: float | None
    lapsed_after: float
    lost_after: float


def _context(result: IntelligenceResult) -> _Context:
    scores = result.scores
    summary = result.customers.summary
    frame = scores.copy()
    for column in ("days_since_last", "n_orders"):
        if column not in frame.columns and column in summary.columns:
            frame[column] = summary[column].reindex(frame.index)
    tiers = result.segments.value_tiers
    names: tuple[str, ...] = ()
    share = None
    if tiers is not None and hasattr(tiers, "summary_"):
        names = tuple(str(t) for t in tiers.summary_.index[:2])
        cuts = tuple(getattr(tiers, "cuts", ()))
        share = float(cuts[1]) if len(cuts) > 1 else None
    elif "value_tier" in frame.columns and isinstance(
        frame["value_tier"].dtype, pd.CategoricalDtype
    ):
        names = tuple(str(t) for t in frame["value_tier"].cat.categories[:2])
    lifecycle = result.segments.lifecycle
    return _Context(
        frame=frame,
        horizon=result.log.horizon,
        churn_horizon=_churn_days(result),
        top_tiers=names,
        top_share=share,
        lapsed_after=float(getattr(lifecycle, "lapsed_after", 3.0)),
        lost_after=float(getattr(lifecycle, "lost_after", 6.0)),
    )


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")


def _is(frame: pd.DataFrame, name: str, values: Sequence[str]) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[name].astype("string").isin(list(values)).fillna(False).astype(bool)


def _days(frame: pd.DataFrame) -> pd.Series:
    days = _col(frame, "days_since_last")
    return pd.Series(
        [f"last purchase {fmt.count(d)} days ago" if pd.notna(d) else "" for d in days],
        index=frame.index,
    )


def _join(*parts: pd.Series) -> pd.Series:
    """Join each row's non-empty texts with "; " (one Python pass, not a row-wise apply)."""
    columns = [p.astype(object).tolist() for p in parts]
    index = parts[0].index
    joined = [
        "; ".join(str(v) for v in row if isinstance(v, str) and v)
        for row in zip(*columns, strict=True)
    ]
    return pd.Series(joined, index=index, dtype=object)


def _churn_days(result: Any) -> int | None:
    """Return the churn window's days: the churn step's (the shorter one), else the horizon."""
    days = getattr(result.churn, "horizon", None) or result.log.horizon
    return int(days) if days else None


def _churn_window(ctx: _Context) -> str:
    return f"the next {ctx.churn_horizon} days" if ctx.churn_horizon else "the horizon"


def _window(ctx: _Context) -> str:
    return f"the next {ctx.horizon} days" if ctx.horizon else "the horizon"


# --- the lists ---------------------------------------------------------------------------


def _at_risk_rule(ctx: _Context) -> str:
    tiers = " or ".join(ctx.top_tiers) or "top two"
    share = f" (the customers making the first {fmt.percent(ctx.top_share)} of value)"
    return (
        f"value tier {tiers}{share if ctx.top_share else ''} and a churn probability of 50% or "
        f"more (probably no purchase in {_churn_window(ctx)})"
    )


def _at_risk(ctx: _Context) -> pd.Series:
    p = _col(ctx.frame, "churn_probability").astype("float64")
    return _is(ctx.frame, "value_tier", ctx.top_tiers) & (p >= 0.5).fillna(False)


def _at_risk_reason(ctx: _Context, f: pd.DataFrame) -> pd.Series:
    tier = f["value_tier"].astype(str) + " tier"
    p = pd.Series([f"{fmt.percent(v)} churn risk" for v in f["churn_probability"]], index=f.index)
    # the churn model's strongest reason for this customer, else how long they have been silent
    why = _col(f, "churn_reason").astype(object)
    days = _days(f)
    return _join(tier, p, why.where(why.map(lambda v: isinstance(v, str) and bool(v)), days))


def _lapsed_rule(ctx: _Context) -> str:
    return (
        f"lifecycle stage 'lapsed': silent for more than {ctx.lapsed_after:g} of their own usual "
        f"gaps between purchases, but not yet {ctx.lost_after:g} (then they count as lost)"
    )


def _lapsed(ctx: _Context) -> pd.Series:
    return _is(ctx.frame, "lifecycle_stage", ["lapsed"])


def _lapsed_reason(ctx: _Context, f: pd.DataFrame) -> pd.Series:
    return _join(pd.Series("lapsed", index=f.index), _days(f))


def _new_rule(ctx: _Context) -> str:
    return (
        "lifecycle stage 'new' (a single, recent purchase) or RFM segment 'New' (bought "
        "recently, once)"
    )


def _new(ctx: _Context) -> pd.Series:
    return _is(ctx.frame, "lifecycle_stage", ["new"]) | _is(ctx.frame, "rfm_segment", ["New"])


def _new_reason(ctx: _Context, f: pd.DataFrame) -> pd.Series:
    first = _days(f).str.replace("last purchase", "first purchase", regex=False)
    clv = pd.Series(
        [f"expected CLV {fmt.money(v)}" if pd.notna(v) else "" for v in _col(f, "expected_clv")],
        index=f.index,
    )
    # the early-life model's forecast, for customers young enough to have one
    early = pd.Series(
        [
            f"early-life value {fmt.money(v)}" if pd.notna(v) else ""
            for v in _col(f, "early_life_value").astype("float64")
        ],
        index=f.index,
    )
    return _join(first, clv, early)


def _champions_rule(ctx: _Context) -> str:
    return "RFM segment 'Champions': bought recently, often and for the most"


def _champions(ctx: _Context) -> pd.Series:
    return _is(ctx.frame, "rfm_segment", ["Champions"])


def _champions_reason(ctx: _Context, f: pd.DataFrame) -> pd.Series:
    orders = pd.Series(
        [f"{fmt.count(n)} orders" if pd.notna(n) else "" for n in _col(f, "n_orders")],
        index=f.index,
    )
    spent = pd.Series([f"{fmt.money(v)} to date" for v in _col(f, "total_amount")], index=f.index)
    return _join(orders, spent, _days(f))


def _loyal_rule(ctx: _Context) -> str:
    return "RFM segment 'Loyal' or 'Potential Loyalist' with a cross-sell recommendation"


def _loyal(ctx: _Context) -> pd.Series:
    has = _col(ctx.frame, "recommendation_1").notna()
    return _is(ctx.frame, "rfm_segment", ["Loyal", "Potential Loyalist"]) & has


def _loyal_reason(ctx: _Context, f: pd.DataFrame) -> pd.Series:
    seg = "RFM " + f["rfm_segment"].astype(str)
    item = "recommend " + f["recommendation_1"].astype(str)
    return _join(seg, item)


_SPECS: tuple[_Spec, ...] = (
    _Spec(
        "call-at-risk-high-value",
        "At risk, high value",
        "call",
        "risk",
        _at_risk_rule,
        _at_risk,
        _at_risk_reason,
    ),
    _Spec(
        "win-back-lapsed", "Lapsed", "win back", "revenue", _lapsed_rule, _lapsed, _lapsed_reason
    ),
    _Spec("onboard-new", "New", "onboard", "clv", _new_rule, _new, _new_reason),
    _Spec(
        "reward-champions",
        "Champions",
        "reward",
        "clv",
        _champions_rule,
        _champions,
        _champions_reason,
    ),
    _Spec(
        "cross-sell-loyal",
        "Loyal, with a recommendation",
        "recommend the suggested item",
        "clv",
        _loyal_rule,
        _loyal,
        _loyal_reason,
    ),
)


def action_lists(result: Any) -> list[ActionList]:
    """Build the action lists of a fitted run: who to contact, why, and the value at stake.

    Parameters
    ----------
    result : CustomerIntelligence or IntelligenceResult
        A fitted ``CustomerIntelligence`` (its :attr:`result_`) or its result.

    Returns
    -------
    list of ActionList
        In this order (a customer may be on more than one list):

        - ``call-at-risk-high-value``: call them; the two best value tiers
          with a churn probability of 50% or more;
        - ``win-back-lapsed``: win them back; lifecycle stage ``lapsed``;
        - ``onboard-new``: onboard them; lifecycle stage ``new`` or RFM ``New``;
        - ``reward-champions``: reward them; RFM ``Champions``;
        - ``cross-sell-loyal``: recommend the suggested item; RFM ``Loyal``
          or ``Potential Loyalist`` with a recommendation.

        ``value_at_stake`` is the expected loss (``value_at_risk``: churn
        probability × expected CLV over the horizon) for the first list, the
        revenue to date for the lapsed (what a lost customer took away) and
        the expected CLV over the horizon for the others (what keeping them
        brings); ``value_basis`` says which, and every list is sorted by it,
        largest first. The first list's reason carries the churn model's
        strongest reason for the customer (``churn_reason``).

    Raises
    ------
    ValueError
        When ``result`` is not a fitted run.
    """
    res = result_of(result)
    if _BUILT is None:
        return _build_lists(res)
    if id(res) not in _BUILT:
        _BUILT[id(res)] = (res, _build_lists(res))
    # copies: a caller who edits one list must not change what the next caller gets
    return [dataclasses.replace(a, customers=a.customers.copy()) for a in _BUILT[id(res)][1]]


#: Lists built inside :func:`building_action_lists_once`, by ``id`` of their result
#: (the result is kept with them, so the id cannot be reused meanwhile).
_BUILT: dict[int, tuple[Any, list[ActionList]]] | None = None


@contextlib.contextmanager
def building_action_lists_once() -> Iterator[None]:
    """Build each result's action lists once while this context is open.

    ``write_report`` (its actions section) and :func:`write_action_lists`
    both need the lists; ``custintel report`` writes both inside this
    context, so the lists of a 520,000-customer run are built once. Outside
    it every call builds them afresh, so a result edited in place between
    calls is never answered from a stale copy.

    Examples
    --------
    >>> with building_action_lists_once():
    ...     pass
    """
    global _BUILT
    outer = _BUILT
    _BUILT = {} if outer is None else outer
    try:
        yield
    finally:
        _BUILT = outer


def _build_lists(res: Any) -> list[ActionList]:
    ctx = _context(res)
    window = _window(ctx)
    out = []
    for spec in _SPECS:
        mask = spec.select(ctx).reindex(ctx.frame.index, fill_value=False).astype(bool)
        chosen = ctx.frame.loc[mask.to_numpy()]
        revenue = _col(chosen, "total_amount").astype("float64")
        clv = _col(chosen, "expected_clv").astype("float64")
        risk = _col(chosen, "value_at_risk").astype("float64")
        kind = spec.basis
        if kind == "risk" and "value_at_risk" not in ctx.frame.columns:
            kind = "revenue"  # a result scored before value at risk existed
        at_stake, basis = {
            "risk": (
                risk,
                f"expected loss: churn probability × expected CLV over {_churn_window(ctx)}",
            ),
            "revenue": (revenue, "revenue to date"),
            "clv": (clv, f"expected CLV over {window}"),
        }[kind]
        frame = pd.DataFrame(
            {
                "customer_id": chosen.index.to_numpy(),
                "action": spec.action,
                "reason": spec.reason(ctx, chosen).reindex(chosen.index).to_numpy()
                if len(chosen)
                else np.array([], dtype=object),
                "value_at_stake": at_stake.round(2).to_numpy(),
                "value_basis": basis,
                "revenue_to_date": revenue.round(2).to_numpy(),
                "expected_clv": clv.round(2).to_numpy(),
                "value_at_risk": risk.round(2).to_numpy(),
                "churn_probability": _col(chosen, "churn_probability")
                .astype("float64")
                .round(3)
                .to_numpy(),
                "churn_reason": _col(chosen, "churn_reason").astype(object).to_numpy(),
                "days_since_last": _col(chosen, "days_since_last").to_numpy(),
                "rfm_segment": _col(chosen, "rfm_segment").astype(object).to_numpy(),
                "value_tier": _col(chosen, "value_tier").astype(object).to_numpy(),
                "lifecycle_stage": _col(chosen, "lifecycle_stage").astype(object).to_numpy(),
                "suggested_item": _col(chosen, "recommendation_1").astype(object).to_numpy(),
            },
            columns=list(ACTION_COLUMNS),
        )
        frame = frame.sort_values(
            ["value_at_stake", "customer_id"],
            ascending=[False, True],
            kind="stable",
            na_position="last",
            key=lambda s: s.astype(str) if s.name == "customer_id" else s,
        ).reset_index(drop=True)
        out.append(ActionList(spec.key, spec.title, spec.action, spec.rule(ctx), frame))
    return out


def write_action_lists(
    result: Any, folder: str | os.PathLike[str], *, overwrite: bool = False
) -> list[Path]:
    """Write one CSV file per action list into ``folder``.

    Parameters
    ----------
    result : CustomerIntelligence or IntelligenceResult
        A fitted ``CustomerIntelligence`` (its :attr:`result_`) or its result.
    folder : str or os.PathLike
        Directory to write into; created when missing. The files are
        ``call-at-risk-high-value.csv``, ``win-back-lapsed.csv``,
        ``onboard-new.csv``, ``reward-champions.csv`` and
        ``cross-sell-loyal.csv`` (see :func:`action_lists`), each with the
        columns :data:`ACTION_COLUMNS` (UTF-8, comma-separated, a header
        row, amounts in the data's currency without a symbol). A list with
        nobody on it is a file with the header only, so the layout never
        changes.
    overwrite : bool, default=False
        Replace files of those names that already exist. By default an
        existing one is an error and nothing is written. Other files in the
        folder are never touched.

    Returns
    -------
    list of pathlib.Path
        The files written, in list order.

    Raises
    ------
    FileExistsError
        When a file to write exists and ``overwrite`` is False.
    ValueError
        When ``result`` is not a fitted run.

    Examples
    --------
    Only a fitted run has action lists:

    >>> from types import SimpleNamespace
    >>> write_action_lists(SimpleNamespace(), "actions")
    Traceback (most recent call last):
    ...
    ValueError: write_report needs a fitted CustomerIntelligence ...: call .fit(tx) first
    """
    lists = action_lists(result)
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise FileExistsError(
            f"{str(target)!r} is a file, not a folder: pass a folder for the action lists"
        )
    paths = [target / a.filename for a in lists]
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing)
        raise FileExistsError(
            f"{str(target)!r} already holds {names}; nothing was written. Pass overwrite=True "
            "(custintel: --force) to replace them, or choose another folder"
        )
    target.mkdir(parents=True, exist_ok=True)
    for a, path in zip(lists, paths, strict=True):
        # Written next to the target, then renamed: a reader never sees half a file.
        # A fresh name opened with "x" (never an existing file), with the usual file mode.
        tmp = target / f".{a.key}.{secrets.token_hex(6)}.tmp"
        try:
            with open(tmp, "x", encoding="utf-8", newline="") as handle:
                a.customers.to_csv(handle, index=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return paths


def actions_section(result: IntelligenceResult) -> Section:
    """Build the section summarising the action lists."""
    lists = action_lists(result)
    rows = pd.DataFrame(
        {
            "action": [a.action for a in lists],
            "customers": [len(a.customers) for a in lists],
            "value_at_stake": [float(a.customers["value_at_stake"].sum()) for a in lists],
            "value_basis": [
                a.customers["value_basis"].iloc[0]
                if len(a.customers)
                else {"risk": "expected loss", "revenue": "revenue to date"}.get(
                    s.basis, "expected CLV"
                )
                for a, s in zip(lists, _SPECS, strict=True)
            ],
            "rule": [a.rule for a in lists],
            "file": [a.filename for a in lists],
        },
        index=pd.Index([a.title for a in lists], name="list"),
    )
    first = lists[0]
    by_risk = bool(len(first.customers)) and str(first.customers["value_basis"].iloc[0]).startswith(
        "expected loss"
    )
    if len(first.customers):
        stake = fmt.money(first.customers["value_at_stake"].sum())
        action = (
            f"Call the {fmt.count(len(first.customers))} high-value customers at risk first: "
            + (
                f"together they stand to lose you {stake} in the next "
                f"{_churn_days(result_of(result))} days"
                if by_risk
                else f"they have brought {stake} to date"
            )
            + ". Every list below names who, why and what is at stake."
        )
    else:
        busiest = max(lists, key=lambda a: len(a.customers))
        action = (
            f"No high-value customer is at risk today; start with the "
            f"{fmt.count(len(busiest.customers))} on the '{busiest.title}' list "
            f"({busiest.action})."
            if len(busiest.customers)
            else "No customer falls in an action list today: review the segments instead."
        )
    blocks = [
        table(
            fmt.format_frame(rows, {"customers": fmt.count, "value_at_stake": fmt.money}).rename(
                columns={"value_at_stake": "value at stake"}
            ),
            caption="One CSV file per list (write_action_lists, or `custintel report`, which "
            "writes them next to this report). A customer may be on more than one list.",
        )
    ]
    if len(first.customers):
        top = first.customers.head(10).set_index("customer_id")
        shown = fmt.format_frame(
            top[["reason", "value_at_stake", "expected_clv"]],
            {"value_at_stake": fmt.money, "expected_clv": fmt.money},
        ).rename(
            columns={
                "value_at_stake": "expected loss" if by_risk else "revenue to date",
                "expected_clv": "expected CLV",
            }
        )
        blocks.append(
            table(
                shown,
                caption=f"Whom to call first: the top {len(shown)} of '{first.title}'"
                + (", by expected loss (churn probability × expected CLV)." if by_risk else "."),
            )
        )
    else:
        blocks.append(note("No customer is both in a top value tier and likely to churn."))
    budget = _budget_table(result_of(result).scores)
    if budget is not None:
        blocks.append(
            table(
                budget,
                caption="A retention budget: contact the customers with the largest expected "
                "loss first (any tier). 'Kept' is the share of their value at risk a campaign "
                "keeps at the response rate shown: your own rate (from a past campaign or a "
                "test group) belongs there; custintel.churn.retention_budget computes it, with "
                "a contact cost, for any number of contacts.",
            )
        )
    return Section("actions", "Action lists", action, blocks)


#: Contacts and response rates of the report's retention-budget table.
BUDGET_CONTACTS = (100, 1_000, 10_000)
BUDGET_RESPONSE_RATES = (0.1, 0.25)


def _budget_table(scores: pd.DataFrame) -> pd.DataFrame | None:
    """Value at risk covered and expected value kept for a few budgets, or None without it."""
    from custintel.churn import retention_budget

    if "value_at_risk" not in scores.columns:
        return None
    var = scores["value_at_risk"].astype("float64")
    var = var[np.isfinite(var.to_numpy()) & (var.to_numpy() > 0)]
    if not len(var):
        return None
    sizes = sorted({min(n, len(var)) for n in BUDGET_CONTACTS})
    rows = {}
    for n in sizes:
        plan = retention_budget(var, n_contacts=n, response_rate=BUDGET_RESPONSE_RATES[0])
        row = {
            "value_at_risk": fmt.money(plan.summary["value_at_risk_covered"]),
            "share_of_all": fmt.percent(plan.summary["share_covered"]),
        }
        for rate in BUDGET_RESPONSE_RATES:
            row[f"kept at {fmt.percent(rate)} response"] = fmt.money(
                rate * plan.summary["value_at_risk_covered"]
            )
        rows[f"top {fmt.count(n)}"] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "contacts"
    return out.rename(columns={"value_at_risk": "value at risk", "share_of_all": "share of all"})
