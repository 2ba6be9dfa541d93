"""A fitted ChurnClassifier as plain JSON, and the scorer rebuilt from it.

The export holds everything scoring needs and nothing else: the category
codes of each categorical feature, every boosted tree as columnar node
arrays, and the calibration map of each cross-validation fold (one member
when the model was calibrated on a held-out split, ``cv="holdout"``). Reading it
back never unpickles anything, and every index the trees use is checked
before a tree is handed to scikit-learn's compiled traversal, which does no
bounds checking of its own.

Scoring formula, per fold ``k`` (``K`` folds; one member for a held-out calibration or
without calibration)::

    code_j(x)   = index of x in categories_j, or NaN when missing or unknown
    raw_k(x)    = baseline_k + sum over trees t of leaf_value_t(x)
    p_k(x)      = isotonic_k(clip(raw_k, x_min_k, x_max_k))   # linear interpolation
                | expit(-(a_k * raw_k + b_k))                    # sigmoid calibration
                | expit(raw_k)                                   # no calibration
    P(churn|x)  = (p_1 + ... + p_K) / K

A tree is walked from node 0: at a leaf return its value; a missing value
goes left when ``missing_go_to_left``; a categorical split goes left when the
code is in the node's left bitset, right when it is a known category, and
like a missing value otherwise; a numeric split goes left when
``x <= num_threshold``.

A ``model="btyd_logistic"`` classifier exports, per member, a
``btyd_logistic`` object instead of a ``booster``: the BG/NBD fit of its
training customers (``btyd``, a :class:`~custintel.clv.BetaGeoModel` export:
``params`` ``r``, ``alpha``, ``a``, ``b`` in the time unit ``time_unit_days``
= 7, i.e. weeks, and ``dropout_test`` with the nested NBD fit), the label
window ``horizon_days``, the training ``medians`` of its five features, the
scaler's ``mean`` and ``scale`` and the regression's ``coef`` and
``intercept``, in the order of ``features`` (``p_no_purchase`` first). Its
raw score replaces ``raw_k`` above (calibration then applies the same way)::

    P0(x)   = BG/NBD P(no purchase in (T, T + h]) at frequency, recency / 7, T / 7,
              h = horizon_days / 7   (formula in custintel.churn._stack)
    z_0     = logit(clip(P0, 1e-9, 1 - 1e-9))
    z_k     = sign(v) * log(1 + |v|), v = x_k or medians_k when missing (k = 1..5)
    raw_k   = intercept + sum_j coef_j * (z_j - mean_j) / scale_j
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from custintel._boosting import CompiledBooster, export_booster, json_category
from custintel.churn._stack import (
    BTYD_FEATURES,
    DAYS_PER_UNIT,
    STACK_FEATURES,
    BTYDStack,
    LinearStack,
)
from custintel.exceptions import InvalidModelError
from custintel.export import POSITIVE, ExportReader

__all__ = [
    "FORMAT_VERSION",
    "READER",
    "CompiledChurnModel",
    "export_estimator",
    "import_estimator",
]

FORMAT_VERSION = 1

#: Reads a ChurnClassifier export; every refusal names the ChurnClassifier.
READER = ExportReader(
    "ChurnClassifier export",
    fix="re-export the model with to_dict() from a fitted ChurnClassifier",
)

_MAX_MEMBERS = 1000


def _split_encoders(pipeline: Any) -> tuple[Any, Any]:
    """Return (column transformer, booster) of a ChurnClassifier "hgb" pipeline."""
    steps = list(pipeline.named_steps.values())
    if len(steps) != 2 or type(steps[1]).__name__ != "HistGradientBoostingClassifier":
        raise ValueError(
            "only ChurnClassifier(model='hgb') can be exported to JSON; "
            f"this one has steps {[type(s).__name__ for s in steps]}"
        )
    return steps[0], steps[1]


def _export_booster(pipeline: Any) -> dict[str, Any]:
    encode, boost = _split_encoders(pipeline)
    outer_names: list[str] = []
    outer_codes: dict[str, list[str | int | float | bool]] = {}
    for name, transformer, columns in encode.transformers_:
        if name == "remainder":
            continue
        outer_names.extend(str(c) for c in columns)
        if name == "cat" and len(columns):
            for column, seen in zip(columns, transformer.categories_, strict=True):
                outer_codes[str(column)] = [json_category(c) for c in seen if not pd.isna(c)]

    def compose(column: str, inner: np.ndarray) -> tuple[list[Any], list[float | None]]:
        # The booster re-encodes the outer ordinal codes: compose both into one code.
        position = {float(c): float(i) for i, c in enumerate(inner)}
        values = outer_codes[column]
        return list(values), [position.get(float(i)) for i in range(len(values))]

    try:
        return export_booster(boost, outer_names, compose)
    except ValueError as err:
        raise ValueError(f"only binary churn boosters can be exported ({err})") from err


def _is_stack(pipeline: Any) -> bool:
    steps = getattr(pipeline, "steps", None) or []
    return bool(steps) and isinstance(steps[0][1], BTYDStack)


def _export_stack(pipeline: Any) -> dict[str, Any]:
    """Export a fitted ``model="btyd_logistic"`` pipeline (see the module docstring)."""
    stack = LinearStack.of(pipeline)
    return {
        "kind": "btyd_logistic",
        "btyd": stack.btyd.to_dict(),
        "time_unit_days": DAYS_PER_UNIT,
        "horizon_days": float(stack.horizon),
        "features": list(LinearStack.columns),
        "medians": [float(v) for v in stack.medians],
        "mean": [float(v) for v in stack.mean],
        "scale": [float(v) for v in stack.scale],
        "coef": [float(v) for v in stack.coef],
        "intercept": float(stack.intercept),
    }


def _export_model(pipeline: Any) -> dict[str, Any]:
    """One member's model: ``{"btyd_logistic": ...}`` or ``{"booster": ...}``."""
    if _is_stack(pipeline):
        return {"btyd_logistic": _export_stack(pipeline)}
    return {"booster": _export_booster(pipeline)}


