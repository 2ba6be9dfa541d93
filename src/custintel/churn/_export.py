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

import math
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

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

#: Node fields a tree needs for scoring, in the export's order.
NODE_FIELDS = (
    "value",
    "feature_idx",
    "num_threshold",
    "missing_go_to_left",
    "left",
    "right",
    "is_leaf",
    "is_categorical",
    "bitset_idx",
)
_BITSET_WORDS = 8  # 256 categories, as scikit-learn's histogram boosting allows
_MAX_MEMBERS = 1000


def _tree_runtime() -> tuple[Any, Any, Any]:
    """scikit-learn's compiled tree traversal: the predictor class, its node dtype, threads.

    These live in private scikit-learn modules; they are imported in this one
    place so that a change there shows up as one clear failure.
    """
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    return TreePredictor, PREDICTOR_RECORD_DTYPE, _openmp_effective_n_threads


# --- export ------------------------------------------------------------------------------


def _float(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _category(value: Any) -> str | int | float | bool:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (str, bool, int, float)):
        return value
    raise ValueError(
        f"category {value!r} ({type(value).__name__}) cannot be written to JSON; "
        "cast the categorical columns to str before fitting"
    )


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
                outer_codes[str(column)] = [_category(c) for c in seen if not pd.isna(c)]
    # The booster's own preprocessor re-encodes the categorical columns and moves
    # them first: compose both encodings into one code per category.
    if boost.is_categorical_ is None:  # no categorical feature: no inner preprocessor
        mask = np.zeros(len(outer_names), dtype=bool)
        inner: list[Any] = []
    else:
        mask = np.asarray(boost.is_categorical_, dtype=bool)
        inner = boost._preprocessor.named_transformers_["encoder"].categories_
    order = [outer_names[i] for i in np.flatnonzero(mask)]
    order += [outer_names[i] for i in np.flatnonzero(~mask)]
    categories: dict[str, list[Any]] = {}
    codes: dict[str, list[float | None]] = {}
    for column, inner_categories in zip(order[: int(mask.sum())], inner, strict=True):
        known = [float(c) for c in inner_categories if not np.isnan(c)]
        position = {c: float(i) for i, c in enumerate(known)}
        categories[column] = outer_codes[column]
        codes[column] = [position.get(float(i)) for i in range(len(outer_codes[column]))]
    known_bitsets, f_idx_map = boost._bin_mapper.make_known_categories_bitsets()
    offsets, bitset_offsets = [0], [0]
    fields: dict[str, list[Any]] = {f: [] for f in NODE_FIELDS}
    bitsets: list[list[int]] = []
    counts: list[int] = []  # training rows per node: what explain_churn weighs node values by
    for (predictor,) in boost._predictors:
        nodes = predictor.nodes
        for field in NODE_FIELDS:
            column = nodes[field]
            if field in ("value", "num_threshold"):
                fields[field].extend(_float(v) for v in column)
            else:
                fields[field].extend(int(v) for v in column)
        counts.extend(int(v) for v in nodes["count"])
        offsets.append(offsets[-1] + len(nodes))
        raw = np.asarray(predictor.raw_left_cat_bitsets).reshape(-1, _BITSET_WORDS)
        bitsets.extend(raw.astype(np.int64).tolist())
        bitset_offsets.append(bitset_offsets[-1] + len(raw))
    baseline = np.asarray(boost._baseline_prediction, dtype=np.float64).ravel()
    if baseline.size != 1 or boost.n_trees_per_iteration_ != 1:
        raise ValueError("only binary churn boosters can be exported")
    return {
        "kind": "hgb",
        "features": order,
        "n_categorical": int(mask.sum()),
        "categories": categories,
        "codes": codes,
        "baseline": float(baseline[0]),
        "tree_offsets": offsets,
        "nodes": {**fields, "count": counts},
        "bitset_offsets": bitset_offsets,
        "left_bitsets": bitsets,
        "known_bitsets": np.asarray(known_bitsets).astype(np.int64).tolist(),
        "known_bitset_of_feature": np.asarray(f_idx_map).astype(np.int64).tolist(),
    }


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


