"""Section 4: churn risk: the out-of-time backtest, gains, calibration and risk deciles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custintel.churn import btyd_survival, gains_table
from custintel.pipeline import IntelligenceResult
from custintel.plotting import plot_calibration_curve, plot_customer_survival, plot_gains
from custintel.report import _format as fmt
from custintel.report._document import Section, figure, guarded, heading, kpis, note, table

#: The model whose scores fill ``churn_probability``; headlined when the backtest has it.
MAIN_MODEL = "ChurnClassifier"


def risk_deciles(customers: pd.DataFrame) -> pd.DataFrame:
    """Tabulate customers by churn-risk decile (1 = riskiest).

    Parameters
    ----------
    customers : pandas.DataFrame
        The per-customer output with ``churn_probability`` (and, when
        present, ``total_amount`` and ``expected_clv``).

    Returns
    -------
    pandas.DataFrame
        One row per decile: ``customers``, ``mean_churn_probability``,
        ``revenue`` to date and ``expected_clv``, when those columns exist.
    """
    p = customers["churn_probability"].astype("float64")
    known = p.notna().to_numpy()
    frame = customers.loc[known]
    order = np.argsort(-p[known].to_numpy(), kind="stable")
    decile = np.empty(len(order), dtype=np.int64)
    decile[order] = np.arange(len(order)) * 10 // max(len(order), 1) + 1
    grouped = frame.assign(risk_decile=decile).groupby("risk_decile")
    out = pd.DataFrame({"customers": grouped.size()})
    out["mean_churn_probability"] = grouped["churn_probability"].mean()
    for column in ("total_amount", "expected_clv"):
        if column in frame.columns:
            out[column] = grouped[column].sum()
    return out


def churn_window(result: IntelligenceResult, horizon: int | None) -> int | None:
    """Days of the churn window the model predicts: the churn step's, else ``horizon``."""
    days = getattr(result.churn, "horizon", None)
    return int(days) if days else horizon


def churn_headline(result: IntelligenceResult, horizon: int | None) -> str:
    """Return the churn section's one line, or why it gives no churn number.

    A churn headline is given only when the model was tested out of time:
    an untested model's share of "likely churners" is not a number to act
    on, and read next to the segments it can contradict them.
    """
    bt = result.churn.backtest
    if bt is None:
        skipped = [n for n in result.churn.notes if n.startswith("churn backtest skipped")]
        reason = (
            skipped[0].removeprefix("churn backtest skipped: ")
            if skipped
            else ("the history is too short for an out-of-time backtest")
        )
        return (
            "No churn headline: the churn model could not be tested out of time, so its "
            f"scores are not reliable enough to act on ({reason})."
        )
    name = MAIN_MODEL if MAIN_MODEL in bt.metrics.index else str(bt.metrics.index[0])
    row = bt.metrics.loc[name]
    lift = float(row["top_decile_lift_churn"])
    days = churn_window(result, horizon)
    within = f" within {days} days" if days else ""
    if lift >= 1.2:
        return (
            f"Targeting the 10% riskiest customers reaches {fmt.ratio(lift)} as many "
            f"churners{within} as a random 10% (backtest AUC {fmt.number(row['roc_auc'])}): "
            "spend the retention budget on the top risk deciles."
        )
    return (
        f"The churn score barely beats random targeting in the backtest (AUC "
        f"{fmt.number(row['roc_auc'])}, top-decile lift {fmt.ratio(lift)}): do not "
        "target retention offers on it alone."
    )


