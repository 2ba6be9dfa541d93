"""Compare purchase models on a holdout period: the model choice the main job makes, in public."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custintel.exceptions import ConvergenceError, quiet

__all__ = ["ModelComparison", "compare_models"]

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


def _default_models() -> dict[str, Any]:
    from custintel.clv import BetaGeoModel, ModifiedBetaGeoModel, NBDModel, ParetoNBDModel

    return {
        "BG/NBD": BetaGeoModel(),
        "MBG/NBD": ModifiedBetaGeoModel(),
        "Pareto/NBD": ParetoNBDModel(),
        "NBD": NBDModel(),
    }


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
        Default: BG/NBD, MBG/NBD, Pareto/NBD and NBD, unpenalised.

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
    candidates = dict(_default_models() if models is None else models)
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
    table["boundary"] = table["boundary"].fillna(False).astype(bool)
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
