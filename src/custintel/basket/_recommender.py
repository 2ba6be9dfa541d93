"""``CrossSellRecommender``: association rules that say what to offer each customer next."""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from custintel._validation import engine_or_pandas, to_day
from custintel.basket._encode import EncodedBaskets, encode_baskets
from custintel.basket._itemsets import _check_positive_int, check_min_support, frequent_itemsets
from custintel.basket._rules import RULE_METRICS, rules_or_empty
from custintel.exceptions import SchemaError
from custintel.export import ANY_NUMBER, UNIT_INTERVAL, Domain, ExportReader, as_float, show
from custintel.features import canonical_order, transaction_baskets
from custintel.schema import TransactionSchema
from custintel.typing import BasketsLike, DateLike, TransactionsLike

__all__ = ["RECOMMENDATION_COLUMNS", "CrossSellRecommender"]

#: Columns of :meth:`CrossSellRecommender.recommend`, in this order.
RECOMMENDATION_COLUMNS: tuple[str, ...] = (
    "rank", "item_id", "score", "source", "antecedents", "confidence", "lift", "rule"
)  # fmt: skip

_FORMAT = "custintel.CrossSellRecommender"
_FORMAT_VERSION = 1
_RANK_BY = ("confidence", "lift")
# Range of each rule metric (one consequent item). Metrics >= 0 are ratios of counts, exactly
# >= 0 in floating point too; the other bounds allow a rounding error.
_ROUNDING = 1e-9
_METRIC_DOMAINS = {
    **{
        name: Domain(0.0, 1.0 + _ROUNDING, label="in [0, 1]")
        for name in (
            "antecedent_support",
            "consequent_support",
            "support",
            "confidence",
            "jaccard",
            "kulczynski",
        )
    },
    "lift": Domain(0.0, label=">= 0"),
    "leverage": Domain(-0.25 - _ROUNDING, 0.25 + _ROUNDING, label="in [-0.25, 0.25]"),
    "conviction": Domain(0.0, label=">= 0 (null for infinite)"),
    "zhangs_metric": Domain(-1.0 - _ROUNDING, 1.0 + _ROUNDING, label="in [-1, 1]"),
    "certainty": Domain(high=1.0 + _ROUNDING, label="<= 1"),
}
# Rule firings (query x rule) held at once while scoring.
_FIRINGS_PER_CHUNK = 1 << 22
# Cells (query x candidate item) of the ranking table held at once while scoring.
_CELLS_PER_CHUNK = 1 << 22
# Up to this many recommendations per row, repeated argmin ranks faster than a partition.
_ARGMIN_UP_TO = 8