def _export_calibrator(calibrator: Any) -> dict[str, Any]:
    kind = type(calibrator).__name__
    if kind == "IsotonicRegression":
        if calibrator.out_of_bounds != "clip":
            raise ValueError("only isotonic calibrators with out_of_bounds='clip' can be exported")
        return {
            "method": "isotonic",
            "x": [float(v) for v in calibrator.X_thresholds_],
            "y": [float(v) for v in calibrator.y_thresholds_],
            "x_min": float(calibrator.X_min_),
            "x_max": float(calibrator.X_max_),
        }
    if kind == "_SigmoidCalibration":
        return {"method": "sigmoid", "a": float(calibrator.a_), "b": float(calibrator.b_)}
    raise ValueError(f"calibrator {kind} cannot be exported")


def export_estimator(estimator: Any) -> list[dict[str, Any]]:
    """Export a ChurnClassifier's fitted ``estimator_`` as a list of fold members.

    Parameters
    ----------
    estimator : CalibratedClassifierCV or Pipeline
        ``ChurnClassifier(model="hgb").estimator_`` or
        ``ChurnClassifier(model="btyd_logistic").estimator_``.

    Returns
    -------
    list of dict
        One member per calibration fold (one for a held-out calibration or
        without calibration), each with a ``booster`` (``model="hgb"``) or a
        ``btyd_logistic`` and a ``calibrator`` (``None`` without calibration).
    """
    if isinstance(estimator, CompiledChurnModel):
        return [dict(m.export) for m in estimator.members]
    if hasattr(estimator, "calibrated_classifiers_"):
        members = []
        for fold in estimator.calibrated_classifiers_:
            (calibrator,) = fold.calibrators
            members.append(
                {**_export_model(fold.estimator), "calibrator": _export_calibrator(calibrator)}
            )
        return members
    return [{**_export_model(estimator), "calibrator": None}]


# --- import ------------------------------------------------------------------------------


def _fail(where: str, message: str) -> NoReturn:
    READER.fail(f"{where} {message}")


