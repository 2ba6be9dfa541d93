"""scikit-learn histogram-boosting trees as plain JSON, and the checked scorer rebuilt from them.

Shared by every estimator whose fitted state is a ``HistGradientBoosting*``
model (the churn classifier, the early-life value model): one export layout,
one reader that checks every index before a tree reaches scikit-learn's
compiled traversal (which does no bounds checking of its own), and one
scoring loop with scikit-learn's own arithmetic.

A booster export holds::

    kind                      "hgb"
    features                  the booster's columns: categorical ones first
    n_categorical             how many of them are categorical
    categories, codes         per categorical column: its values, and the tree code of each
                              (null: read as missing)
    baseline                  the raw score before any tree
    tree_offsets              node offsets of each tree in the node arrays
    nodes                     columnar node arrays (NODE_FIELDS, plus the optional count);
                              a threshold of "inf" (a split on missing or not) sends every
                              known value left, null stands for no threshold (a leaf)
    bitset_offsets            offsets of each tree's categorical split bitsets
    left_bitsets              8 x 32-bit words per categorical split: codes that go left
    known_bitsets             8 x 32-bit words per categorical feature: codes seen in fit
    known_bitset_of_feature   the known bitset of each feature

and scores as ``raw(x) = baseline + sum over trees t of leaf_value_t(code(x))``.
A tree is walked from node 0: at a leaf return its value; a missing value
goes left when ``missing_go_to_left``; a categorical split goes left when the
code is in the node's left bitset, right when it is a known category, and
like a missing value otherwise; a numeric split goes left when
``x <= num_threshold``. Each estimator applies its own link to ``raw``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from custintel.export import ExportReader, json_float

__all__ = [
    "BITSET_WORDS",
    "BOOSTER_KEYS",
    "NODE_FIELDS",
    "CompiledBooster",
    "export_booster",
    "json_category",
    "tree_runtime",
]

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
#: 32-bit words per category bitset: 256 categories, as scikit-learn's histogram boosting allows.
BITSET_WORDS = 8

#: Fields of a booster export.
BOOSTER_KEYS = (
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


def tree_runtime() -> tuple[Any, Any, Any]:
    """scikit-learn's compiled tree traversal: the predictor class, its node dtype, threads.

    These live in private scikit-learn modules; they are imported in this one
    place so that a change there shows up as one clear failure.
    """
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    return TreePredictor, PREDICTOR_RECORD_DTYPE, _openmp_effective_n_threads


# --- export ------------------------------------------------------------------------------


def _float(value: Any) -> float | str | None:
    """Return a node number as JSON: NaN as null, infinity as text (JSON has neither)."""
    number = float(value)
    if math.isnan(number):
        return None
    return json_float(number)


def json_category(value: Any) -> str | int | float | bool:
    """Return a category value as a JSON scalar; refuse one that has no JSON form."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (str, bool, int, float)):
        return value
    raise ValueError(
        f"category {value!r} ({type(value).__name__}) cannot be written to JSON; "
        "cast the categorical columns to str before fitting"
    )


#: Given a categorical column and the booster's own (non-missing) categories of it, return
#: the values the export lists and the tree code of each (None: read as missing).
Encoding = Callable[[str, np.ndarray], tuple[list[Any], list[float | None]]]