@dataclass(kw_only=True, repr=False, eq=False)
class CrossSellRecommender(BaseEstimator):
    r"""Recommend items to buy next from association rules, with popularity as fallback.

    ``fit`` mines frequent itemsets and keeps the rules with one item on the
    right-hand side. ``recommend`` fires every rule whose antecedent a
    customer (or basket) already holds, scores each item by its best rule,
    and tops up with the most popular items when the rules give fewer than
    ``n``. Each recommendation carries the rule that fired, so a salesperson
    can read why.

    Parameters
    ----------
    min_support : float, default=0.01
        Minimum support of the itemsets behind the rules, in (0, 1].
    min_confidence : float, default=0.1
        Minimum confidence of a rule, in [0, 1].
    max_len : int or None, default=3
        Longest itemset mined, so antecedents have at most ``max_len - 1``
        items; at least 2.
    rank_by : {"confidence", "lift"}, default="confidence"
        Metric that scores an item: the value of its best firing rule. Ties
        are broken by confidence, lift, then support.
    level : {"order", "customer"}, default="order"
        What a basket is when fitting on transactions: one order, or all a
        customer ever bought.
    max_itemsets : int, default=1_000_000
        Guard against a blow-up at a low ``min_support``; see
        :func:`~custintel.basket.frequent_itemsets`.
    schema : TransactionSchema, dict or None, default=None
        Column mapping of transaction input.
    max_basket_size : int or None, default=None
        Baskets with more items than this (bulk orders, data errors) are
        left out of mining and counted in ``n_baskets_dropped_``; they still
        count for item popularity. ``None`` keeps every basket.
    max_rules : int or None, default=None
        Keep at most this many rules, the best by ``rank_by`` (then
        confidence, lift, support); ``n_rules_found_`` says how many were
        mined. ``None`` keeps them all.

    Attributes
    ----------
    rules_ : pandas.DataFrame
        The rules, in the columns of :func:`~custintel.basket.association_rules`
        (consequents of one item), best first by ``rank_by``.
    item_support_ : pandas.Series
        Support of every item seen in ``fit``, indexed by ``item_id``,
        most popular first; the popularity fallback.
    n_baskets_ : int
        Number of baskets fitted on.
    n_baskets_dropped_ : int
        Baskets left out of mining by ``max_basket_size`` (0 for a model
        rebuilt from an export).
    n_rules_found_ : int
        Rules mined before the ``max_rules`` cap (``len(rules_)`` when no
        cap applied).

    See Also
    --------
    association_rules : The rules behind the recommendations.

    Notes
    -----
    An item's score is :math:`\max_r m(r)` over the firing rules
    :math:`r: A \to \{i\}` with :math:`A \subseteq H`, where :math:`H` is
    what the customer holds and :math:`m` is ``rank_by``. Popularity rows
    come after every rule row, scored by the item's support.

    The fitted model keeps the rules and item supports only, never the
    training baskets. It round-trips through joblib and through plain JSON
    (:meth:`to_dict`, :meth:`from_dict`).

    Examples
    --------
    >>> baskets = [["milk", "bread"], ["milk", "bread", "butter"], ["milk", "butter"],
    ...            ["bread", "butter"], ["milk", "bread"], ["jam"]]
    >>> model = CrossSellRecommender(min_support=0.3, min_confidence=0.5).fit(baskets)
    >>> model.recommend([["bread"]], n=2)[["rank", "item_id", "score", "source", "rule"]]
            rank item_id  score source             rule
    basket
    0          1    milk   0.75   rule    bread -> milk
    0          2  butter   0.50   rule  bread -> butter

    Bread fires ``bread -> milk`` (3 of the 4 bread baskets hold milk) and
    ``bread -> butter`` (2 of 4).
    """

    min_support: float = 0.01
    min_confidence: float = 0.1
    max_len: int | None = 3
    rank_by: Literal["confidence", "lift"] = "confidence"
    level: Literal["order", "customer"] = "order"
    max_itemsets: int = 1_000_000
    schema: TransactionSchema | Mapping[str, str] | None = None
    max_rules: int | None = None
    max_basket_size: int | None = None

    # --- fitting -------------------------------------------------------------------------

    def fit(
        self,
        X: BasketsLike,
        y: Any = None,
        *,
        customer_ids: Any = None,
        progress: bool | None = None,
    ) -> CrossSellRecommender:
        """Mine the rules from transactions or baskets.

        Parameters
        ----------
        X : pandas.DataFrame, list of baskets, or basket matrix
            A transaction log (one row per order line, with ``item_id`` and,
            for ``level="order"``, ``order_id``), or any basket input of
            :func:`~custintel.basket.frequent_itemsets`.
        y : None
            Ignored.
        customer_ids : array-like, optional
            Customer of each basket, for basket input with
            ``level="customer"``: the baskets of one customer are merged.
        progress : bool or None, default=None
            Show a progress bar on standard error while the itemsets are
            mined, when standard error is a terminal; ``None`` (automatic)
            as for :func:`~custintel.basket.frequent_itemsets`.

        Returns
        -------
        CrossSellRecommender
            The fitted recommender.
        """
        self._check_params()
        X = engine_or_pandas(X)
        if _is_transactions(X):
            if customer_ids is not None:
                raise ValueError(
                    "customer_ids is for basket input; transactions already name customers"
                )
            baskets = transaction_baskets(X, self.schema, level=self.level, context=False)
            matrix, labels = baskets.matrix, _labels(baskets.items)
        else:
            encoded = encode_baskets(X)
            matrix, labels = encoded.matrix, encoded.labels
            if self.level == "customer":
                if customer_ids is None:
                    raise ValueError(
                        "level='customer' with basket input needs customer_ids (the customer of "
                        "each basket), or pass level='order' to treat each basket on its own"
                    )
                matrix = _merge_rows(matrix, customer_ids)
        return self._fit_matrix(matrix, labels, progress=progress)

    def _check_params(self) -> None:
        check_min_support(self.min_support)
        if (
            isinstance(self.min_confidence, bool)
            or not isinstance(self.min_confidence, numbers.Real)
            or not 0.0 <= as_float(self.min_confidence) <= 1.0
        ):
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence!r}")
        if self.max_len is not None and (
            isinstance(self.max_len, bool)
            or not isinstance(self.max_len, numbers.Integral)
            or self.max_len < 2
        ):
            raise ValueError(
                f"max_len must be None or an integer >= 2 (a rule needs two items), "
                f"got {self.max_len!r}"
            )
        if self.rank_by not in _RANK_BY:
            raise ValueError(f"rank_by must be one of {list(_RANK_BY)}, got {self.rank_by!r}")
        if self.level not in ("order", "customer"):
            raise ValueError(f"level must be 'order' or 'customer', got {self.level!r}")
        if self.max_rules is not None and (
            isinstance(self.max_rules, bool)
            or not isinstance(self.max_rules, numbers.Integral)
            or self.max_rules < 1
        ):
            raise ValueError(f"max_rules must be None or an integer >= 1, got {self.max_rules!r}")

    def _fit_matrix(
        self, matrix: sparse.csr_matrix, labels: np.ndarray, *, progress: bool | None = None
    ) -> CrossSellRecommender:
        self._check_params()
        n_baskets = matrix.shape[0]
        itemsets = frequent_itemsets(
            (matrix, labels),
            min_support=self.min_support,
            max_len=self.max_len,
            max_itemsets=self.max_itemsets,
            max_basket_size=self.max_basket_size,
            progress=progress,
        )
        self.n_baskets_dropped_ = int(itemsets.attrs.get("n_baskets_dropped", 0))
        rules = rules_or_empty(
            itemsets, min_threshold=float(self.min_confidence), max_len=(None, 1)
        )
        ranked = _sort_rules(rules, self.rank_by)
        self.n_rules_found_ = len(ranked)
        if self.max_rules is not None and len(ranked) > self.max_rules:
            ranked = ranked.iloc[: int(self.max_rules)].reset_index(drop=True)
        self.rules_ = ranked
        counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
        support = pd.Series(
            counts / float(n_baskets),
            index=pd.Index(labels, name="item_id", dtype=object),
            name="support",
        )
        # Most popular first; ties in canonical item order (a stable sort).
        self.item_support_ = support.iloc[np.argsort(-support.to_numpy(), kind="stable")]
        self.n_baskets_ = int(n_baskets)
        return self

    # --- scoring -------------------------------------------------------------------------

    def recommend(
        self, customers_or_baskets: Any, *, n: int = 5, exclude_purchased: bool = True
    ) -> pd.DataFrame:
        """Rank the items to offer each customer or basket next.

        Parameters
        ----------
        customers_or_baskets : DataFrame, mapping, Series or list of baskets
            What each customer holds:

            - a transaction log: each customer's items over all orders, rows
              indexed by ``customer_id``;
            - a mapping of customer id to items, or a Series of item lists
              indexed by customer;
            - a list of baskets, indexed by position (``basket``).

            Items unknown to the model are ignored.
        n : int, default=5
            Recommendations per customer.
        exclude_purchased : bool, default=True
            Never recommend an item the customer already holds.

        Returns
        -------
        pandas.DataFrame
            One row per (customer, item), indexed by customer (or basket),
            with columns ``rank`` (1 = best), ``item_id``, ``score``
            (``rank_by`` of the rule, or the item's support for popularity
            rows), ``source`` (``"rule"`` or ``"popularity"``),
            ``antecedents`` (the rule's left-hand side; empty for popularity),
            ``confidence``, ``lift`` (NaN for popularity) and ``rule``, a
            readable sentence.
        """
        check_is_fitted(self, "rules_")
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        query, index = self._queries(customers_or_baskets)
        rows, ranks, items, rule_at = self._top_n(query, int(n), bool(exclude_purchased))
        return self._frame(index[rows], ranks, items, rule_at)

    def recommend_items(
        self, customers_or_baskets: Any, *, n: int = 5, exclude_purchased: bool = True
    ) -> pd.DataFrame:
        """Return only the recommended item ids: one row per customer, one column per rank.

        The items and order of :meth:`recommend`, without the scores, rules
        and sentences, for scoring many customers at once.

        Parameters
        ----------
        customers_or_baskets : DataFrame, mapping, Series or list of baskets
            What each customer holds, as in :meth:`recommend`.
        n : int, default=5
            Recommendations per customer.
        exclude_purchased : bool, default=True
            Never recommend an item the customer already holds.

        Returns
        -------
        pandas.DataFrame
            One row per customer (or basket), in input order, indexed as in
            :meth:`recommend`; columns ``item_1`` to ``item_<n>`` hold the
            item id of each rank (object dtype), ``None`` where a customer
            gets fewer than ``n`` items.

        Examples
        --------
        >>> baskets = [["milk", "bread"], ["milk", "bread", "butter"], ["milk", "butter"],
        ...            ["bread", "butter"], ["milk", "bread"], ["jam"]]
        >>> model = CrossSellRecommender(min_support=0.3, min_confidence=0.5).fit(baskets)
        >>> model.recommend_items([["bread"], ["milk", "bread", "butter"]], n=2)
               item_1  item_2
        basket
        0        milk  butter
        1         jam    None

        The second basket holds every item a rule recommends: only ``jam``,
        by popularity, is left to offer.
        """
        check_is_fitted(self, "rules_")
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        query, index = self._queries(customers_or_baskets)
        rows, ranks, items, _ = self._top_n(query, int(n), bool(exclude_purchased))
        table = np.full((len(index), int(n)), None, dtype=object)
        table[rows, ranks] = self._item_labels()[items]
        return pd.DataFrame(
            {f"item_{k + 1}": table[:, k] for k in range(int(n))}, index=index, dtype=object
        )

    def _item_labels(self) -> np.ndarray:
        labels = np.empty(len(self.item_support_), dtype=object)
        labels[:] = self.item_support_.index.tolist()
        return labels[canonical_order(labels)]

    def _queries(self, data: Any) -> tuple[sparse.csr_matrix, pd.Index]:
        """Encode what each customer holds over the fitted items."""
        known = self._item_labels()
        data = engine_or_pandas(data)
        if _is_transactions(data):
            baskets = transaction_baskets(data, self.schema, level="customer", context=False)
            matrix, labels, index = baskets.matrix, _labels(baskets.items), baskets.rows
        else:
            if isinstance(data, Mapping):
                index = pd.Index(list(data.keys()), name="customer_id")
                data = list(data.values())
            elif isinstance(data, pd.Series):
                index = data.index.rename(data.index.name or "customer_id")
            elif isinstance(data, pd.DataFrame):
                index = data.index.rename(data.index.name or "basket")
            else:
                data = list(data) if not isinstance(data, (str, bytes)) else data
                index = pd.RangeIndex(len(data) if isinstance(data, list) else 0, name="basket")
            fast = _lists_over_known(data, known)
            if fast is not None:
                return fast, index
            encoded: EncodedBaskets = encode_baskets(data)
            matrix, labels = encoded.matrix, encoded.labels
        return _reindex_columns(matrix, labels, known), index

    def _rule_arrays(self) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        """Antecedents as a sparse rules-by-items matrix, their sizes and consequent codes."""
        known = pd.Index(self._item_labels(), dtype=object)
        antecedents = self.rules_["antecedents"].tolist()
        sizes = np.fromiter(map(len, antecedents), dtype=np.int64, count=len(antecedents))
        flat = pd.Index([i for a in antecedents for i in a], dtype=object)
        codes = known.get_indexer(flat)
        indptr = np.concatenate([[0], np.cumsum(sizes)])
        matrix = sparse.csr_matrix(
            (np.ones(len(codes), dtype=np.int32), codes, indptr),
            shape=(len(antecedents), len(known)),
        )
        consequents = known.get_indexer(
            pd.Index([c[0] for c in self.rules_["consequents"]], dtype=object)
        )
        return matrix, sizes, consequents

    def _top_n(
        self, query: sparse.csr_matrix, n: int, exclude: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Top ``n`` (query row, rank, item code, rule position or -1) for every query row."""
        antecedents, sizes, consequents = self._rule_arrays()
        known = self._item_labels()
        popularity = pd.Index(known, dtype=object).get_indexer(
            pd.Index(self.item_support_.index, dtype=object)
        )
        return _rank_items(query, antecedents, sizes, consequents, popularity, n, exclude)

    def _frame(
        self, index: pd.Index, ranks: np.ndarray, items: np.ndarray, rule_at: np.ndarray
    ) -> pd.DataFrame:
        known = self._item_labels()
        from_rule = rule_at >= 0
        safe = np.where(from_rule, rule_at, 0)
        rules = self.rules_
        support = self.item_support_.reindex(pd.Index(known, dtype=object)).to_numpy()
        n_rules = len(rules)
        # Each rule's sentence and antecedents, and each item's popularity sentence, are
        # made once and then taken per recommendation; slot n_rules holds "no rule".
        rule_antecedents = np.empty(n_rules + 1, dtype=object)
        rule_antecedents[:n_rules] = rules["antecedents"].to_numpy()
        rule_antecedents[n_rules] = ()
        if n_rules:
            score = np.where(from_rule, rules[self.rank_by].to_numpy()[safe], support[items])
            confidence = np.where(from_rule, rules["confidence"].to_numpy()[safe], np.nan)
            lift = np.where(from_rule, rules["lift"].to_numpy()[safe], np.nan)
            _, _, consequents = self._rule_arrays()
            sentences = [
                f"{' + '.join(map(str, a))} -> {item}"
                for a, item in zip(rule_antecedents[:n_rules], known[consequents], strict=True)
            ]
        else:
            score = support[items]
            confidence = lift = np.full(len(items), np.nan)
            sentences = []
        used = np.unique(items[~from_rule])
        popular = np.empty(len(known), dtype=object)
        popular[used] = [f"popular: in {s:.1%} of baskets" for s in support[used]]
        rule_text = np.empty(n_rules, dtype=object)
        rule_text[:] = sentences
        text = np.where(from_rule, rule_text[safe] if n_rules else None, popular[items])
        antecedents = rule_antecedents[np.where(from_rule, rule_at, n_rules)]
        labels = known[items]
        item_column = np.empty(len(labels), dtype=object)
        item_column[:] = labels
        frame = pd.DataFrame(
            {
                "rank": ranks + 1,
                "item_id": item_column,
                "score": score.astype(np.float64),
                "source": np.where(from_rule, "rule", "popularity").astype(object),
                "antecedents": antecedents,
                "confidence": confidence,
                "lift": lift,
                "rule": np.asarray(text, dtype=object),
            },
            index=index,
        )
        return frame

    # --- evaluation ----------------------------------------------------------------------

    def evaluate(
        self, X: TransactionsLike, *, calibration_end: DateLike, k: int = 5
    ) -> pd.DataFrame:
        """Check the rules on a time split against what each customer bought next.

        A clone of this recommender (same parameters; ``self`` is left
        untouched) is fitted on the orders up to ``calibration_end``. Each
        customer's next order after it, when it holds two or more items, is
        the test: every item of that order in turn is held out, the others
        are the input, and the held-out item is a hit when it is among the
        top ``k`` recommendations. The popularity baseline recommends the
        ``k`` most popular items of the calibration period not in the input.

        Parameters
        ----------
        X : pandas.DataFrame
            A transaction log with ``order_id`` and ``item_id``.
        calibration_end : date-like
            Last day of the calibration period, inclusive.
        k : int, default=5
            Length of the recommendation list.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``model`` (``"rules"``, ``"popularity"``), with

            - ``hit_rate``: share of customers with at least one hit;
            - ``precision``: hits / (k x items of the order), averaged over
              customers;
            - ``recall``: hits / items of the order, averaged over customers;
            - ``n_customers`` and ``n_queries`` (held-out items).

            ``attrs`` records ``k``, ``calibration_end`` and ``n_rules``.

        Raises
        ------
        SchemaError
            When no order falls before or after ``calibration_end``, or no
            customer's next order holds two items.
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        self._check_params()
        baskets = transaction_baskets(X, self.schema, level="order", context=True)
        cutoff = to_day(calibration_end, "calibration_end").astype(np.int64)
        past = baskets.days <= cutoff
        if past.all() or not past.any():
            first, last = (
                np.datetime64(int(d), "D") for d in (baskets.days.min(), baskets.days.max())
            )
            raise SchemaError(
                f"calibration_end {np.datetime64(int(cutoff), 'D')} leaves no orders on one side; "
                f"orders run from {first} to {last}, so pick a day in between",
                reason="bad_calibration_end",
            )
        labels = _labels(baskets.items)
        model = clone(self)
        calibration = baskets.matrix[past]
        if self.level == "customer":
            calibration = _merge_rows(calibration, baskets.customers[past])
        model._fit_matrix(calibration, labels)

        query, target, owner = _next_order_queries(baskets, past)
        if len(target) == 0:
            raise SchemaError(
                "no customer has an order of two or more items after calibration_end, so there "
                "is nothing to hold out; pick an earlier calibration_end",
                reason="no_holdout",
            )
        known = model._item_labels()
        query = _reindex_columns(query, labels, known)
        target = pd.Index(known, dtype=object).get_indexer(pd.Index(labels[target], dtype=object))
        results = {}
        for name in ("rules", "popularity"):
            if name == "rules":
                rows, _, items, _ = model._top_n(query, int(k), True)
            else:
                rows, items = _popular_top_n(model, query, int(k))
            hit = np.zeros(len(target), dtype=bool)
            hit[rows[items == target[rows]]] = True
            results[name] = _aggregate(hit, owner, int(k))
        frame = pd.DataFrame.from_dict(results, orient="index")
        frame.index.name = "model"
        frame.attrs.update(
            {
                "k": int(k),
                "calibration_end": str(np.datetime64(int(cutoff), "D")),
                "n_rules": len(model.rules_),
            }
        )
        return frame

    # --- persistence ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted recommender as plain JSON-serialisable data.

        Returns
        -------
        dict
            Parameters, item labels and supports, and the rules as item
            codes with their metrics; ``json.dumps`` works on it.

        Raises
        ------
        ValueError
            When an item label is not a JSON value (str, int, float, bool).
        """
        check_is_fitted(self, "rules_")
        items = [_json_label(v) for v in self.item_support_.index.tolist()]
        code = {label: i for i, label in enumerate(items)}
        rules = self.rules_
        params = self.get_params()
        schema = params.pop("schema")
        if isinstance(schema, TransactionSchema):
            schema = {
                k: v for k, v in dataclasses.asdict(schema).items() if v is not None and v != ()
            }
        params["schema"] = dict(schema) if schema is not None else None
        return {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "params": params,
            "n_baskets": self.n_baskets_,
            "items": items,
            "item_support": self.item_support_.to_numpy().tolist(),
            "rules": {
                "antecedents": [[code[_json_label(i)] for i in a] for a in rules["antecedents"]],
                "consequents": [[code[_json_label(i)] for i in c] for c in rules["consequents"]],
                **{m: [_json_number(v) for v in rules[m].tolist()] for m in RULE_METRICS},
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> CrossSellRecommender:
        """Rebuild a fitted recommender from :meth:`to_dict` output (or its JSON text).

        The export is checked completely before anything is built from it,
        because it may come from someone else (a CRM system loading a saved
        model).

        Parameters
        ----------
        data : mapping or str
            As returned by :meth:`to_dict` (possibly after a JSON round
            trip), or its JSON text: exactly the fields ``format``,
            ``version``, ``params``, ``n_baskets``, ``items``,
            ``item_support`` and ``rules``.

        Returns
        -------
        CrossSellRecommender

        Raises
        ------
        InvalidModelError
            For anything :meth:`to_dict` would not write. Its ``reason`` (the
            codes of :mod:`custintel.export`) is ``"wrong_model"`` for what
            is not an export or has another ``format`` than
            ``"custintel.CrossSellRecommender"``;
            ``"bad_format_version"`` (``version`` is not 1);
            ``"missing_field"`` or ``"unknown_field"`` (top-level fields,
            ``params`` names, ``rules`` columns); ``"bad_parameter"``: a
            parameter :meth:`fit` refuses, an ``n_baskets`` that is not a
            whole number >= 1; ``items`` that are not distinct strings or
            numbers; an ``item_support`` that is
            not one number in [0, 1] per item; rules whose ``antecedents``
            are not non-empty lists of distinct item codes (positions in
            ``items``), whose ``consequents`` are not one item code outside
            the antecedent, or whose metrics are not one finite number per
            rule in the metric's range (``support``, ``confidence``,
            ``jaccard``... in [0, 1], ``lift`` >= 0, ``leverage`` in
            [-0.25, 0.25], ``zhangs_metric`` in [-1, 1], ``certainty`` <= 1,
            ``conviction`` >= 0 or null for infinite).

        Examples
        --------
        >>> from custintel.exceptions import InvalidModelError
        >>> model = CrossSellRecommender(min_support=0.5).fit([["a", "b"], ["a", "b"], ["a"]])
        >>> export = model.to_dict()
        >>> CrossSellRecommender.from_dict(export).recommend([["a"]], n=1)["item_id"].tolist()
        ['b']
        >>> export["rules"]["confidence"][0] = 1.5
        >>> try:
        ...     CrossSellRecommender.from_dict(export)
        ... except InvalidModelError as err:
        ...     print(err.reason)
        bad_parameter
        """
        reader = ExportReader("CrossSellRecommender export")
        data = reader.load(data)
        if "format" not in data:
            reader.fail("field 'format' is missing", reason="missing_field")
        if not isinstance(data["format"], str) or data["format"] != _FORMAT:
            reader.fail(
                f"not a CrossSellRecommender export: field 'format' is {show(data['format'])}, "
                f"expected {_FORMAT!r}",
                reason="wrong_model",
            )
        reader.format_version(data, (_FORMAT_VERSION,), field="version")
        reader.keys(
            data,
            required=("format", "version", "params", "n_baskets", "items", "item_support", "rules"),
        )
        model = cls._from_params(reader, data["params"])
        n_baskets = reader.integer(data["n_baskets"], "n_baskets", Domain(1))

        labels = reader.array(data["items"], "items")
        for at, label in enumerate(labels):
            if not _is_json_label(label):
                reader.reject(f"items[{at}]", label, "a string or a finite number (an item label)")
        items = np.empty(len(labels), dtype=object)
        items[:] = labels
        item_index = pd.Index(items, name="item_id", dtype=object)
        if not item_index.is_unique:
            twice = item_index[item_index.duplicated()][0]
            reader.fail(
                f"item {show(twice)} is listed twice in field 'items' (labels must be distinct; "
                "1, 1.0 and true are the same label)"
            )
        support = reader.numbers(
            data["item_support"], "item_support", UNIT_INTERVAL, length=len(items)
        )

        rules = reader.keys(
            data["rules"],
            "rules",
            required=("antecedents", "consequents", *RULE_METRICS),
            where="rule column",
        )
        n_rules = len(reader.array(rules["antecedents"], "rules.antecedents"))
        columns: dict[str, Any] = {}
        for side in ("antecedents", "consequents"):
            column = np.empty(n_rules, dtype=object)
            column[:] = [
                tuple(items[c] for c in codes)
                for codes in _item_codes(reader, rules, side, n_rules, len(items))
            ]
            columns[side] = column
        for metric in RULE_METRICS:
            domain = _METRIC_DOMAINS.get(metric, ANY_NUMBER)
            infinite = math.inf if metric == "conviction" else None
            columns[metric] = reader.numbers(
                rules[metric], f"rules.{metric}", domain, length=n_rules, none_means=infinite
            )

        # to_dict writes both best first; sorting again (a no-op then) keeps recommend's
        # invariant whatever order a hand-made export uses.
        model.item_support_ = pd.Series(support, index=item_index, name="support").iloc[
            np.argsort(-support, kind="stable")
        ]
        model.rules_ = _sort_rules(pd.DataFrame(columns), model.rank_by)
        model.n_baskets_ = n_baskets
        model.n_rules_found_ = len(model.rules_)
        model.n_baskets_dropped_ = 0
        return model

    @classmethod
    def _from_params(cls, reader: ExportReader, value: Any) -> CrossSellRecommender:
        """Build the estimator from an export's ``params``, checked as ``fit`` checks them."""
        names = tuple(cls().get_params(deep=False))
        # Exports written before max_rules (max_basket_size) existed kept every rule (basket).
        later = ("max_rules", "max_basket_size")
        required = tuple(n for n in names if n not in later)
        params = reader.keys(value, "params", required=required, optional=later, where="parameter")
        model = cls(**params)

        def check() -> None:
            model._check_params()
            _check_positive_int(model.max_itemsets, "max_itemsets")
            if model.max_basket_size is not None:
                _check_positive_int(model.max_basket_size, "max_basket_size")
            TransactionSchema.coerce(model.schema)

        # OverflowError: float(10**400)
        reader.checked("params", check, (TypeError, ValueError, OverflowError))
        return model


