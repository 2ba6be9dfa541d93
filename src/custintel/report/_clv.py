"""Section 5: customer lifetime value: distribution, tracking plot and holdout error."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custintel.pipeline import IntelligenceResult
from custintel.plotting import plot_calibration_vs_holdout, plot_clv_distribution
from custintel.report import _format as fmt
from custintel.report._document import (
    Section,
    figure,
    guarded,
    heading,
    kpis,
    note,
    paragraph,
    table,
)


class _Predictions:
    """A purchase model stand-in that returns the stored holdout predictions."""

    def predict_purchases(self, X: pd.DataFrame, *, t: float) -> pd.Series:
        return X["predicted_holdout"]


def _chosen(selection: Any) -> str | None:
    if isinstance(selection, pd.DataFrame) and "chosen" in selection.columns:
        picked = selection.index[selection["chosen"].astype(bool)]
        if len(picked):
            return str(picked[0])
    return None


def clv_basis(result: IntelligenceResult, horizon: int | None, chosen: str | None) -> str:
    """Say what the CLV figures rest on: margin, discount rate, horizon, currency, model.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> result = NS(customers=NS(margin=1.0, overview={"has_costs": False}),
    ...             discount_rate=0.1, currency="GBP", clv=NS(penalizer=0.0))
    >>> clv_basis(result, 365, "BG/NBD")  # doctest: +NORMALIZE_WHITESPACE
    'Basis: revenue, not profit (margin 100%: no cost column is mapped); annual discount
     rate 10%; horizon 365 days; amounts in GBP; purchase model BG/NBD with Gamma-Gamma
     spend.'
    """
    margin = getattr(result.customers, "margin", None)
    overview = getattr(result.customers, "overview", {}) or {}
    if margin is None:
        value = "margin unknown"
    elif overview.get("has_costs"):
        value = f"profit (margin {fmt.percent(margin)} of revenue, from the cost column)"
    elif margin >= 1.0:
        value = "revenue, not profit (margin 100%: no cost column is mapped)"
    else:
        value = f"profit at a margin of {fmt.percent(margin)} of revenue"
    parts = [f"Basis: {value}"]
    rate = getattr(result, "discount_rate", None)
    parts.append(
        f"annual discount rate {fmt.percent(rate)}" if rate is not None else "discount rate unknown"
    )
    parts.append(f"horizon {horizon} days" if horizon else "horizon unknown")
    currency = getattr(result, "currency", None) or fmt.currency_label()
    parts.append(f"amounts in {currency}" if currency else "currency not given")
    if chosen:
        model = f"purchase model {chosen} with Gamma-Gamma spend"
        penalizer = float(getattr(result.clv, "penalizer", 0.0) or 0.0)
        if penalizer:
            model += f" (penalizer {penalizer:g})"
        parts.append(model)
    return "; ".join(parts) + "."


def clv_section(result: IntelligenceResult, horizon: int | None) -> Section:
    """Build the CLV section."""
    clv = result.scores["expected_clv"].astype("float64")
    window = f"{horizon} days" if horizon else "the horizon"
    total = float(clv.sum())
    ranked = np.sort(clv.dropna().to_numpy())[::-1]
    k = int(np.ceil(0.1 * ranked.size))
    top = float(ranked[:k].sum() / total) if total > 0 and k else float("nan")
    action = (
        f"Customers are expected to bring {fmt.money(total)} over the next {window}, "
        f"{fmt.percent(top)} of it from the top 10%: cap what you spend to keep each customer "
        "at their expected CLV."
    )
    selection = result.clv.selection
    chosen = _chosen(selection)
    holdout = result.clv.holdout
    mae = None
    if isinstance(holdout, pd.DataFrame) and {"frequency_holdout", "predicted_holdout"} <= set(
        holdout.columns
    ):
        mae = float((holdout["predicted_holdout"] - holdout["frequency_holdout"]).abs().mean())
    blocks = [
        paragraph(clv_basis(result, horizon, chosen)),
        *[note(n) for n in _notes(result.clv.notes if hasattr(result.clv, "notes") else [])],
        kpis(
            [
                (f"expected CLV, next {window}", fmt.money(total)),
                ("mean per customer", fmt.money(clv.mean())),
                ("median per customer", fmt.money(clv.median())),
                ("share of the top 10%", fmt.percent(top)),
                ("purchase model", chosen or "–"),
                ("holdout error (purchases per customer)", fmt.number(mae)),
            ]
        ),
        '<div class="grid">',
        guarded(
            "The CLV distribution",
            lambda: figure(
                lambda ax: plot_clv_distribution(clv, ax=ax),
                alt="distribution of expected CLV",
                size=(5.2, 3.9),
            ),
        ),
    ]
    if mae is None:
        blocks.append(
            note("The tracking plot is not available because no holdout check was stored.")
        )
    else:
        blocks.append(guarded("The tracking plot", lambda: _tracking(holdout, chosen)))
    blocks.append("</div>")
    blocks.append(heading("Model choice on the holdout"))
    if isinstance(selection, pd.DataFrame) and not selection.empty:
        boundary = _boundary_rows(selection)
        if boundary:
            blocks.append(paragraph(_boundary_text(selection, boundary)))
        # enough decimals that the errors which decided the choice read differently
        mae_digits = fmt.telling_digits(selection["holdout_mae"])
        shown = fmt.format_frame(
            selection,
            {
                "holdout_mae": lambda v: fmt.number(v, mae_digits),
                "log_likelihood": lambda v: fmt.number(v, 1),
                "boundary": lambda v: "yes: reduces to NBD" if v is True or v == 1 else "",
                "lr_statistic": lambda v: "" if pd.isna(v) else fmt.number(v, 2),
                "lr_p_value": lambda v: "" if pd.isna(v) else fmt.number(v, 2),
                "chosen": lambda v: "yes" if bool(v) else "",
            },
        ).rename(
            columns={
                "holdout_mae": "holdout error (MAE)",
                "log_likelihood": "log-likelihood",
                "boundary": "no dropout (boundary)",
                "lr_statistic": "LR vs NBD",
                "lr_p_value": "p (LR test)",
            }
        )
        caption = (
            "Each purchase model is fitted on the calibration period; the one with the "
            "smaller holdout error is used."
        )
        if boundary:
            caption += (
                " A model at the boundary (no dropout) predicts exactly as the NBD model, so "
                "it is compared as the NBD model."
            )
        blocks.append(table(shown, caption=caption))
    else:
        blocks.append(note("The model comparison is not available because it was not stored."))
    blocks.extend(_early_life(result))
    return Section("clv", "Customer lifetime value", action, blocks)


def _early_life(result: IntelligenceResult) -> list[str]:
    """Blocks on the early-life value of new customers: who got it and why, or why not."""
    early = getattr(result, "early_life", None)
    if early is None or early.max_age_days is None:
        return []
    blocks = [heading("New customers: early-life value")]
    if not early.active:
        return blocks + [note(n) for n in early.notes]
    scores = result.scores
    value = scores["early_life_value"].astype("float64") if "early_life_value" in scores else None
    new = value.notna() if value is not None else pd.Series(False, index=scores.index)
    blocks.append(
        paragraph(
            f"Customers at most {early.max_age_days} days past their first purchase get an "
            f"early_life_value: the net revenue expected from them over the next "
            f"{early.horizon_days} days (undiscounted), read from their first order and first "
            "days by a model trained on earlier customers "
            f"({early.n_training_customers:,}). Their BTYD forecast (expected_clv) knows almost "
            "nothing about them yet: a purchase or two in a short time. Both columns are kept: "
            "rank new customers by early_life_value, and compare established ones by "
            "expected_clv."
        )
    )
    blocks.extend(note(n) for n in early.notes if n.startswith("early-life horizon"))
    if value is not None and new.any():
        blocks.append(
            kpis(
                [
                    ("new customers scored", f"{int(new.sum()):,}"),
                    (
                        f"their early-life value, next {early.horizon_days} days",
                        fmt.money(float(value[new].sum())),
                    ),
                    ("mean per new customer", fmt.money(float(value[new].mean()))),
                    (
                        "their expected CLV (BTYD: discounted, at the margin)",
                        fmt.money(float(scores.loc[new, "expected_clv"].sum())),
                    ),
                ]
            )
        )
    else:
        blocks.append(note("No customer is that new on the observation end."))
    return blocks


def _notes(notes: list[str]) -> list[str]:
    """Return the CLV notes, less the calibration boundary one the model choice explains."""
    return [
        n
        for n in notes
        if not (n.startswith("CLV: no evidence of dropout") and "calibration period" in n)
    ]


def _boundary_rows(selection: pd.DataFrame) -> list[str]:
    """Return the candidates whose fit ended at the boundary (no dropout in the window)."""
    if "boundary" not in selection.columns:
        return []
    flags = selection["boundary"].astype("boolean").fillna(False)
    return [str(name) for name in selection.index[flags.to_numpy(dtype=bool)]]


def _boundary_text(selection: pd.DataFrame, names: list[str]) -> str:
    """Say in plain words that the data show no dropout, with the likelihood-ratio test.

    Examples
    --------
    >>> selection = pd.DataFrame(
    ...     {"boundary": [True, True, False], "lr_statistic": [0.0, 0.0, float("nan")],
    ...      "lr_p_value": [1.0, 1.0, float("nan")]}, index=["BG/NBD", "Pareto/NBD", "NBD"])
    >>> print(_boundary_text(selection, ["BG/NBD", "Pareto/NBD"]))  # doctest: +ELLIPSIS
    No evidence of dropout in this window: ... BG/NBD and Pareto/NBD reduce to the NBD model ...
    """
    tests = "; ".join(
        f"{name}: LR = {fmt.number(selection.at[name, 'lr_statistic'], 2)}, "
        f"p = {fmt.number(selection.at[name, 'lr_p_value'], 2)}"
        for name in names
        if "lr_statistic" in selection.columns
    )
    return (
        "No evidence of dropout in this window: P(alive) is 1 for everyone, and forecasts "
        f"equal the NBD model's. On the calibration period {' and '.join(names)} "
        f"{'reduces' if len(names) == 1 else 'reduce'} to the NBD model (Poisson purchases "
        "with gamma-distributed rates, nobody leaves): adding dropout does not improve the "
        f"fit (likelihood-ratio test against the NBD model, {tests}; p-values from the 50:50 "
        "mixture of chi-square with 0 and 1 degrees of freedom, as the test is on the "
        "boundary). The NBD model takes their place in the model choice."
    )


def _tracking(holdout: pd.DataFrame, chosen: str | None) -> str:
    label = chosen or "model"
    if "frequency" in holdout.columns:
        frame = holdout
        if "duration_holdout" not in frame.columns:
            frame = frame.assign(duration_holdout=np.nan)

        def draw(ax: Any) -> None:
            plot_calibration_vs_holdout(_Predictions(), frame, ax=ax)
            ax.get_lines()[1].set_label(label)
            ax.legend()

        caption = "Mean holdout purchases by calibration-period purchases: actual vs predicted."
    else:
        # Without calibration frequencies, group customers by predicted purchases instead.
        ranks = holdout["predicted_holdout"].rank(method="first")
        group = np.ceil(10 * ranks / len(ranks)).astype(int)
        means = holdout.groupby(group)[["frequency_holdout", "predicted_holdout"]].mean()

        def draw(ax: Any) -> None:
            ax.plot(means.index, means["frequency_holdout"], marker="o", label="actual")
            ax.plot(means.index, means["predicted_holdout"], marker="s", ls="--", label=label)
            ax.set_xlabel("decile of predicted holdout purchases")
            ax.set_ylabel("mean purchases in the holdout")
            ax.set_title("Calibration vs holdout purchases")
            ax.legend()

        caption = "Mean holdout purchases by decile of prediction: actual vs predicted."
    return figure(
        draw,
        alt="tracking plot: actual vs predicted holdout purchases",
        caption=caption,
        size=(5.2, 3.9),
    )
