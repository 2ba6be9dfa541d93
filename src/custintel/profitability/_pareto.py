"""``ParetoAnalysis``: concentration of value across customers (the 80/20 rule)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError
from custintel.profitability._values import TOLERANCE, customer_values, rank_order
from custintel.typing import CustomerValues

__all__ = ["ParetoAnalysis", "check_cuts", "check_share"]

#: Candidate columns of a customer table for each kind of value, first present wins.
VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "revenue": ("total_amount", "revenue"),
    "margin": ("total_margin",),
    "clv": ("clv",),
}

_HINTS = {
    "revenue": (
        "Build the table with custintel.summarize_customers(transactions) (column "
        "'total_amount') or custintel.features.customer_profitability (column 'revenue'), "
        "or name your column with column=..."
    ),
    "margin": (
        "'total_margin' is in custintel.summarize_customers(transactions) when the "
        "transactions have a cost or margin column, e.g. TransactionSchema(cost='unit_cost'); "
        "or name your column with column=..."
    ),
    "clv": (
        "Add it with X['clv'] = model.predict_clv(X, ...) using a fitted custintel.clv model, "
        "or name your column with column=..."
    ),
}


def check_share(name: str, value: Any) -> float:
    """Check a share in [0, 1] and return it as a float.

    Parameters
    ----------
    name : str
        Argument name, for the message.
    value : float
        The share.

    Returns
    -------
    float
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    share = float(value)
    if not 0.0 <= share <= 1.0:
        raise ValueError(
            f"{name} must be a share between 0 and 1 (e.g. 0.2 for 20%), got {value!r}"
        )
    return share