def churn_section(result: IntelligenceResult, horizon: int | None) -> Section:
    """Build the churn section."""
    customers: pd.DataFrame = result.scores
    bt = result.churn.backtest
    days = churn_window(result, horizon)
    window = f"{days} days" if days else "the horizon"
    deciles = risk_deciles(customers)
    high = customers["churn_probability"] > 0.5
    at_stake = (
        customers.loc[high, "expected_clv"].sum() if "expected_clv" in customers.columns else None
    )
    action = churn_headline(result, horizon)
    blocks = []
    if bt is not None:  # untested scores get no key figures: they would read as a forecast
        blocks.append(
            kpis(
                [
                    (f"likely to churn within {window}", fmt.count(high.sum())),
                    ("share of customers", fmt.percent(high.mean())),
                    ("their expected CLV", fmt.money(at_stake)),
                ]
            )
        )
    blocks.append(heading("Out-of-time backtest"))
    if days and horizon and days < horizon:
        blocks.insert(
            0,
            note(
                f"The churn horizon was shortened from {horizon} to {days} days so it can be "
                f"tested: the history is too short to test {horizon} days out of time. Churn "
                f"here means no purchase in the next {days} days."
            ),
        )
    if bt is None:
        blocks.insert(
            0,
            note(
                "These churn scores are not validated: the history is too short for an "
                "out-of-time backtest (train at one cut-off, test at a later one), so treat "
                "them as a ranking, not a forecast."
            ),
        )
        blocks.append(
            note(
                "The backtest is not available because the history is too short: it needs two "
                "churn windows plus some history before the observation end (train, then test "
                "out of time)."
            )
        )
    else:
        blocks.append(guarded("The backtest metrics", lambda: _metrics(bt)))
        blocks.append('<div class="grid">')
        blocks.append(guarded("The gains chart", lambda: _gains(bt)))
        blocks.append(guarded("The calibration curve", lambda: _calibration(bt)))
        blocks.append("</div>")
    blocks.append(heading("Risk deciles today"))
    blocks.append(
        table(
            fmt.format_frame(
                deciles,
                {
                    "customers": fmt.count,
                    "mean_churn_probability": fmt.percent,
                    "total_amount": fmt.money,
                    "expected_clv": fmt.money,
                },
            ).rename(columns={"total_amount": "revenue to date"}),
            caption="Customers ranked by churn probability at the observation end, 1 = riskiest.",
        )
    )
    blocks.append(heading("Any horizon: how long they are likely to stay"))
    blocks.append(guarded("The survival curves", lambda: _survival(result)))
    return Section("churn", "Churn risk", action, blocks)


#: Customers drawn in the report's survival plot: the largest expected losses.
SURVIVAL_CUSTOMERS = 5
#: Days after the observation end the survival curves cover.
SURVIVAL_DAYS = np.arange(0, 731, 15)


def _survival(result: IntelligenceResult) -> str:
    """Survival curves of the customers with the largest expected loss (value at risk)."""
    scores = result.scores
    rank_by = "value_at_risk" if "value_at_risk" in scores.columns else "churn_probability"
    chosen = scores[rank_by].astype("float64").nlargest(SURVIVAL_CUSTOMERS).index
    table_ = result.customers.summary.loc[chosen, ["frequency", "recency", "T"]]
    survival = btyd_survival(result.clv.model, table_, t=SURVIVAL_DAYS)
    name = type(getattr(result.clv.model, "purchase_model_", result.clv.model)).__name__

    def draw(ax: Any) -> None:
        plot_customer_survival(survival, ax=ax)
        ax.set_title(f"P(still a customer) by days from now, from the {name}")

    return figure(
        draw,
        alt="survival curves of the customers with the largest expected loss",
        caption=f"The {len(chosen)} customers with the largest {rank_by.replace('_', ' ')}: "
        "the probability that each is still an active customer t days after the observation "
        "end, for any t (custintel.churn.btyd_survival), so a campaign can be timed without "
        "choosing one churn window. A model without dropout (NBD) keeps every curve at 1.",
        size=(6.4, 3.8),
    )


def _metrics(bt: Any) -> str:
    columns = ["roc_auc", "pr_auc", "top_decile_lift_churn", "brier", "base_rate"]
    metrics = bt.metrics[[c for c in columns if c in bt.metrics.columns]]
    shown = fmt.format_frame(
        metrics,
        {
            "roc_auc": fmt.number,
            "pr_auc": fmt.number,
            "top_decile_lift_churn": fmt.ratio,
            "brier": lambda v: fmt.number(v, 3),
            "base_rate": fmt.percent,
        },
    ).rename(columns={"top_decile_lift_churn": "top-decile lift", "base_rate": "churn rate"})
    return table(
        shown,
        caption=f"Trained at one cut-off, tested on {fmt.count(len(bt.y_test))} customers at a "
        "later one; recency and BG/NBD are baselines.",
    )


def _gains(bt: Any) -> str:
    y = bt.y_test.astype("int64")
    tables = {
        str(name): gains_table(y, bt.scores[name].fillna(bt.scores[name].median()))
        for name in bt.scores.columns
    }

    def draw(ax: Any) -> None:
        plot_gains(tables, ax=ax)
        ax.set_ylabel("share of churners captured")
        ax.set_title("Gains: churners found by targeting the riskiest first")

    return figure(draw, alt="churn gains chart", size=(5.2, 3.9))


def _calibration(bt: Any) -> str:
    probabilistic = [
        name
        for name in bt.scores.columns
        if "brier" not in bt.metrics.columns or pd.notna(bt.metrics.loc[name, "brier"])
    ]
    scores = bt.scores[probabilistic]
    keep = scores.notna().all(axis=1)

    def draw(ax: Any) -> None:
        plot_calibration_curve(bt.y_test[keep], scores[keep], ax=ax)
        ax.set_title("Calibration: predicted vs observed churn")

    return figure(draw, alt="churn calibration curve", size=(5.2, 3.9))