class _Member:
    """One calibration fold: encoders, trees and calibrator, checked and ready to score."""

    def __init__(self, export: Any, feature_names: Sequence[str], where: str) -> None:
        if isinstance(export, Mapping) and "btyd_logistic" in export:
            export = READER.keys(export, where, required=("btyd_logistic", "calibrator"))
        else:
            export = READER.keys(export, where, required=("booster", "calibrator"))
        self.export = export
        self.where = where
        self.stack: LinearStack | None = None
        self.booster: CompiledBooster | None = None
        if "btyd_logistic" in export:
            self._stack(export["btyd_logistic"], feature_names)
        else:
            self.booster = CompiledBooster(
                export["booster"], READER, f"{where}.booster", feature_names
            )
        self._calibrator(export["calibrator"])

    def _stack(self, value: Any, feature_names: Sequence[str]) -> None:
        """Check a ``btyd_logistic`` member and build its :class:`LinearStack`."""
        from custintel.clv import BetaGeoModel

        where = f"{self.where}.btyd_logistic"
        s = READER.keys(value, where, required=_STACK_KEYS)
        if s["kind"] != "btyd_logistic":
            _fail("btyd_logistic kind", f"is {s['kind']!r}; only 'btyd_logistic' is known")
        if s["features"] != list(LinearStack.columns):
            _fail("btyd_logistic features", f"must be {list(LinearStack.columns)}")
        needed = [c for c in BTYD_FEATURES + STACK_FEATURES if c not in feature_names]
        if needed:
            _fail("feature_names", f"lack {needed}, which model='btyd_logistic' scores with")
        unit = READER.number(s["time_unit_days"], f"{where}.time_unit_days", POSITIVE)
        if unit != DAYS_PER_UNIT:
            _fail("btyd_logistic time_unit_days", f"is {unit!r}; only 7 (weeks) is known")
        horizon = float(READER.number(s["horizon_days"], f"{where}.horizon_days", POSITIVE))
        n = len(LinearStack.columns)
        medians = READER.numbers(s["medians"], f"{where}.medians", length=n - 1)
        mean = READER.numbers(s["mean"], f"{where}.mean", length=n)
        scale = READER.numbers(s["scale"], f"{where}.scale", POSITIVE, length=n)
        coef = READER.numbers(s["coef"], f"{where}.coef", length=n)
        intercept = float(READER.number(s["intercept"], f"{where}.intercept"))
        btyd = READER.mapping(s["btyd"], f"{where}.btyd")
        try:
            model = BetaGeoModel.from_dict(btyd)
        except InvalidModelError as err:
            READER.fail(
                f"{where}.btyd is not a valid BetaGeoModel export ({err})", reason=err.reason
            )
        self.stack = LinearStack(
            btyd=model,
            horizon=horizon,
            medians=medians,
            mean=mean,
            scale=scale,
            coef=coef,
            intercept=intercept,
        )

    def _calibrator(self, c: Any) -> None:
        self.method: str | None = None
        if c is None:
            return
        if not isinstance(c, Mapping) or c.get("method") not in ("isotonic", "sigmoid"):
            _fail("calibrator", "must be null or have method 'isotonic' or 'sigmoid'")
        if c["method"] == "sigmoid":
            c = READER.keys(c, f"{self.where}.calibrator", required=("method", "a", "b"))
            self.a = float(READER.number(c["a"], f"{self.where}.calibrator.a"))
            self.b = float(READER.number(c["b"], f"{self.where}.calibrator.b"))
        else:
            where = f"{self.where}.calibrator"
            c = READER.keys(c, where, required=("method", "x", "y", "x_min", "x_max"))
            self.x = READER.numbers(c["x"], f"{where}.x")
            self.y = READER.numbers(c["y"], f"{where}.y")
            if len(self.x) != len(self.y) or not len(self.x):
                _fail("calibrator x and y", "must be non-empty and of equal length")
            if (np.diff(self.x) < 0).any():
                _fail("calibrator x", "must be non-decreasing")
            if (self.y < 0).any() or (self.y > 1).any():
                _fail("calibrator y", "must be probabilities in [0, 1]")
            self.x_min = float(READER.number(c["x_min"], f"{where}.x_min"))
            self.x_max = float(READER.number(c["x_max"], f"{where}.x_max"))
            if self.x_min > self.x_max:
                _fail("calibrator x_min", "is above x_max")
        self.method = c["method"]

    def proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(churn) of this member, with the arithmetic of scikit-learn's predict_proba."""
        from scipy.special import expit

        if self.stack is not None:
            raw = self.stack.decision(X)
        else:
            assert self.booster is not None
            raw = self.booster.raw(X)
        if self.method is None:
            p = expit(raw)
        elif self.method == "sigmoid":
            p = expit(-(self.a * raw + self.b))
        elif len(self.x) == 1:
            p = self.y.repeat(raw.shape)
        else:
            p = np.interp(np.clip(raw, self.x_min, self.x_max), self.x, self.y)
        return np.asarray(p, dtype=np.float64)