def export_booster(boost: Any, input_names: Sequence[str], encode: Encoding) -> dict[str, Any]:
    """Export a fitted ``HistGradientBoosting*`` model with one tree per iteration.

    Parameters
    ----------
    boost : HistGradientBoostingClassifier or HistGradientBoostingRegressor
        Fitted; a binary classifier or a regressor.
    input_names : sequence of str
        The names of the columns the booster was fitted on, in their order.
    encode : callable
        ``encode(column, categories)`` for each categorical column, with the
        categories the booster's own encoder found (missing value left out):
        the values to list and the tree code of each.

    Returns
    -------
    dict
        The booster export (see the module docstring).

    Raises
    ------
    ValueError
        For a booster with several trees per iteration (multi-class).
    """
    names = [str(c) for c in input_names]
    # The booster's own preprocessor encodes the categorical columns and moves them first.
    if boost.is_categorical_ is None:  # no categorical feature: no inner preprocessor
        mask = np.zeros(len(names), dtype=bool)
        inner: list[Any] = []
    else:
        mask = np.asarray(boost.is_categorical_, dtype=bool)
        inner = boost._preprocessor.named_transformers_["encoder"].categories_
    order = [names[i] for i in np.flatnonzero(mask)] + [names[i] for i in np.flatnonzero(~mask)]
    categories: dict[str, list[Any]] = {}
    codes: dict[str, list[float | None]] = {}
    for column, found in zip(order[: int(mask.sum())], inner, strict=True):
        known = np.asarray([c for c in found if not pd.isna(c)], dtype=object)
        categories[column], codes[column] = encode(column, known)
    known_bitsets, f_idx_map = boost._bin_mapper.make_known_categories_bitsets()
    offsets, bitset_offsets = [0], [0]
    fields: dict[str, list[Any]] = {f: [] for f in NODE_FIELDS}
    bitsets: list[list[int]] = []
    counts: list[int] = []  # training rows per node: what explanations weigh node values by
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
        raw = np.asarray(predictor.raw_left_cat_bitsets).reshape(-1, BITSET_WORDS)
        bitsets.extend(raw.astype(np.int64).tolist())
        bitset_offsets.append(bitset_offsets[-1] + len(raw))
    baseline = np.asarray(boost._baseline_prediction, dtype=np.float64).ravel()
    if baseline.size != 1 or boost.n_trees_per_iteration_ != 1:
        raise ValueError(
            "only boosters with one tree per iteration (binary classifiers, regressors) "
            "can be exported"
        )
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


# --- import ------------------------------------------------------------------------------