# --- helpers -------------------------------------------------------------------------------


def _is_transactions(data: Any) -> bool:
    """Whether ``data`` is a transaction log (a frame that is not one-hot)."""
    if not isinstance(data, pd.DataFrame) and not type(data).__module__.startswith("polars"):
        return False
    if not isinstance(data, pd.DataFrame):
        return True
    return not all(
        ptypes.is_bool_dtype(dtype) or ptypes.is_numeric_dtype(dtype) for dtype in data.dtypes
    )


def _labels(index: pd.Index) -> np.ndarray:
    labels = np.empty(len(index), dtype=object)
    labels[:] = [v.item() if isinstance(v, np.generic) else v for v in index.tolist()]
    return labels


def _merge_rows(matrix: sparse.csr_matrix, owners: Any) -> sparse.csr_matrix:
    """Merge the rows of each owner (customer) into one row: the union of their items."""
    owners = np.asarray(owners)
    if len(owners) != matrix.shape[0]:
        raise ValueError(
            f"got {len(owners)} customer ids for {matrix.shape[0]} baskets; pass one per basket"
        )
    codes, _ = pd.factorize(owners, sort=True)
    merge = sparse.csr_matrix(
        (np.ones(len(codes), dtype=np.int32), (codes, np.arange(len(codes)))),
        shape=(int(codes.max()) + 1, len(codes)),
    )
    merged = sparse.csr_matrix(merge @ sparse.csr_matrix(matrix, dtype=np.int32), dtype=bool)
    merged.sort_indices()
    return merged