def check_cuts(cuts: Any, labels: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    """Check ABC cuts (increasing shares in (0, 1]) and labels; default labels A, B, C, ...

    Parameters
    ----------
    cuts : sequence of float
        Cumulative value shares closing each class but the last.
    labels : sequence of str or None
        One label per class (``len(cuts) + 1``).

    Returns
    -------
    cuts : numpy.ndarray
    labels : list of str
    """
    try:
        array = np.asarray(cuts, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(
            f"cuts must be a sequence of shares such as (0.8, 0.95), got {cuts!r}"
        ) from None
    if (
        len(array) == 0
        or not np.all(np.isfinite(array))
        or array[0] <= 0
        or array[-1] > 1
        or np.any(np.diff(array) <= 0)
    ):
        raise ValueError(
            f"cuts must be strictly increasing cumulative shares in (0, 1], such as (0.8, 0.95) "
            f"for A = first 80% of value, B = next 15%, C = last 5%; got {cuts!r}"
        )
    if labels is None:
        if len(array) > 25:
            raise ValueError("more than 25 cuts need explicit labels")
        names = [chr(ord("A") + i) for i in range(len(array) + 1)]
    else:
        names = [str(label) for label in labels]
        if len(names) != len(array) + 1 or len(set(names)) != len(names):
            raise ValueError(
                f"labels must be {len(array) + 1} distinct names, one per class "
                f"(len(cuts) + 1), got {labels!r}"
            )
    return array, names


class ParetoAnalysis(BaseEstimator):
    r"""Measure how concentrated value is across customers: Pareto table, Lorenz curve, Gini.

    Fitted on a customer table (one row per customer), e.g. from
    :func:`~custintel.summarize_customers`, or on a Series of one value per
    customer.

    Parameters
    ----------
    value : {"revenue", "margin", "clv"}, default="revenue"
        The value to analyse; selects the column read from a customer table:
        ``"revenue"`` reads ``total_amount`` (the summary) or ``revenue``
        (:func:`~custintel.features.customer_profitability`); ``"margin"``
        reads ``total_margin`` (the summary, when cost is mapped);
        ``"clv"`` reads ``clv``, a column you add with a CLV model's
        ``predict_clv``. Ignored when fitted on a Series.
    column : str or None, default=None
        Read this column instead.
    negative : {"raise", "clip", "drop"}, default="raise"
        Policy for negative values (e.g. net refunds larger than purchases,
        or a negative margin): ``"raise"`` raises a ``SchemaError``,
        ``"clip"`` counts them as 0 (the customer stays, in the last
        class), ``"drop"`` leaves those customers out of every result.
        Shares of a total are only meaningful for non-negative values; for
        profit with losses use :class:`WhaleCurve`.

    Attributes
    ----------
    table_ : pandas.DataFrame
        One row per customer, indexed by customer id, ranked by value
        (highest first; ties by ascending customer id), with columns
        ``value``, ``rank`` (1, 2, ...), ``value_share`` (of the total),
        ``cumulative_value_share`` :math:`C_k` and
        ``cumulative_customer_share`` :math:`k / n`.
    lorenz_ : pandas.DataFrame
        The Lorenz curve: ``n + 1`` points ``customer_share`` :math:`i/n`,
        ``value_share`` :math:`L_i` (the share of value held by the
        :math:`i` customers with the least), from (0, 0) to (1, 1).
    gini_ : float
        Gini coefficient (see Notes).
    hhi_ : float
        Herfindahl-Hirschman index :math:`\sum_i s_i^2` of the value shares
        :math:`s_i`, between :math:`1/n` (all equal) and 1 (one customer
        holds everything); :math:`1 / \text{HHI}` is the number of
        equal-sized customers with the same concentration.
    n_customers_ : int
        Customers analysed.
    total_ : float
        Total value.
    column_ : str
        Column (or Series name) analysed.

    Notes
    -----
    Rank the :math:`n` customers by value, highest first,
    :math:`x_{[1]} \ge \dots \ge x_{[n]}`, breaking ties by ascending
    customer id, so that the ranking, and every class and flag below, is
    deterministic and does not depend on the order of the rows. Let
    :math:`C_k = \sum_{j \le k} x_{[j]} / \sum_j x_j` (:math:`C_0 = 0`).

    - ``share_of_top(p)`` :math:`= C_k` with :math:`k = \lceil p n \rceil`:
      the top :math:`p` of customers always includes at least :math:`pn`
      customers. Ties do not affect it.
    - ``customers_for_share(s)`` :math:`= k^*/n` with
      :math:`k^* = \min\{k : C_k \ge s\}`: the fewest customers that produce
      at least the share :math:`s`. Ties do not affect it.
    - ``abc_classes(cuts)``: the customer ranked :math:`k` is in class A when
      :math:`C_{k-1} < c_1`, in B when :math:`c_1 \le C_{k-1} < c_2`, and so
      on. The customer who crosses a cut belongs to the class below it, so
      class A is exactly the :math:`k^*(c_1)` customers of
      ``customers_for_share(c_1)``. The class sizes depend only on the
      values; when customers with equal values straddle a cut, those with
      the lower customer ids go to the higher class.
    - Comparisons of :math:`C_k` with a cut allow a relative tolerance of
      :math:`10^{-10}`, so floating-point rounding of the cumulative sums
      does not move a customer across a cut.

    The Lorenz curve joins the points :math:`(i/n, L_i)` with
    :math:`L_i = 1 - C_{n-i}`. The Gini coefficient is one minus twice the
    area under it (trapezoids), which is, with the values in ascending order
    :math:`x_{(1)} \le \dots \le x_{(n)}`,

    .. math::

        G = \frac{\sum_{i=1}^{n} (2i - n - 1)\, x_{(i)}}{n \sum_{i=1}^{n} x_{(i)}}
          = \frac{\sum_i \sum_j |x_i - x_j|}{2 n^2 \bar{x}},

    without the small-sample factor :math:`n / (n - 1)`. It is 0 when all
    values are equal (and for a single customer) and at most
    :math:`1 - 1/n`. On the revenue of the whole CDNOW log it is 0.635.

    Examples
    --------
    Four customers with revenue 50, 30, 15 and 5 (total 100):

    >>> import pandas as pd
    >>> revenue = pd.Series([15.0, 50.0, 5.0, 30.0], index=["c", "a", "d", "b"])
    >>> pareto = ParetoAnalysis().fit(revenue)
    >>> pareto.table_[["value", "cumulative_value_share"]]
                 value  cumulative_value_share
    customer_id
    a             50.0                    0.50
    b             30.0                    0.80
    c             15.0                    0.95
    d              5.0                    1.00
    >>> pareto.share_of_top(0.25), pareto.customers_for_share(0.8)
    (0.5, 0.5)
    >>> pareto.abc_classes().tolist()
    ['A', 'A', 'B', 'C']

    The Gini coefficient is (-3·5 - 1·15 + 1·30 + 3·50) / (4·100) = 0.375:

    >>> round(pareto.gini_, 3)
    0.375
    """

    def __init__(
        self, value: str = "revenue", *, column: str | None = None, negative: str = "raise"
    ) -> None:
        self.value = value
        self.column = column
        self.negative = negative

    def fit(self, X: CustomerValues, y: Any = None) -> ParetoAnalysis:
        """Rank the customers and compute the concentration measures.

        Parameters
        ----------
        X : pandas.DataFrame or pandas.Series
            Customer table, or one value per customer indexed by customer id.
        y : None
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        self

        Raises
        ------
        SchemaError
            For a missing or non-numeric column, no customers, duplicated
            customer ids, NaN or infinite values, negative values under
            ``negative="raise"``, or values that are all zero.
        """
        if self.value not in VALUE_COLUMNS:
            raise ValueError(f"value must be 'revenue', 'margin' or 'clv', got {self.value!r}")
        if self.negative not in ("raise", "clip", "drop"):
            raise ValueError(f"negative must be 'raise', 'clip' or 'drop', got {self.negative!r}")
        column = self.column
        X = as_customer_table(X, owner="ParetoAnalysis")
        if column is None and isinstance(X, pd.DataFrame):
            candidates = VALUE_COLUMNS[self.value]
            column = next((c for c in candidates if c in X.columns), candidates[0])
        values, index, label = customer_values(
            X,
            column,
            owner=f"ParetoAnalysis(value={self.value!r})",
            hint=_HINTS[self.value] if self.column is None else "Pass an existing column name.",
            negative=self.negative,
        )
        order = rank_order(values, index)
        ranked = values[order]
        cumulative = np.cumsum(ranked)
        total = float(cumulative[-1])
        if total <= 0:
            raise SchemaError(
                f"ParetoAnalysis: every {label!r} value is zero ({len(values):,} customers), so "
                "no customer holds any share of the total; check that the column holds the "
                "value you meant to analyse",
                reason="zero_total",
            )
        n = len(ranked)
        cumulative_share = cumulative / total
        self.table_ = pd.DataFrame(
            {
                "value": ranked,
                "rank": np.arange(1, n + 1),
                "value_share": ranked / total,
                "cumulative_value_share": cumulative_share,
                "cumulative_customer_share": np.arange(1, n + 1) / n,
            },
            index=index[order],
        )
        # L_i = 1 - C_{n-i}: the bottom i customers hold what the top n - i do not.
        lorenz = np.zeros(n + 1)
        lorenz[1:n] = 1.0 - cumulative_share[n - 2 :: -1] if n > 1 else 0.0
        lorenz[n] = 1.0
        self.lorenz_ = pd.DataFrame(
            {"customer_share": np.arange(n + 1) / n, "value_share": lorenz},
            index=pd.RangeIndex(n + 1, name="n_customers"),
        )
        ascending = ranked[::-1]
        weights = 2.0 * np.arange(1, n + 1) - n - 1
        self.gini_ = float(np.dot(weights, ascending) / (n * total))
        self.hhi_ = float(np.sum((ranked / total) ** 2))
        self.n_customers_ = n
        self.total_ = total
        self.column_ = label
        return self

    # --- queries -----------------------------------------------------------------------

    def _cumulative(self) -> np.ndarray:
        check_is_fitted(self, "table_")
        return self.table_["cumulative_value_share"].to_numpy()

    def _top_count(self, p: float) -> int:
        # Rounding first keeps 0.2 * 23570 = 4714.000000000001 at 4714.
        return min(self.n_customers_, math.ceil(round(p * self.n_customers_, 9)))

    def share_of_top(self, p: float = 0.2) -> float:
        r"""Share of the total value produced by the top ``p`` of customers.

        Parameters
        ----------
        p : float, default=0.2
            Share of customers, in [0, 1]; the top :math:`\lceil pn \rceil`
            customers by value are counted.

        Returns
        -------
        float
            :math:`C_k` with :math:`k = \lceil p n \rceil`.
        """
        cumulative = self._cumulative()
        k = self._top_count(check_share("p", p))
        return float(cumulative[k - 1]) if k > 0 else 0.0

    def customers_for_share(self, s: float = 0.8) -> float:
        r"""Smallest share of customers that produce at least the share ``s`` of value.

        Parameters
        ----------
        s : float, default=0.8
            Share of the total value, in [0, 1].

        Returns
        -------
        float
            :math:`k^* / n` with :math:`k^* = \min\{k : C_k \ge s\}`; multiply
            by ``n_customers_`` (and round) for the number of customers.
        """
        cumulative = self._cumulative()
        share = check_share("s", s)
        if share == 0.0:
            return 0.0
        k = int(np.searchsorted(cumulative, share - TOLERANCE, side="left")) + 1
        return min(k, self.n_customers_) / self.n_customers_

    def _classes(self, cuts: Any, labels: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
        cumulative = self._cumulative()
        bounds, names = check_cuts(cuts, labels)
        before = np.concatenate(([0.0], cumulative[:-1]))
        return np.searchsorted(bounds - TOLERANCE, before, side="right"), names

    def abc_classes(
        self, cuts: Sequence[float] = (0.8, 0.95), *, labels: Sequence[str] | None = None
    ) -> pd.Series:
        """Assign each customer an ABC class by cumulative share of value.

        Parameters
        ----------
        cuts : sequence of float, default=(0.8, 0.95)
            Strictly increasing cumulative shares in (0, 1]: the default puts
            the customers producing the first 80% of value in A, the next 15%
            in B and the last 5% in C. The customer who crosses a cut is in
            the class below it; see the class Notes for ties.
        labels : sequence of str, optional
            Class names, ``len(cuts) + 1`` of them; default ``A``, ``B``, ...

        Returns
        -------
        pandas.Series
            Categorical ``abc_class``, indexed by customer id (ascending).
        """
        codes, names = self._classes(cuts, labels)
        classes = pd.Categorical.from_codes(codes, categories=names)
        return pd.Series(classes, index=self.table_.index, name="abc_class").sort_index()

    def abc_summary(
        self, cuts: Sequence[float] = (0.8, 0.95), *, labels: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Count customers and value in each ABC class.

        Parameters
        ----------
        cuts, labels
            As in :meth:`abc_classes`.

        Returns
        -------
        pandas.DataFrame
            Indexed by class (every class, even an empty one), with
            ``n_customers``, ``customer_share``, ``value`` and
            ``value_share``.
        """
        codes, names = self._classes(cuts, labels)
        n_classes = len(names)
        counts = np.bincount(codes, minlength=n_classes)
        value = np.bincount(codes, weights=self.table_["value"].to_numpy(), minlength=n_classes)
        return pd.DataFrame(
            {
                "n_customers": counts,
                "customer_share": counts / self.n_customers_,
                "value": value,
                "value_share": value / self.total_,
            },
            index=pd.Index(names, name="abc_class"),
        )

    def is_top(self, p: float = 0.2) -> pd.Series:
        r"""Flag the top ``p`` of customers by value.

        Parameters
        ----------
        p : float, default=0.2
            Share of customers, in [0, 1]: the :math:`\lceil pn \rceil`
            highest-ranked customers are flagged (ties by ascending customer
            id, as in the ranking).

        Returns
        -------
        pandas.Series
            Boolean ``top_customer``, indexed by customer id (ascending).
        """
        check_is_fitted(self, "table_")
        k = self._top_count(check_share("p", p))
        flag = np.arange(self.n_customers_) < k
        return pd.Series(flag, index=self.table_.index, name="top_customer").sort_index()

    def summary(self, *, top: float = 0.2, share: float = 0.8) -> pd.Series:
        """Report the headline concentration figures.

        Parameters
        ----------
        top : float, default=0.2
            Share of top customers for ``share_of_top``.
        share : float, default=0.8
            Share of value for ``customers_for_share``.

        Returns
        -------
        pandas.Series
            ``n_customers``, ``total``, ``share_of_top`` (value share of the
            top ``top`` customers), ``customers_for_share`` (share of
            customers producing ``share`` of value), ``gini`` and ``hhi``.
        """
        check_is_fitted(self, "table_")
        return pd.Series(
            {
                "n_customers": float(self.n_customers_),
                "total": self.total_,
                "share_of_top": self.share_of_top(top),
                "customers_for_share": self.customers_for_share(share),
                "gini": self.gini_,
                "hhi": self.hhi_,
            },
            name=self.column_,
        )