_STACK_KEYS = (
    "kind",
    "btyd",
    "time_unit_days",
    "horizon_days",
    "features",
    "medians",
    "mean",
    "scale",
    "coef",
    "intercept",
)


class CompiledChurnModel:
    """The scorer of a ChurnClassifier rebuilt from its JSON export.

    Parameters
    ----------
    members : list of _Member
        The checked calibration folds.
    calibrated : bool
        Whether the members were calibration folds (their probabilities are
        averaged) or one uncalibrated booster.
    """

    def __init__(self, members: list[_Member], *, calibrated: bool) -> None:
        self.members = members
        self.calibrated = calibrated

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return ``[1 - p, p]`` per row, ``p`` = P(churn).

        Parameters
        ----------
        X : pandas.DataFrame
            The model's features, by name.

        Returns
        -------
        numpy.ndarray of shape (n_rows, 2)
        """
        if not self.calibrated:
            proba = np.empty((len(X), 2))
            proba[:, 1] = self.members[0].proba(X)
            proba[:, 0] = 1 - proba[:, 1]
            return proba
        mean = np.zeros((len(X), 2))
        for member in self.members:
            fold = np.zeros((len(X), 2))
            fold[:, 1] = member.proba(X)
            fold[:, 0] = 1.0 - fold[:, 1]
            fold[(fold > 1.0) & (fold <= 1.0 + 1e-5)] = 1.0
            mean += fold
        mean /= len(self.members)
        return mean


def import_estimator(
    members: Any,
    feature_names: Sequence[str],
    *,
    calibration: str | None,
    model: str | None = None,
) -> CompiledChurnModel:
    """Rebuild the scorer of a ChurnClassifier from its exported fold members.

    Parameters
    ----------
    members : list of dict
        ``to_dict()["members"]``.
    feature_names : sequence of str
        The model's features.
    calibration : {"isotonic", "sigmoid"} or None
        The classifier's calibration; every member must use it.
    model : {"hgb", "btyd_logistic"} or None, default=None
        The classifier's model kind; every member must be of it (None: not checked).

    Returns
    -------
    CompiledChurnModel

    Raises
    ------
    InvalidModelError
        When any field is missing, unknown, of the wrong type or out of range.
    """
    if not isinstance(members, list) or not 1 <= len(members) <= _MAX_MEMBERS:
        _fail("members", f"must be a list of 1 to {_MAX_MEMBERS} fold members")
    built = [_Member(m, feature_names, f"members[{i}]") for i, m in enumerate(members)]
    if any(m.method != calibration for m in built):
        _fail("members", f"must all use the classifier's calibration {calibration!r}")
    if calibration is None and len(built) != 1:
        _fail("members", "must be exactly one without calibration")
    kinds = {m.stack is None for m in built}
    if len(kinds) != 1:
        _fail("members", "must all be boosters or all btyd_logistic models")
    if model is not None and (built[0].stack is not None) != (model == "btyd_logistic"):
        kind = "btyd_logistic" if built[0].stack is not None else "booster"
        _fail("members", f"hold {kind} models, but the hyperparameter model is {model!r}")
    horizons = {m.stack.horizon for m in built if m.stack is not None}
    if len(horizons) > 1:
        _fail("members", f"must share one horizon_days, got {sorted(horizons)}")
    return CompiledChurnModel(built, calibrated=calibration is not None)