class CompiledBooster:
    """A booster export, checked field by field and index by index, ready to score.

    Parameters
    ----------
    export : mapping
        The booster export (see the module docstring).
    reader : ExportReader
        Whose refusals name the estimator the booster belongs to.
    where : str
        The booster's path in the estimator's export, for messages.
    feature_names : sequence of str
        The features the estimator scores with: the booster must use each once.

    Raises
    ------
    InvalidModelError
        When any field is missing, unknown, of the wrong type or out of range.
    """

    def __init__(
        self, export: Any, reader: ExportReader, where: str, feature_names: Sequence[str]
    ) -> None:
        self.reader = reader
        self.where = where
        b = reader.keys(export, where, required=BOOSTER_KEYS)
        self.export = b
        if b["kind"] != "hgb":
            self._fail("booster kind", f"is {b['kind']!r}; only 'hgb' is known")
        features = b["features"]
        if (
            not isinstance(features, list)
            or not all(isinstance(f, str) for f in features)
            or sorted(features) != sorted(map(str, feature_names))
        ):
            self._fail("booster features", "must list each feature of the model once")
        n_cat = b["n_categorical"]
        if isinstance(n_cat, bool) or not isinstance(n_cat, int) or not 0 <= n_cat <= len(features):
            self._fail("booster n_categorical", f"is {n_cat!r}")
        self.features: list[str] = list(features)
        self.categorical = self.features[:n_cat]
        categories, codes = b["categories"], b["codes"]
        if not isinstance(categories, Mapping) or sorted(categories) != sorted(self.categorical):
            self._fail("booster categories", "must have one list per categorical feature")
        if not isinstance(codes, Mapping) or sorted(codes) != sorted(self.categorical):
            self._fail("booster codes", "must have one list per categorical feature")
        self.lookup: dict[str, tuple[pd.Index, np.ndarray]] = {}
        for column in self.categorical:
            names = categories[column]
            if not isinstance(names, list) or not all(
                isinstance(v, (str, int, float, bool)) for v in names
            ):
                self._fail(f"categories of {column!r}", "must be a list of JSON scalars")
            index = pd.Index(names, dtype=object)
            if not index.is_unique:
                self._fail(f"categories of {column!r}", "repeat a category")
            values = reader.numbers(codes[column], f"{where}.codes.{column}", none_means=math.nan)
            if len(values) != len(names):
                self._fail(f"codes of {column!r}", "must have one code per category")
            finite = values[np.isfinite(values)]
            if finite.size and (
                (finite < 0).any() or (finite >= 256).any() or (finite % 1 != 0).any()
            ):
                self._fail(f"codes of {column!r}", "must be whole numbers in [0, 256) or null")
            self.lookup[column] = (index, values)
        self.baseline = float(reader.number(b["baseline"], f"{where}.baseline"))
        self._trees(b, len(self.features), n_cat)

    def _fail(self, where: str, message: str) -> NoReturn:
        self.reader.fail(f"{where} {message}")

    def _range(self, array: np.ndarray, low: int, high: int, where: str) -> None:
        """Every value in [low, high)."""
        if array.size and (array.min() < low or array.max() >= high):
            bad = array[(array < low) | (array >= high)][0]
            self._fail(where, f"holds {int(bad)}, outside [{low}, {high})")

    def _trees(self, b: Mapping[str, Any], n_features: int, n_cat: int) -> None:
        tree_predictor, record_dtype, _ = tree_runtime()
        reader, where = self.reader, self.where
        nodes = reader.keys(b["nodes"], f"{where}.nodes", required=NODE_FIELDS, optional=("count",))
        offsets = reader.integers(b["tree_offsets"], f"{where}.tree_offsets")
        bitset_offsets = reader.integers(b["bitset_offsets"], f"{where}.bitset_offsets")
        if len(offsets) < 2 or offsets[0] != 0 or (np.diff(offsets) < 1).any():
            self._fail("tree_offsets", "must start at 0 and grow by at least 1 per tree")
        if len(bitset_offsets) != len(offsets) or bitset_offsets[0] != 0:
            self._fail("bitset_offsets", "must start at 0, one entry per tree offset")
        if (np.diff(bitset_offsets) < 0).any():
            self._fail("bitset_offsets", "must not decrease")
        n_nodes = int(offsets[-1])
        columns = {}
        for field in NODE_FIELDS:
            number = field in ("value", "num_threshold")
            path = f"{where}.nodes.{field}"
            values = (
                # a split on "missing or not" has the threshold inf, written as "inf"
                reader.numbers(nodes[field], path, none_means=math.nan, infinity="inf")
                if number
                else reader.integers(nodes[field], path)
            )
            if len(values) != n_nodes:
                self._fail(f"nodes.{field}", f"has {len(values)} entries, expected {n_nodes}")
            columns[field] = values
        if "count" in nodes:  # optional (exports before 2026-12): only explanations read it
            count = reader.integers(nodes["count"], f"{where}.nodes.count")
            if len(count) != n_nodes:
                self._fail("nodes.count", f"has {len(count)} entries, expected {n_nodes}")
            self._range(count, 0, 2**62, "nodes.count")
        for flag in ("missing_go_to_left", "is_leaf", "is_categorical"):
            self._range(columns[flag], 0, 2, f"nodes.{flag}")
        leaf = columns["is_leaf"] == 1
        if not np.isfinite(columns["value"][leaf]).all():
            self._fail("nodes.value", "of a leaf is not finite")
        split = ~leaf
        numeric = split & (columns["is_categorical"] == 0)
        if np.isnan(columns["num_threshold"][numeric]).any():
            self._fail("nodes.num_threshold", "of a numeric split is missing")
        tree_of_node = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        local = np.arange(n_nodes) - offsets[tree_of_node]
        size = np.diff(offsets)[tree_of_node]
        for side in ("left", "right"):
            child = columns[side][split]
            # children come after their parent within the same tree: no cycles
            if ((child <= local[split]) | (child >= size[split])).any():
                self._fail(f"nodes.{side}", "points outside its tree or back to an ancestor")
        self._range(columns["feature_idx"][split], 0, n_features, "nodes.feature_idx")
        categorical = split & (columns["is_categorical"] == 1)
        if (columns["feature_idx"][categorical] >= n_cat).any():
            self._fail("nodes.feature_idx", "of a categorical split is not a categorical feature")
        n_bitsets = np.diff(bitset_offsets)[tree_of_node]
        if (
            (columns["bitset_idx"][categorical] < 0)
            | (columns["bitset_idx"][categorical] >= n_bitsets[categorical])
        ).any():
            self._fail("nodes.bitset_idx", "points outside its tree's bitsets")
        left_bitsets = self._bitsets(b["left_bitsets"], "left_bitsets")
        if len(left_bitsets) != bitset_offsets[-1]:
            self._fail("left_bitsets", "do not match bitset_offsets")
        known = self._bitsets(b["known_bitsets"], "known_bitsets")
        f_idx_map = reader.integers(
            b["known_bitset_of_feature"], f"{where}.known_bitset_of_feature"
        )
        if len(f_idx_map) != n_features:
            self._fail("known_bitset_of_feature", f"must have {n_features} entries")
        self._range(
            f_idx_map[:n_cat], 0, max(len(known), 1) if n_cat else 1, "known_bitset_of_feature"
        )
        if n_cat and len(known) < n_cat:
            self._fail("known_bitsets", f"must have one bitset per categorical feature ({n_cat})")
        self._range(f_idx_map, 0, 2**32, "known_bitset_of_feature")
        if not len(known):
            known = np.zeros((1, BITSET_WORDS), dtype=np.uint32)
        self.known = np.ascontiguousarray(known)
        self.f_idx_map = np.ascontiguousarray(f_idx_map.astype(np.uint32))
        record = np.zeros(n_nodes, dtype=record_dtype)
        for field in NODE_FIELDS:
            number = field in ("value", "num_threshold")
            values = columns[field]
            # only leaves have no threshold; inf stays inf (every known value goes left)
            record[field] = np.where(np.isnan(values), 0.0, values) if number else values
        record["left"][leaf] = 0
        record["right"][leaf] = 0
        # The largest and smallest raw score any row can reach: baseline plus each tree's
        # extreme leaf (a link such as exp checks that it cannot overflow).
        high = low = self.baseline
        self.trees = []
        for t in range(len(offsets) - 1):
            leaves = columns["value"][offsets[t] : offsets[t + 1]][
                leaf[offsets[t] : offsets[t + 1]]
            ]
            if leaves.size:
                high, low = high + float(leaves.max()), low + float(leaves.min())
            raw = np.ascontiguousarray(left_bitsets[bitset_offsets[t] : bitset_offsets[t + 1]])
            if not len(raw):
                raw = np.zeros((0, BITSET_WORDS), dtype=np.uint32)
            tree = record[offsets[t] : offsets[t + 1]].copy()
            self.trees.append(tree_predictor(tree, raw.copy(), raw))
        self.raw_range = (low, high)

    def _bitsets(self, value: Any, where: str) -> np.ndarray:
        if not isinstance(value, list) or not all(
            isinstance(row, list) and len(row) == BITSET_WORDS for row in value
        ):
            self._fail(where, f"must be a list of {BITSET_WORDS}-number lists")
        flat = self.reader.integers([v for row in value for v in row], where)
        self._range(flat, 0, 2**32, where)
        return flat.astype(np.uint32).reshape(-1, BITSET_WORDS)

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Encode the features in the booster's column order as one float64 matrix."""
        out = np.empty((len(X), len(self.features)), dtype=np.float64)
        for j, column in enumerate(self.features):
            if column in self.lookup:
                index, codes = self.lookup[column]
                position = index.get_indexer(pd.Index(X[column].astype(object)))
                if not len(codes):  # no category was seen in fit: every value reads as missing
                    out[:, j] = np.nan
                    continue
                out[:, j] = np.where(position >= 0, codes[position], np.nan)
            else:
                out[:, j] = X[column].to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    def raw(self, X: pd.DataFrame) -> np.ndarray:
        """Return ``baseline + sum of leaves`` per row, with scikit-learn's arithmetic."""
        _, _, threads = tree_runtime()
        data = self.matrix(X)
        n_threads = threads(None)
        raw = np.zeros(len(data), dtype=np.float64)
        raw += self.baseline
        for tree in self.trees:
            raw += tree.predict(data, self.known, self.f_idx_map, n_threads)
        return raw
