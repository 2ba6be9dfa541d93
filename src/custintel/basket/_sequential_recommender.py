"""``SequentialRecommender``: what customers buy next, from "X, then Y within d days" rules."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custintel._validation import to_day
from custintel.basket._encode import encode_baskets
from custintel.basket._itemsets import check_min_support
from custintel.basket._recommender import (
    RECOMMENDATION_COLUMNS,
    _is_json_label,
    _json_label,
    _lists_over_known,
    _rank_items,
    _reindex_columns,
)
from custintel.basket._sequential import (
    Occasions,
    _check_bool,
    _check_confidence,
    _check_positive,
    check_gap,
    occasions_from_validated,
    rules_from_occasions,
    validate_sequence_log,
)
from custintel.export import UNIT_INTERVAL, Domain, ExportReader, as_float, show
from custintel.features import canonical_order
from custintel.schema import TransactionSchema
from custintel.typing import DateLike, TransactionsLike

__all__ = ["SequentialRecommender"]

_FORMAT = "custintel.SequentialRecommender"
_FORMAT_VERSION = 1
_RANK_BY = ("confidence", "lift")
_ROUNDING = 1e-9
_SHARE = Domain(0.0, 1.0 + _ROUNDING, label="in [0, 1]")
_METRICS = ("support", "antecedent_support", "consequent_support", "confidence", "lift")


@dataclass(kw_only=True, repr=False, eq=False)
class SequentialRecommender(BaseEstimator):
    r"""Recommend what each customer buys next from sequential rules, with popularity as fallback.

    ``fit`` mines the rules "bought X, then within ``max_gap_days`` days
    bought Y" over customers (:func:`~custintel.basket.sequential_rules`).
    ``recommend`` fires every rule whose X a customer bought in the last
    ``lookback_days`` days before the reference date, scores each Y by its
    best rule, and tops up with the items most customers bought when the
    rules give fewer than ``n``. Each recommendation carries the rule that
    fired. Its inputs and outputs are those of
    :class:`~custintel.basket.CrossSellRecommender`, so either serves the
    same caller.

    Parameters
    ----------
    max_gap_days : int, default=30
        Longest gap, in days, from buying X to buying Y; at least 1.
    min_support : float, default=0.01
        Minimum share of customers holding a rule's pair, in (0, 1].
    min_confidence : float, default=0.05
        Minimum confidence of a rule, in [0, 1].
    rank_by : {"confidence", "lift"}, default="confidence"
        Metric that scores an item: the value of its best firing rule. Ties
        are broken by confidence, lift, then support.
    lookback_days : int or None, default=None
        Items bought this many days back, up to and including the reference
        date, fire rules; ``None`` means ``max_gap_days`` (the items whose
        follow-up window is still open).
    repeats : bool, default=False
        Also mine rules ``X -> X`` (buying the same item again), which
        recommend a held item when ``exclude_purchased=False``.
    schema : TransactionSchema, dict or None, default=None
        Column mapping of transaction input.
    max_rules : int or None, default=None
        Keep at most this many rules, the best by ``rank_by``; ``None``
        keeps them all.
    max_pairs : int, default=10_000_000
        Refuse to count more distinct item pairs than this; see
        :func:`~custintel.basket.sequential_rules`.

    Attributes
    ----------
    rules_ : pandas.DataFrame
        The rules, in the columns of
        :func:`~custintel.basket.sequential_rules`, best first by ``rank_by``.
    item_support_ : pandas.Series
        Share of customers who bought each item, indexed by ``item_id``,
        most popular first; the popularity fallback.
    n_customers_ : int
        Customers fitted on.
    observation_end_ : pandas.Timestamp
        Last day of the fitted log: the default reference date of
        :meth:`recommend`, so a customer's recommendations do not depend on
        who else is scored with it.
    n_rules_found_ : int
        Rules mined before the ``max_rules`` cap.

    See Also
    --------
    sequential_rules : The rules behind the recommendations.
    CrossSellRecommender : Recommendations from items bought together.

    Notes
    -----
    An item's score is :math:`\max_r m(r)` over the firing rules
    :math:`r: X \Rightarrow Y`, X bought within the last ``lookback_days``
    days, and :math:`m` is ``rank_by``. Popularity rows come after every rule
    row, scored by the share of customers who bought the item.

    Given baskets (lists of items) rather than a log, each basket is taken as
    what the customer just bought: all its items fire rules.

    The fitted model keeps the rules and item supports only, never the
    training log. It round-trips through joblib and through plain JSON
    (:meth:`to_dict`, :meth:`from_dict`).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c", "c", "d"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-02-01",
    ...                                  "2024-02-03", "2024-03-01", "2024-03-20",
    ...                                  "2024-03-30"]),
    ...     "item_id": ["tent", "stove", "tent", "stove", "tent", "lamp", "tent"],
    ...     "amount": [100.0, 30.0, 100.0, 30.0, 100.0, 12.0, 100.0],
    ... })
    >>> model = SequentialRecommender(max_gap_days=30, min_support=0.25).fit(tx)
    >>> model.recommend(tx, n=1)[["item_id", "source", "rule"]]
                item_id      source                                   rule
    customer_id
    a              lamp  popularity  popular: bought by 25.0% of customers
    b              lamp  popularity  popular: bought by 25.0% of customers
    c             stove        rule           tent -> stove within 30 days
    d             stove        rule           tent -> stove within 30 days

    Two of the four tent buyers bought a stove within 30 days (confidence
    0.5). On the
    reference date (2024-03-30, the end of the log) only ``c`` and ``d``
    bought a tent within the last 30 days; ``a`` and ``b`` get the most
    popular item they do not hold.
    """

    max_gap_days: int = 30
    min_support: float = 0.01
    min_confidence: float = 0.05
    rank_by: Literal["confidence", "lift"] = "confidence"
    lookback_days: int | None = None
    repeats: bool = False
    schema: TransactionSchema | Mapping[str, str] | None = None
    max_rules: int | None = None
    max_pairs: int = 10_000_000

    # --- fitting -------------------------------------------------------------------------

    def fit(self, X: TransactionsLike, y: Any = None) -> SequentialRecommender:
        """Mine the sequential rules from a transaction log.

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame
            A transaction log with ``customer_id``, ``timestamp``,
            ``item_id`` and ``amount`` (``order_id`` is not needed).
        y : None
            Ignored.

        Returns
        -------
        SequentialRecommender
            The fitted recommender.
        """
        self._check_params()
        validated = validate_sequence_log(X, self.schema)
        return self._fit_occasions(occasions_from_validated(validated))

    def _check_params(self) -> None:
        check_gap(self.max_gap_days)
        check_min_support(self.min_support)
        _check_confidence(self.min_confidence)
        if self.rank_by not in _RANK_BY:
            raise ValueError(f"rank_by must be one of {list(_RANK_BY)}, got {self.rank_by!r}")
        if self.lookback_days is not None:
            check_gap(self.lookback_days, "lookback_days")
        _check_bool(self.repeats, "repeats")
        if self.max_rules is not None:
            _check_positive(self.max_rules, "max_rules")
        _check_positive(self.max_pairs, "max_pairs")

    def _fit_occasions(self, occasions: Occasions) -> SequentialRecommender:
        rules = rules_from_occasions(
            occasions,
            max_gap_days=int(self.max_gap_days),
            min_support=float(self.min_support),
            min_confidence=as_float(self.min_confidence),
            repeats=bool(self.repeats),
            max_pairs=int(self.max_pairs),
        )
        n_customers = int(rules.attrs["n_customers"])
        ranked = _sort_rules(rules, self.rank_by)
        self.n_rules_found_ = len(ranked)
        if self.max_rules is not None and len(ranked) > self.max_rules:
            ranked = ranked.iloc[: int(self.max_rules)].reset_index(drop=True)
        ranked.attrs = {}
        self.rules_ = ranked
        bought = np.bincount(
            occasions.customer_items().indices, minlength=len(occasions.items)
        ) / float(n_customers)
        support = pd.Series(
            bought, index=pd.Index(occasions.items, name="item_id", dtype=object), name="support"
        )
        support = support[support > 0]
        self.item_support_ = support.iloc[np.argsort(-support.to_numpy(), kind="stable")]
        self.n_customers_ = n_customers
        self.observation_end_ = pd.Timestamp(np.datetime64(occasions.end_day, "D"))
        return self

    # --- scoring -------------------------------------------------------------------------

    def recommend(
        self,
        customers_or_baskets: Any,
        *,
        n: int = 5,
        exclude_purchased: bool = True,
        as_of: DateLike = None,
    ) -> pd.DataFrame:
        """Rank the items to offer each customer or basket next.

        Parameters
        ----------
        customers_or_baskets : DataFrame, mapping, Series or list of baskets
            What each customer bought:

            - a transaction log: rows indexed by ``customer_id``; items
              bought in the last ``lookback_days`` days up to ``as_of`` fire
              rules, and everything bought up to ``as_of`` counts as held
              (lines after ``as_of`` are ignored);
            - a mapping of customer id to items, or a Series of item lists
              indexed by customer: items just bought;
            - a list of baskets, indexed by position (``basket``).

            Items unknown to the model are ignored.
        n : int, default=5
            Recommendations per customer.
        exclude_purchased : bool, default=True
            Never recommend an item the customer already holds.
        as_of : date-like, optional
            Reference date for a transaction log; by default
            ``observation_end_``, the last day of the fitted log.

        Returns
        -------
        pandas.DataFrame
            One row per (customer, item), indexed by customer (or basket),
            in the columns of :class:`~custintel.basket.CrossSellRecommender`'s
            ``recommend``: ``rank``, ``item_id``, ``score``, ``source``
            (``"rule"`` or ``"popularity"``), ``antecedents`` (``(X,)``; empty
            for popularity), ``confidence``, ``lift`` and ``rule``, a
            readable sentence.
        """
        check_is_fitted(self, "rules_")
        n = _check_n(n)
        query, index = self._queries(customers_or_baskets, as_of)
        rows, ranks, items, rule_at = self._top_n(
            query, n, _check_bool(exclude_purchased, "exclude_purchased")
        )
        return self._frame(index[rows], ranks, items, rule_at)

    def recommend_items(
        self,
        customers_or_baskets: Any,
        *,
        n: int = 5,
        exclude_purchased: bool = True,
        as_of: DateLike = None,
    ) -> pd.DataFrame:
        """Return only the recommended item ids: one row per customer, one column per rank.

        Parameters
        ----------
        customers_or_baskets : DataFrame, mapping, Series or list of baskets
            What each customer bought, as in :meth:`recommend`.
        n : int, default=5
            Recommendations per customer.
        exclude_purchased : bool, default=True
            Never recommend an item the customer already holds.
        as_of : date-like, optional
            Reference date for a transaction log, as in :meth:`recommend`.

        Returns
        -------
        pandas.DataFrame
            One row per customer (or basket), in input order; columns
            ``item_1`` to ``item_<n>`` hold the item id of each rank
            (object dtype), ``None`` where a customer gets fewer than ``n``.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b", "b", "c"],
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-02",
        ...                                  "2024-01-20", "2024-01-03"]),
        ...     "item_id": ["tent", "stove", "tent", "stove", "lamp"],
        ...     "amount": [100.0, 30.0, 100.0, 30.0, 12.0],
        ... })
        >>> model = SequentialRecommender(max_gap_days=30, min_support=0.5).fit(tx)
        >>> model.recommend_items([["tent"], ["stove"]], n=2)
               item_1 item_2
        basket
        0       stove   lamp
        1        tent   lamp

        A basket with a tent fires ``tent -> stove``; nothing follows a
        stove, so the second basket gets the popular items it lacks.
        """
        check_is_fitted(self, "rules_")
        n = _check_n(n)
        query, index = self._queries(customers_or_baskets, as_of)
        rows, ranks, items, _ = self._top_n(
            query, n, _check_bool(exclude_purchased, "exclude_purchased")
        )
        table = np.full((len(index), n), None, dtype=object)
        table[rows, ranks] = self._item_labels()[items]
        return pd.DataFrame(
            {f"item_{k + 1}": table[:, k] for k in range(n)}, index=index, dtype=object
        )

    def _item_labels(self) -> np.ndarray:
        labels = np.empty(len(self.item_support_), dtype=object)
        labels[:] = self.item_support_.index.tolist()
        return labels[canonical_order(labels)]

    def _queries(self, data: Any, as_of: DateLike) -> tuple[sparse.csr_matrix, pd.Index]:
        """Held items in columns ``[0, f)`` and rule-firing items in ``[f, 2f)``."""
        known = self._item_labels()
        if isinstance(data, pd.DataFrame) or type(data).__module__.startswith("polars"):
            if isinstance(data, pd.DataFrame) and _is_one_hot(data):
                encoded = encode_baskets(data)
                matrix = _reindex_columns(encoded.matrix, encoded.labels, known)
                return sparse.hstack([matrix, matrix], format="csr"), data.index.rename(
                    data.index.name or "basket"
                )
            return self._log_queries(data, as_of, known)
        if as_of is not None:
            raise ValueError(
                "as_of is for a transaction log; baskets (lists of items) have no dates"
            )
        if isinstance(data, Mapping):
            index = pd.Index(list(data.keys()), name="customer_id")
            data = list(data.values())
        elif isinstance(data, pd.Series):
            index = data.index.rename(data.index.name or "customer_id")
        else:
            if data is None or isinstance(data, numbers.Number):
                raise TypeError(
                    "recommend takes a transaction log, a mapping of customer to items, a "
                    f"Series of item lists or a list of baskets; got {type(data).__name__}"
                )
            data = list(data) if not isinstance(data, (str, bytes)) else data
            index = pd.RangeIndex(len(data) if isinstance(data, list) else 0, name="basket")
        matrix = _lists_over_known(data, known)
        if matrix is None:
            encoded = encode_baskets(data)
            matrix = _reindex_columns(encoded.matrix, encoded.labels, known)
        return sparse.hstack([matrix, matrix], format="csr"), index

    def _log_queries(
        self, data: Any, as_of: DateLike, known: np.ndarray
    ) -> tuple[sparse.csr_matrix, pd.Index]:
        end = self.observation_end_ if as_of is None else as_of
        end_day = int(to_day(end, "as_of").astype(np.int64))
        validated = validate_sequence_log(data, self.schema)
        occasions = occasions_from_validated(validated, until_day=end_day)
        n_customers = occasions.n_customers
        lookback = int(self.lookback_days or self.max_gap_days)
        recent = occasions.day > end_day - lookback
        held = occasions.customer_items()
        recent_matrix = occasions.matrix[recent]
        owner = occasions.customer[recent]
        merge = sparse.csr_matrix(
            (np.ones(len(owner), dtype=np.int32), (owner, np.arange(len(owner)))),
            shape=(n_customers, len(owner)),
        )
        fired = sparse.csr_matrix(merge @ sparse.csr_matrix(recent_matrix, dtype=np.int32))
        fired.data[:] = 1
        held = _reindex_columns(held, occasions.items, known)
        fired = _reindex_columns(sparse.csr_matrix(fired, dtype=bool), occasions.items, known)
        index = pd.Index(occasions.customers, name="customer_id")
        return sparse.hstack([held, fired], format="csr"), index

    def _rule_arrays(self) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        """Antecedents over the "recent" columns ``[f, 2f)``, their sizes and consequents."""
        known = pd.Index(self._item_labels(), dtype=object)
        f = len(known)
        antecedent = known.get_indexer(pd.Index(self.rules_["antecedent"], dtype=object))
        consequent = known.get_indexer(pd.Index(self.rules_["consequent"], dtype=object))
        n_rules = len(antecedent)
        matrix = sparse.csr_matrix(
            (np.ones(n_rules, dtype=np.int32), f + antecedent, np.arange(n_rules + 1)),
            shape=(n_rules, 2 * f),
        )
        return matrix, np.ones(n_rules, dtype=np.int64), consequent.astype(np.int64)

    def _top_n(
        self, query: sparse.csr_matrix, n: int, exclude: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        antecedents, sizes, consequents = self._rule_arrays()
        popularity = pd.Index(self._item_labels(), dtype=object).get_indexer(
            pd.Index(self.item_support_.index, dtype=object)
        )
        return _rank_items(query, antecedents, sizes, consequents, popularity, n, exclude)

    def _frame(
        self, index: pd.Index, ranks: np.ndarray, items: np.ndarray, rule_at: np.ndarray
    ) -> pd.DataFrame:
        known = self._item_labels()
        rules = self.rules_
        from_rule = rule_at >= 0
        safe = np.where(from_rule, rule_at, 0)
        support = self.item_support_.reindex(pd.Index(known, dtype=object)).to_numpy()
        n_rules = len(rules)
        antecedent_of = np.empty(n_rules + 1, dtype=object)
        antecedent_of[:n_rules] = [(a,) for a in rules["antecedent"]]
        antecedent_of[n_rules] = ()
        sentences = np.empty(n_rules + 1, dtype=object)
        sentences[:n_rules] = [
            f"{a} -> {c} within {int(self.max_gap_days)} days"
            for a, c in zip(rules["antecedent"], rules["consequent"], strict=True)
        ]
        popular = np.empty(len(known), dtype=object)
        used = np.unique(items[~from_rule])
        popular[used] = [f"popular: bought by {s:.1%} of customers" for s in support[used]]
        if n_rules:
            score = np.where(from_rule, rules[self.rank_by].to_numpy()[safe], support[items])
            confidence = np.where(from_rule, rules["confidence"].to_numpy()[safe], np.nan)
            lift = np.where(from_rule, rules["lift"].to_numpy()[safe], np.nan)
        else:
            score = support[items]
            confidence = lift = np.full(len(items), np.nan)
        slot = np.where(from_rule, rule_at, n_rules)
        text = np.where(from_rule, sentences[slot], popular[items])
        item_column = np.empty(len(items), dtype=object)
        item_column[:] = known[items]
        frame = pd.DataFrame(
            {
                "rank": ranks + 1,
                "item_id": item_column,
                "score": score.astype(np.float64),
                "source": np.where(from_rule, "rule", "popularity").astype(object),
                "antecedents": antecedent_of[slot],
                "confidence": confidence,
                "lift": lift,
                "rule": np.asarray(text, dtype=object),
            },
            index=index,
        )
        return frame[list(RECOMMENDATION_COLUMNS)]

    # --- persistence ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted recommender as plain JSON-serialisable data.

        Returns
        -------
        dict
            Parameters, the reference date, item labels and supports, and
            the rules as item codes with their counts and metrics;
            ``json.dumps`` works on it.

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
            "n_customers": self.n_customers_,
            "observation_end": str(self.observation_end_.date()),
            "items": items,
            "item_support": self.item_support_.to_numpy().tolist(),
            "rules": {
                "antecedent": [code[_json_label(i)] for i in rules["antecedent"]],
                "consequent": [code[_json_label(i)] for i in rules["consequent"]],
                "n_customers": [int(v) for v in rules["n_customers"]],
                **{m: [float(v) for v in rules[m]] for m in _METRICS},
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> SequentialRecommender:
        """Rebuild a fitted recommender from :meth:`to_dict` output (or its JSON text).

        The export is checked completely before anything is built from it,
        because it may come from someone else.

        Parameters
        ----------
        data : mapping or str
            As returned by :meth:`to_dict` (possibly after a JSON round
            trip), or its JSON text.

        Returns
        -------
        SequentialRecommender

        Raises
        ------
        InvalidModelError
            For anything :meth:`to_dict` would not write, with the ``reason``
            codes of :mod:`custintel.export`: ``"wrong_model"``,
            ``"bad_format_version"``, ``"missing_field"``,
            ``"unknown_field"`` or ``"bad_parameter"`` (a parameter
            :meth:`fit` refuses, item labels that are not distinct strings
            or numbers, supports outside [0, 1], a rule whose item codes are
            not positions in ``items``, an ``X -> X`` rule without
            ``repeats``, counts that are not whole numbers in
            [1, ``n_customers``], a negative lift, a bad date).

        Examples
        --------
        >>> import pandas as pd
        >>> from custintel.exceptions import InvalidModelError
        >>> tx = pd.DataFrame({
        ...     "customer_id": ["a", "a", "b", "b"],
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03"] * 2),
        ...     "item_id": ["tent", "stove", "tent", "lamp"],
        ...     "amount": [100.0, 30.0, 100.0, 12.0],
        ... })
        >>> model = SequentialRecommender(min_support=0.5).fit(tx)
        >>> export = model.to_dict()
        >>> SequentialRecommender.from_dict(export).recommend([["tent"]], n=1)["item_id"].tolist()
        ['lamp']
        >>> export["rules"]["confidence"][0] = 1.5
        >>> try:
        ...     SequentialRecommender.from_dict(export)
        ... except InvalidModelError as err:
        ...     print(err.reason)
        bad_parameter
        """
        reader = ExportReader("SequentialRecommender export")
        data = reader.load(data)
        if "format" not in data:
            reader.fail("field 'format' is missing", reason="missing_field")
        if not isinstance(data["format"], str) or data["format"] != _FORMAT:
            reader.fail(
                f"not a SequentialRecommender export: field 'format' is "
                f"{show(data['format'])}, expected {_FORMAT!r}",
                reason="wrong_model",
            )
        reader.format_version(data, (_FORMAT_VERSION,), field="version")
        reader.keys(
            data,
            required=(
                "format",
                "version",
                "params",
                "n_customers",
                "observation_end",
                "items",
                "item_support",
                "rules",
            ),
        )
        params = reader.keys(
            data["params"],
            "params",
            required=tuple(cls().get_params(deep=False)),
            where="parameter",
        )
        model = cls(**params)

        def check() -> None:
            model._check_params()
            TransactionSchema.coerce(model.schema)

        reader.checked("params", check, (TypeError, ValueError, OverflowError))
        n_customers = reader.integer(data["n_customers"], "n_customers", Domain(1))
        end_text = reader.string(data["observation_end"], "observation_end")
        try:
            end = pd.Timestamp(np.datetime64(end_text, "D"))
        except ValueError:
            reader.reject("observation_end", end_text, "a date written YYYY-MM-DD")

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
            required=("antecedent", "consequent", "n_customers", *_METRICS),
            where="rule column",
        )
        n_rules = len(reader.array(rules["antecedent"], "rules.antecedent"))
        position = Domain(0, len(items) - 1, label=f"a position in 'items' (0 to {len(items) - 1})")
        columns: dict[str, Any] = {}
        for side in ("antecedent", "consequent"):
            codes = reader.array(rules[side], f"rules.{side}", length=n_rules)
            for at, value in enumerate(codes):
                reader.integer(value, f"rules.{side}[{at}]", position, label="an item code")
            columns[side] = np.asarray(codes, dtype=np.int64)
        if not model.repeats:
            same = np.flatnonzero(columns["antecedent"] == columns["consequent"])
            if len(same):
                reader.reject(
                    f"rules.consequent[{same[0]}]",
                    int(columns["consequent"][same[0]]),
                    "an item other than the antecedent (rules X -> X need repeats=True)",
                )
        counts = reader.array(rules["n_customers"], "rules.n_customers", length=n_rules)
        for at, value in enumerate(counts):
            reader.integer(value, f"rules.n_customers[{at}]", Domain(1, n_customers))
        columns["n_customers"] = np.asarray(counts, dtype=np.int64)
        for metric in _METRICS:
            domain = Domain(0.0, label=">= 0") if metric == "lift" else _SHARE
            columns[metric] = reader.numbers(
                rules[metric], f"rules.{metric}", domain, length=n_rules
            )
        for side in ("antecedent", "consequent"):
            column = np.empty(n_rules, dtype=object)
            column[:] = items[columns[side]] if n_rules else []
            columns[side] = column

        model.item_support_ = pd.Series(support, index=item_index, name="support").iloc[
            np.argsort(-support, kind="stable")
        ]
        model.rules_ = _sort_rules(pd.DataFrame(columns), model.rank_by)
        model.n_customers_ = n_customers
        model.observation_end_ = end
        model.n_rules_found_ = len(model.rules_)
        return model


# --- helpers -------------------------------------------------------------------------------


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    return int(n)


def _is_one_hot(frame: pd.DataFrame) -> bool:
    from pandas.api import types as ptypes

    return all(ptypes.is_bool_dtype(d) or ptypes.is_numeric_dtype(d) for d in frame.dtypes)


def _sort_rules(rules: pd.DataFrame, rank_by: str) -> pd.DataFrame:
    """Order rules best first: ``rank_by``, confidence, lift, support, then as mined."""
    keys = [rules[m].to_numpy() for m in ("support", "lift", "confidence", rank_by)]
    order = np.lexsort([-k for k in keys])
    return rules.iloc[order].reset_index(drop=True)