def _lists_over_known(data: Any, known: np.ndarray) -> sparse.csr_matrix | None:
    """Encode plain lists (or tuples) of item labels straight over the fitted items.

    The common scoring input (a Series of item lists per customer), without
    encoding the baskets' own labels first. It gives the matrix that
    ``encode_baskets`` and :func:`_reindex_columns` give; ``None`` for any
    other input, or one that ``encode_baskets`` must check or refuse (no
    baskets, a missing or unhashable item), which then takes that path.
    """
    baskets = data.tolist() if isinstance(data, pd.Series) else data
    if not isinstance(baskets, list) or not baskets:
        return None
    if not all(type(basket) in (list, tuple) for basket in baskets):
        return None
    lengths = np.fromiter(map(len, baskets), dtype=np.int64, count=len(baskets))
    flat = np.empty(int(lengths.sum()), dtype=object)
    flat[:] = list(chain.from_iterable(baskets))
    if len(flat) and bool(pd.isna(flat).any()):
        return None
    try:
        columns = pd.Index(known, dtype=object).get_indexer(pd.Index(flat, dtype=object))
    except TypeError:  # an unhashable item
        return None
    keep = columns >= 0
    rows = np.repeat(np.arange(len(baskets)), lengths)[keep]
    matrix = sparse.csr_matrix(
        (np.ones(int(keep.sum()), dtype=bool), (rows, columns[keep])),
        shape=(len(baskets), len(known)),
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


def _reindex_columns(
    matrix: sparse.csr_matrix, labels: np.ndarray, known: np.ndarray
) -> sparse.csr_matrix:
    """Re-express columns over the fitted items; unknown items are dropped."""
    at = pd.Index(known, dtype=object).get_indexer(pd.Index(labels, dtype=object))
    columns = at[matrix.indices]
    keep = columns >= 0
    n_rows = matrix.shape[0]
    row_of = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
    lengths = np.bincount(row_of[keep], minlength=n_rows)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    result = sparse.csr_matrix(
        (np.ones(int(keep.sum()), dtype=bool), columns[keep], indptr),
        shape=(n_rows, len(known)),
    )
    result.sort_indices()
    return result


def _sort_rules(rules: pd.DataFrame, rank_by: str) -> pd.DataFrame:
    """Order rules best first: ``rank_by``, confidence, lift, support, then as mined."""
    keys = [rules[m].to_numpy() for m in ("support", "lift", "confidence", rank_by)]
    order = np.lexsort([-k for k in keys])
    return rules.iloc[order].reset_index(drop=True)


def _rank_items(
    query: sparse.csr_matrix,
    antecedents: sparse.csr_matrix,
    sizes: np.ndarray,
    consequents: np.ndarray,
    popularity: np.ndarray,
    n: int,
    exclude: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Top ``n`` (query row, rank, item code, rule position or -1) of every query row.

    Rows come in ascending order, each with its recommendations by rank. The
    queries are ranked in chunks whose rule firings and ranking table stay
    bounded (:data:`_FIRINGS_PER_CHUNK`, :data:`_CELLS_PER_CHUNK`).
    """
    n_queries, n_items = query.shape
    query_int = sparse.csr_matrix(query, dtype=np.int32)
    held_per_row = np.diff(query_int.indptr)
    # Only these items can be recommended: a rule's consequent, or one of the popular
    # items a top-up can reach (a row skips at most what it holds and what rules gave it).
    width = min(len(popularity), 2 * n + int(held_per_row.max(initial=0)))
    candidates = np.union1d(consequents, popularity[:width]).astype(np.int64)
    rows_per_chunk = max(1, _CELLS_PER_CHUNK // max(len(candidates), 1))
    rules_per_item = np.bincount(antecedents.indices, minlength=n_items)
    bound = np.cumsum(query_int @ rules_per_item)  # firings possible up to each row
    outputs = []
    start = 0
    while start < n_queries:
        base = bound[start - 1] if start else 0
        stop = int(np.searchsorted(bound, base + _FIRINGS_PER_CHUNK, side="right"))
        stop = min(max(stop, start + 1), start + rows_per_chunk)
        outputs.append(
            _top_n_chunk(
                query_int[start:stop],
                start,
                antecedents,
                sizes,
                consequents,
                popularity,
                n,
                exclude,
                candidates,
            )
        )
        start = stop
    if not outputs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return tuple(np.concatenate(parts) for parts in zip(*outputs, strict=True))  # type: ignore[return-value]


def _top_n_chunk(
    query: sparse.csr_matrix,
    offset: int,
    antecedents: sparse.csr_matrix,
    sizes: np.ndarray,
    consequents: np.ndarray,
    popularity: np.ndarray,
    n: int,
    exclude: bool,
    candidates: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rank the ``candidates`` (sorted item codes) for each query row of one chunk.

    Each (row, candidate) cell holds a sort key: the position of the item's
    best firing rule (rules are sorted best first), else the number of rules
    plus the item's popularity rank, so rule items come first, best rule
    first, then popular items, most popular first. Held items (with
    ``exclude``) get no key. The ``n`` smallest keys of a row are its
    recommendations; keys within a row are distinct.
    """
    n_queries, n_items = query.shape
    n_rules, n_candidates = len(sizes), len(candidates)
    column = np.full(n_items, -1, dtype=np.int64)
    column[candidates] = np.arange(n_candidates)
    popularity_rank = np.empty(len(popularity), dtype=np.int64)
    popularity_rank[popularity] = np.arange(len(popularity))
    none = n_rules + n_items  # larger than every key
    dtype = np.int32 if none < np.iinfo(np.int32).max else np.int64
    keys = np.empty((n_queries, n_candidates), dtype=dtype)
    keys[:] = (n_rules + popularity_rank[candidates]).astype(dtype)
    flat = keys.reshape(-1)
    if n_rules:
        # A rule fires when the query holds its whole antecedent.
        overlap = sparse.csr_matrix(query @ antecedents.T)
        row = np.repeat(np.arange(n_queries, dtype=np.int64), np.diff(overlap.indptr))
        rule = overlap.indices.astype(np.int64)
        fires = overlap.data == sizes[rule]
        row, rule = row[fires], rule[fires]
        cell = row * n_candidates + column[consequents[rule]]
        np.minimum.at(flat, cell, rule.astype(dtype))
    if exclude:
        held = column[query.indices]
        row = np.repeat(np.arange(n_queries, dtype=np.int64), np.diff(query.indptr))
        known = held >= 0
        flat[row[known] * n_candidates + held[known]] = none
    k = min(n, n_candidates)
    if k <= _ARGMIN_UP_TO and k < n_candidates:
        # A few passes of argmin beat a partition of every row.
        best = np.empty((n_queries, k), dtype=np.int64)
        chosen = np.empty((n_queries, k), dtype=dtype)
        every = np.arange(n_queries)
        for j in range(k):
            best[:, j] = at = keys.argmin(axis=1)
            chosen[:, j] = keys[every, at]
            keys[every, at] = none
    elif k < n_candidates:
        best = np.argpartition(keys, k - 1, axis=1)[:, :k]
        chosen = np.take_along_axis(keys, best, axis=1)
        by_key = np.argsort(chosen, axis=1, kind="stable")
        best = np.take_along_axis(best, by_key, axis=1)
        chosen = np.take_along_axis(chosen, by_key, axis=1)
    else:
        best = np.argsort(keys, axis=1, kind="stable")
        chosen = np.take_along_axis(keys, best, axis=1)
    # Keys are distinct within a row, so the rows' valid keys come first, in rank order.
    valid = (chosen < none).reshape(-1)
    row = np.repeat(np.arange(n_queries, dtype=np.int64), k)[valid]
    rank = np.tile(np.arange(k, dtype=np.int64), n_queries)[valid]
    item = candidates[best.reshape(-1)[valid]]
    key = chosen.reshape(-1)[valid].astype(np.int64)
    rule = np.where(key < n_rules, key, -1)
    return row + offset, rank, item, rule


def _popular_top_n(
    model: CrossSellRecommender, query: sparse.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` popular items not in each query row (the baseline)."""
    known = pd.Index(model._item_labels(), dtype=object)
    popularity = known.get_indexer(pd.Index(model.item_support_.index, dtype=object))
    empty = sparse.csr_matrix((0, query.shape[1]), dtype=np.int32)
    rows, _, items, _ = _rank_items(
        query,
        empty,
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        popularity,
        k,
        True,
    )
    return rows, items


def _next_order_queries(
    baskets: Any, past: np.ndarray
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Leave-one-out queries from each customer's first order after the split.

    Returns the query matrix (the order without one item), the held-out item
    code of each query, and the customer (code) each query belongs to.
    """
    future = np.flatnonzero(~past)
    customer_codes, _ = pd.factorize(baskets.customers[future])
    sizes = np.diff(baskets.matrix.indptr)[future]
    # First order after the split per customer: earliest day, then lowest order id.
    order = np.lexsort((future, baskets.days[future], customer_codes))
    first_of_customer = order[np.r_[True, customer_codes[order][1:] != customer_codes[order][:-1]]]
    chosen = first_of_customer[sizes[first_of_customer] >= 2]
    next_orders = baskets.matrix[future[chosen]]
    m = np.diff(next_orders.indptr)
    # Query j of an order with m items drops item j: m queries of m - 1 items each.
    query_owner = np.repeat(np.arange(len(chosen)), m)
    dropped = np.arange(len(query_owner)) - np.repeat(np.cumsum(m) - m, m)
    entries_owner = np.repeat(query_owner, m[query_owner])
    entry_pos = np.arange(len(entries_owner)) - np.repeat(
        np.cumsum(m[query_owner]) - m[query_owner], m[query_owner]
    )
    query_of_entry = np.repeat(np.arange(len(query_owner)), m[query_owner])
    keep = entry_pos != dropped[query_of_entry]
    entry_items = next_orders.indices[next_orders.indptr[entries_owner] + entry_pos]
    lengths = m[query_owner] - 1
    query = sparse.csr_matrix(
        (
            np.ones(int(keep.sum()), dtype=bool),
            entry_items[keep],
            np.concatenate([[0], np.cumsum(lengths)]),
        ),
        shape=(len(query_owner), baskets.matrix.shape[1]),
    )
    target = next_orders.indices[next_orders.indptr[query_owner] + dropped]
    return query, target, query_owner


def _aggregate(hit: np.ndarray, owner: np.ndarray, k: int) -> dict[str, float]:
    n_owners = int(owner.max()) + 1
    hits = np.bincount(owner, weights=hit, minlength=n_owners)
    queries = np.bincount(owner, minlength=n_owners)
    return {
        "hit_rate": float(np.mean(hits > 0)),
        "precision": float(np.mean(hits / (k * queries))),
        "recall": float(np.mean(hits / queries)),
        "n_customers": n_owners,
        "n_queries": len(hit),
    }


def _json_label(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ValueError(
        f"item label {value!r} ({type(value).__name__}) is not a JSON value; to_dict needs "
        "item labels that are strings or numbers"
    )


def _is_json_label(value: Any) -> bool:
    """Whether ``value`` is an item label ``to_dict`` writes: a string or a finite number."""
    if isinstance(value, (str, bool, int)):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _item_codes(
    reader: ExportReader, rules: Mapping[str, Any], side: str, n_rules: int, n_items: int
) -> list[list[int]]:
    """Check one side of the exported rules: per rule, distinct positions in ``items``."""
    field = f"rules.{side}"
    sides = reader.array(rules[side], field, length=n_rules)
    antecedents = rules["antecedents"]
    all_codes = []
    for at, codes in enumerate(sides):
        where = f"{field}[{at}]"
        codes = reader.array(codes, where)
        positions = Domain(0, n_items - 1, label=f"in [0, {n_items - 1}] (a position in 'items')")
        for code in codes:
            reader.integer(code, where, positions, label=f"an item code in {where}")
        if side == "antecedents" and (not codes or len(set(codes)) != len(codes)):
            reader.reject(
                where, codes, "a non-empty list of distinct item codes (positions in 'items')"
            )
        if side == "consequents" and (len(codes) != 1 or codes[0] in antecedents[at]):
            reader.reject(where, codes, "one item code, not in the rule's antecedent")
        all_codes.append(codes)
    return all_codes


def _json_number(value: float) -> float | None:
    # JSON has no infinity: conviction is infinite when confidence is 1.
    return None if math.isinf(value) else float(value)