def _range(array: np.ndarray, low: int, high: int, where: str) -> None:
    """Every value in [low, high)."""
    if array.size and (array.min() < low or array.max() >= high):
        bad = array[(array < low) | (array >= high)][0]
        _fail(where, f"holds {int(bad)}, outside [{low}, {high})")


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
        if "btyd_logistic" in export:
            self._stack(export["btyd_logistic"], feature_names)
        else:
            booster = READER.keys(export["booster"], f"{where}.booster", required=_BOOSTER_KEYS)
            self._booster(booster, feature_names)
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

    def _booster(self, b: Mapping[str, Any], feature_names: Sequence[str]) -> None:
        if b["kind"] != "hgb":
            _fail("booster kind", f"is {b['kind']!r}; only 'hgb' is known")
        features = b["features"]
        if (
            not isinstance(features, list)
            or sorted(map(str, features)) != sorted(feature_names)
            or not all(isinstance(f, str) for f in features)
        ):
            _fail("booster features", "must list each feature of the model once")
        n_cat = b["n_categorical"]
        if isinstance(n_cat, bool) or not isinstance(n_cat, int) or not 0 <= n_cat <= len(features):
            _fail("booster n_categorical", f"is {n_cat!r}")
        self.features = list(features)
        self.categorical = self.features[:n_cat]
        categories, codes = b["categories"], b["codes"]
        if not isinstance(categories, Mapping) or sorted(categories) != sorted(self.categorical):
            _fail("booster categories", "must have one list per categorical feature")
        if not isinstance(codes, Mapping) or sorted(codes) != sorted(self.categorical):
            _fail("booster codes", "must have one list per categorical feature")
        self.lookup: dict[str, tuple[pd.Index, np.ndarray]] = {}
        for column in self.categorical:
            names = categories[column]
            if not isinstance(names, list) or not all(
                isinstance(v, (str, int, float, bool)) for v in names
            ):
                _fail(f"categories of {column!r}", "must be a list of JSON scalars")
            index = pd.Index(names, dtype=object)
            if not index.is_unique:
                _fail(f"categories of {column!r}", "repeat a category")
            values = READER.numbers(
                codes[column], f"{self.where}.booster.codes.{column}", none_means=math.nan
            )
            if len(values) != len(names):
                _fail(f"codes of {column!r}", "must have one code per category")
            finite = values[np.isfinite(values)]
            if finite.size and (
                (finite < 0).any() or (finite >= 256).any() or (finite % 1 != 0).any()
            ):
                _fail(f"codes of {column!r}", "must be whole numbers in [0, 256) or null")
            self.lookup[column] = (index, values)
        self.baseline = float(READER.number(b["baseline"], f"{self.where}.booster.baseline"))
        self._trees(b, len(self.features), n_cat)

    def _trees(self, b: Mapping[str, Any], n_features: int, n_cat: int) -> None:
        tree_predictor, record_dtype, _ = _tree_runtime()
        where = f"{self.where}.booster"
        nodes = READER.keys(b["nodes"], f"{where}.nodes", required=NODE_FIELDS, optional=("count",))
        offsets = READER.integers(b["tree_offsets"], f"{where}.tree_offsets")
        bitset_offsets = READER.integers(b["bitset_offsets"], f"{where}.bitset_offsets")
        if len(offsets) < 2 or offsets[0] != 0 or (np.diff(offsets) < 1).any():
            _fail("tree_offsets", "must start at 0 and grow by at least 1 per tree")
        if len(bitset_offsets) != len(offsets) or bitset_offsets[0] != 0:
            _fail("bitset_offsets", "must start at 0, one entry per tree offset")
        if (np.diff(bitset_offsets) < 0).any():
            _fail("bitset_offsets", "must not decrease")
        n_nodes = int(offsets[-1])
        columns = {}
        for field in NODE_FIELDS:
            number = field in ("value", "num_threshold")
            path = f"{where}.nodes.{field}"
            values = (
                READER.numbers(nodes[field], path, none_means=math.nan)
                if number
                else READER.integers(nodes[field], path)
            )
            if len(values) != n_nodes:
                _fail(f"nodes.{field}", f"has {len(values)} entries, expected {n_nodes}")
            columns[field] = values
        if "count" in nodes:  # optional (exports before 2026-12): only explanations read it
            count = READER.integers(nodes["count"], f"{where}.nodes.count")
            if len(count) != n_nodes:
                _fail("nodes.count", f"has {len(count)} entries, expected {n_nodes}")
            _range(count, 0, 2**62, "nodes.count")
        for flag in ("missing_go_to_left", "is_leaf", "is_categorical"):
            _range(columns[flag], 0, 2, f"nodes.{flag}")
        leaf = columns["is_leaf"] == 1
        if not np.isfinite(columns["value"][leaf]).all():
            _fail("nodes.value", "of a leaf is not finite")
        split = ~leaf
        numeric = split & (columns["is_categorical"] == 0)
        if np.isnan(columns["num_threshold"][numeric]).any():
            _fail("nodes.num_threshold", "of a numeric split is missing")
        tree_of_node = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        local = np.arange(n_nodes) - offsets[tree_of_node]
        size = np.diff(offsets)[tree_of_node]
        for side in ("left", "right"):
            child = columns[side][split]
            # children come after their parent within the same tree: no cycles
            if ((child <= local[split]) | (child >= size[split])).any():
                _fail(f"nodes.{side}", "points outside its tree or back to an ancestor")
        _range(columns["feature_idx"][split], 0, n_features, "nodes.feature_idx")
        categorical = split & (columns["is_categorical"] == 1)
        if (columns["feature_idx"][categorical] >= n_cat).any():
            _fail("nodes.feature_idx", "of a categorical split is not a categorical feature")
        n_bitsets = np.diff(bitset_offsets)[tree_of_node]
        if (
            (columns["bitset_idx"][categorical] < 0)
            | (columns["bitset_idx"][categorical] >= n_bitsets[categorical])
        ).any():
            _fail("nodes.bitset_idx", "points outside its tree's bitsets")
        left_bitsets = self._bitsets(b["left_bitsets"], "left_bitsets")
        if len(left_bitsets) != bitset_offsets[-1]:
            _fail("left_bitsets", "do not match bitset_offsets")
        known = self._bitsets(b["known_bitsets"], "known_bitsets")
        f_idx_map = READER.integers(
            b["known_bitset_of_feature"], f"{where}.known_bitset_of_feature"
        )
        if len(f_idx_map) != n_features:
            _fail("known_bitset_of_feature", f"must have {n_features} entries")
        _range(f_idx_map[:n_cat], 0, max(len(known), 1) if n_cat else 1, "known_bitset_of_feature")
        if n_cat and len(known) < n_cat:
            _fail("known_bitsets", f"must have one bitset per categorical feature ({n_cat})")
        _range(f_idx_map, 0, 2**32, "known_bitset_of_feature")
        if not len(known):
            known = np.zeros((1, _BITSET_WORDS), dtype=np.uint32)
        self.known = np.ascontiguousarray(known)
        self.f_idx_map = np.ascontiguousarray(f_idx_map.astype(np.uint32))
        record = np.zeros(n_nodes, dtype=record_dtype)
        for field in NODE_FIELDS:
            record[field] = (
                np.nan_to_num(columns[field]) if field == "num_threshold" else (columns[field])
            )
        record["left"][leaf] = 0
        record["right"][leaf] = 0
        self.trees = []
        for t in range(len(offsets) - 1):
            raw = np.ascontiguousarray(left_bitsets[bitset_offsets[t] : bitset_offsets[t + 1]])
            if not len(raw):
                raw = np.zeros((0, _BITSET_WORDS), dtype=np.uint32)
            tree = record[offsets[t] : offsets[t + 1]].copy()
            self.trees.append(tree_predictor(tree, raw.copy(), raw))

    @staticmethod
    def _bitsets(value: Any, where: str) -> np.ndarray:
        if not isinstance(value, list) or not all(
            isinstance(row, list) and len(row) == _BITSET_WORDS for row in value
        ):
            _fail(where, f"must be a list of {_BITSET_WORDS}-number lists")
        flat = READER.integers([v for row in value for v in row], where)
        _range(flat, 0, 2**32, where)
        return flat.astype(np.uint32).reshape(-1, _BITSET_WORDS)

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

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Encode the features in the booster's column order as one float64 matrix."""
        out = np.empty((len(X), len(self.features)), dtype=np.float64)
        for j, column in enumerate(self.features):
            if column in self.lookup:
                index, codes = self.lookup[column]
                position = index.get_indexer(pd.Index(X[column].astype(object)))
                out[:, j] = np.where(position >= 0, codes[position], np.nan)
            else:
                out[:, j] = X[column].to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    def proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(churn) of this member, with the arithmetic of scikit-learn's predict_proba."""
        from scipy.special import expit

        if self.stack is not None:
            raw = self.stack.decision(X)
        else:
            _, _, threads = _tree_runtime()
            data = self.matrix(X)
            n_threads = threads(None)
            raw = np.zeros(len(data), dtype=np.float64)
            raw += self.baseline
            for tree in self.trees:
                raw += tree.predict(data, self.known, self.f_idx_map, n_threads)
        if self.method is None:
            p = expit(raw)
        elif self.method == "sigmoid":
            p = expit(-(self.a * raw + self.b))
        elif len(self.x) == 1:
            p = self.y.repeat(raw.shape)
        else:
            p = np.interp(np.clip(raw, self.x_min, self.x_max), self.x, self.y)
        return np.asarray(p, dtype=np.float64)


_BOOSTER_KEYS = (
    "kind",
    "features",
    "n_categorical",
    "categories",
    "codes",
    "baseline",
    "tree_offsets",
    "nodes",
    "bitset_offsets",
    "left_bitsets",
    "known_bitsets",
    "known_bitset_of_feature",
)


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
