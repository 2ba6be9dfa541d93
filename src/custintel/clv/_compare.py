"""Compare purchase models on a holdout period: the model choice the main job makes, in public."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custintel.exceptions import ConvergenceError, quiet

__all__ = ["ModelComparison", "compare_models", "period_transactions"]

#: Columns a calibration/holdout table must hold.
_SPLIT_COLUMNS = ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")


@dataclass(frozen=True)
class ModelComparison:
    """Purchase models fitted on a calibration period and scored on the holdout.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model (index ``model``), best holdout MAE first:
        ``n_params``, ``log_likelihood``, ``aic``, ``bic`` (on the
        calibration customers), ``holdout_mae`` and ``holdout_rmse``
        (purchases per customer in the holdout), ``predicted_total`` and
        ``actual_total`` (holdout purchases of all customers),
        ``aggregate_error`` (predicted / actual total − 1), ``boundary``
        (the fit reduced to the no-dropout NBD model), ``error`` (why a
        model could not be fitted; empty otherwise) and ``best`` (lowest
        holdout MAE among the models that fitted).
    predictions : pandas.DataFrame
        Predicted holdout purchases per customer (rows, like the split) and
        model (columns); models that failed are left out.
    actual : pandas.Series
        ``frequency_holdout`` of the split.
    frequency : pandas.Series
        Calibration ``frequency`` of the split, to group customers by.
    """

    table: pd.DataFrame
    predictions: pd.DataFrame
    actual: pd.Series
    frequency: pd.Series

    @property
    def best(self) -> str:
        """Name of the model with the lowest holdout MAE."""
        return str(self.table.index[self.table["best"]][0])


def _default_models(split: pd.DataFrame) -> dict[str, Any]:
    from custintel.clv import (
        BetaGeoModel,
        MBGCNBDModel,
        ModifiedBetaGeoModel,
        NBDModel,
        ParetoNBDModel,
    )

    models: dict[str, Any] = {
        "BG/NBD": BetaGeoModel(),
        "MBG/NBD": ModifiedBetaGeoModel(),
        "Pareto/NBD": ParetoNBDModel(),
        "NBD": NBDModel(),
    }
    if "litt" in split.columns:  # the timing-regularity model needs the log gaps
        models["MBG/CNBD-k"] = MBGCNBDModel()
    return models


def compare_models(split: pd.DataFrame, models: Mapping[str, Any] | None = None) -> ModelComparison:
    """Fit purchase models on a calibration period and compare them on the holdout.

    This is how :class:`~custintel.pipeline.CustomerIntelligence` chooses its
    purchase model, open to any candidates: each model is fitted on the
    calibration columns of ``split``, predicts each customer's purchases over
    the holdout, and is scored against what the customer did.

    Parameters
    ----------
    split : pandas.DataFrame
        Output of :func:`~custintel.features.calibration_holdout_split`
        (``frequency``, ``recency``, ``T``, ``frequency_holdout``,
        ``duration_holdout``), in the unit the models should work in.
    models : mapping of str to purchase model, optional
        Unfitted (or fitted: they are refitted) purchase models by name.
        Default: BG/NBD, MBG/NBD, Pareto/NBD and NBD, unpenalised, and
        MBG/CNBD-k (k chosen by likelihood) when ``split`` has the ``litt``
        column of :func:`~custintel.features.add_litt`.

    Returns
    -------
    ModelComparison
        ``table`` (best first), ``predictions``, ``actual``, ``frequency``;
        plot it with :func:`custintel.plotting.plot_model_comparison`.

    Raises
    ------
    ValueError
        When ``split`` lacks a column, is empty, or ``models`` is empty or
        holds something that is not a purchase model; when no model fits.

    Notes
    -----
    AIC = 2k − 2 log L and BIC = k ln(n) − 2 log L, with k the model's
    parameters and n the calibration customers; lower is better. A model
    that fails to fit (it does not converge, or its data are refused) keeps
    its row, with the reason in ``error``; it cannot be ``best``.

    Examples
    --------
    >>> from custintel.datasets import load_cdnow
    >>> from custintel.features import calibration_holdout_split
    >>> split = calibration_holdout_split(load_cdnow(sample=True), calibration_end="1997-09-30",
    ...                                   observation_end="1998-06-30", time_unit="W",
    ...                                   duplicates="keep")
    >>> result = compare_models(split)
    >>> result.table[["n_params", "holdout_mae", "best"]].round(3)
                n_params  holdout_mae   best
    model
    Pareto/NBD         4        0.755   True
    MBG/NBD            4        0.765  False
    BG/NBD             4        0.785  False
    NBD                2        1.041  False
    """
    if not isinstance(split, pd.DataFrame):
        raise ValueError(
            f"split must be a pandas DataFrame from calibration_holdout_split, got "
            f"{type(split).__name__}"
        )
    missing = [c for c in _SPLIT_COLUMNS if c not in split.columns]
    if missing:
        raise ValueError(
            f"split lacks {missing}; build it with "
            "custintel.features.calibration_holdout_split(tx, calibration_end=...)"
        )
    if split.empty:
        raise ValueError("split has no customers: the calibration period holds no purchase")
    candidates = dict(_default_models(split) if models is None else models)
    if not candidates:
        raise ValueError("models is empty: pass at least one purchase model by name")
    for name, model in candidates.items():
        if not (hasattr(model, "fit") and hasattr(model, "predict_purchases")):
            raise ValueError(
                f"models[{name!r}] is a {type(model).__name__}, not a purchase model: pass e.g. "
                "custintel.clv.BetaGeoModel()"
            )
    duration = float(split["duration_holdout"].iloc[0])
    actual = split["frequency_holdout"].astype(np.float64)
    n = len(split)
    rows: dict[str, dict[str, Any]] = {}
    predictions: dict[str, pd.Series] = {}
    for name, model in candidates.items():
        try:
            with quiet():  # a boundary solution shows in the table, not as a warning
                fitted = model.fit(split)
        except (ConvergenceError, ValueError) as err:
            rows[name] = {"n_params": len(getattr(model, "param_names", ())), "error": str(err)}
            continue
        predicted = fitted.predict_purchases(split, t=duration).astype(np.float64)
        predictions[name] = predicted
        k = len(fitted.params_)
        loglik = float(fitted.log_likelihood_)
        residual = predicted.to_numpy() - actual.to_numpy()
        rows[name] = {
            "n_params": k,
            "log_likelihood": loglik,
            "aic": 2 * k - 2 * loglik,
            "bic": k * math.log(n) - 2 * loglik,
            "holdout_mae": float(np.mean(np.abs(residual))),
            "holdout_rmse": float(np.sqrt(np.mean(residual**2))),
            "predicted_total": float(predicted.sum()),
            "actual_total": float(actual.sum()),
            "aggregate_error": float(predicted.sum() / actual.sum() - 1)
            if actual.sum()
            else math.nan,
            "boundary": bool(getattr(fitted, "boundary_", False)),
            "error": "",
        }
    if not predictions:
        reasons = "; ".join(f"{name}: {row['error']}" for name, row in rows.items())
        raise ValueError(f"no model could be fitted on the calibration period ({reasons})")
    columns = [
        "n_params",
        "log_likelihood",
        "aic",
        "bic",
        "holdout_mae",
        "holdout_rmse",
        "predicted_total",
        "actual_total",
        "aggregate_error",
        "boundary",
        "error",
    ]
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    table["n_params"] = table["n_params"].astype(np.int64)
    table["boundary"] = table["boundary"].eq(True)  # NaN (model failed) is not a boundary
    table["error"] = table["error"].fillna("").astype(object)
    table = table.sort_values("holdout_mae", kind="stable", na_position="last")
    table["best"] = False
    table.iloc[0, table.columns.get_loc("best")] = True
    table.index.name = "model"
    order = [name for name in table.index if name in predictions]
    return ModelComparison(
        table=table,
        predictions=pd.DataFrame({name: predictions[name] for name in order}, index=split.index),
        actual=actual,
        frequency=split["frequency"],
    )


def period_transactions(
    model: Any,
    X: pd.DataFrame,
    *,
    max_frequency: int = 7,
    n_draws: int = 10,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Count customers by number of repeat purchases: observed against simulated from the model.

    The classic in-sample check of a purchase model (lifetimes'
    ``plot_period_transactions``): the fitted model simulates one customer
    for each customer of ``X``, observed for the same ``T``, and the
    customers are counted by their number of repeat purchases.

    Parameters
    ----------
    model : purchase model
        A fitted BG/NBD, MBG/NBD, Pareto/NBD, NBD or BG/BB model.
    X : pandas.DataFrame
        The customer table the model was fitted on (``frequency``, ``T``, in
        the model's unit).
    max_frequency : int, default=7
        Counts from this many repeat purchases on are pooled in the last row.
    n_draws : int, default=10
        Simulations averaged, so the simulated counts are expectations rather
        than one noisy draw.
    random_state : int, numpy.random.Generator or None, default=0
        Seed.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``repeat_purchases`` 0 .. ``max_frequency`` (the last one
        meaning "or more"): ``observed`` and ``simulated`` (mean over the draws)
        numbers of customers.

    Raises
    ------
    ValueError
        For a model that is not fitted or cannot simulate, or an ``X``
        without ``frequency`` and ``T``.

    Examples
    --------
    >>> from custintel.clv import BetaGeoModel
    >>> from custintel.datasets import load_cdnow_summary
    >>> X = load_cdnow_summary()
    >>> table = period_transactions(BetaGeoModel().fit(X), X, max_frequency=3)
    >>> table["observed"].tolist()
    [1411, 439, 214, 293]
    >>> bool((table["simulated"] - table["observed"]).abs().max() < 60)
    True
    """
    if not hasattr(model, "sample") or not hasattr(model, "params_"):
        raise ValueError(
            f"model must be a fitted purchase model (e.g. BetaGeoModel().fit(X)), got "
            f"{type(model).__name__}"
            + ("" if hasattr(model, "sample") else " (it cannot simulate)")
        )
    missing = [c for c in ("frequency", "T") if c not in getattr(X, "columns", ())]
    if missing:
        raise ValueError(f"X lacks {missing}: pass the customer table the model was fitted on")
    if (
        isinstance(max_frequency, bool)
        or not isinstance(max_frequency, (int, np.integer))
        or max_frequency < 1
    ):
        raise ValueError(f"max_frequency must be a whole number >= 1, got {max_frequency!r}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws must be a whole number >= 1, got {n_draws!r}")
    top = int(max_frequency)
    lengths = X["T"].to_numpy(dtype=np.float64)
    observed = np.bincount(
        np.minimum(X["frequency"].to_numpy(dtype=np.int64), top), minlength=top + 1
    )
    rng = np.random.default_rng(random_state)
    simulated = np.zeros(top + 1)
    for _ in range(int(n_draws)):
        draw = model.sample(len(X), T=lengths, random_state=rng)
        simulated += np.bincount(
            np.minimum(draw["frequency"].to_numpy(dtype=np.int64), top), minlength=top + 1
        )
    return pd.DataFrame(
        {"observed": observed, "simulated": simulated / int(n_draws)},
        index=pd.RangeIndex(top + 1, name="repeat_purchases"),
    )
