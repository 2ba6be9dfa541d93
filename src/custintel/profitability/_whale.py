"""``WhaleCurve``: cumulative profit against customers ranked by profitability."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custintel.exceptions import DataQualityWarning, SchemaError, warn
from custintel.profitability._values import customer_values, rank_order
from custintel.typing import CustomerValues

__all__ = ["WhaleCurve"]

_HINT = (
    "Build the table with custintel.features.customer_profitability(transactions, ...), "
    "which has a 'profit' column, or name your column with column=..."
)


class WhaleCurve(BaseEstimator):
    r"""Draw the whale curve: cumulative profit against customers ranked by profit.

    Ranking customers from the most to the least profitable and accumulating
    their profit gives a curve that rises above total profit, peaks where the
    profitable customers end, and falls back to total profit as the
    value-destroying customers are added: the hump of a whale.

    Parameters
    ----------
    column : str, default="profit"
        Column of the customer table holding each customer's profit, e.g.
        from :func:`~custintel.features.customer_profitability`. Ignored when
        fitted on a Series.

    Attributes
    ----------
    curve_ : pandas.DataFrame
        One row per customer, indexed by customer id, ranked by profit
        (highest first; ties by ascending customer id), with ``profit``,
        ``rank``, ``customer_share`` :math:`k/n`, ``cumulative_profit``
        :math:`P_k` and ``cumulative_profit_share`` :math:`P_k / P_n` (NaN
        when total profit is not positive).
    total_profit_ : float
        :math:`P_n`, the sum of all profits.
    peak_profit_ : float
        :math:`\max_k P_k` (with :math:`P_0 = 0`): the profit of the
        profitable customers alone.
    peak_share_ : float
        ``peak_profit_ / total_profit_``: 1 without losses, above 1 (e.g.
        1.5 = 150%) when some customers destroy value. NaN, with a
        :class:`~custintel.exceptions.DataQualityWarning`, when total profit
        is zero or negative.
    peak_customer_share_ : float
        Share of customers at the peak: those with a positive profit.
    value_destroying_share_ : float
        Share of customers with a negative profit. Customers with zero
        profit neither create nor destroy value; they are in neither share.
    losses_ : float
        Profit destroyed: minus the sum of the negative profits (>= 0).
    n_customers_ : int
        Customers on the curve.
    column_ : str
        Column (or Series name) read.

    Notes
    -----
    With profits ranked :math:`\pi_{[1]} \ge \dots \ge \pi_{[n]}` and
    :math:`P_k = \sum_{j \le k} \pi_{[j]}`, the curve joins
    :math:`(k/n, P_k / P_n)` for :math:`k = 0, \dots, n`. It peaks at
    :math:`k^+`, the number of customers with positive profit, and
    ``peak_share_`` :math:`= P_{k^+} / P_n = 1 + \text{losses} / P_n`.
    Ties do not change the curve, only which of the tied customers comes
    first (the lower id).

    Examples
    --------
    Profits 10, 5, 0 and -3: total 12, peak 15 after two customers, so the
    curve rises to 15 / 12 = 125% of total profit; one customer in four
    destroys value.

    >>> import pandas as pd
    >>> profit = pd.Series([0.0, 10.0, -3.0, 5.0], index=[1, 2, 3, 4], name="profit")
    >>> whale = WhaleCurve().fit(profit)
    >>> whale.curve_[["profit", "cumulative_profit", "cumulative_profit_share"]]
                 profit  cumulative_profit  cumulative_profit_share
    customer_id
    2              10.0               10.0                 0.833333
    4               5.0               15.0                 1.250000
    1               0.0               15.0                 1.250000
    3              -3.0               12.0                 1.000000
    >>> whale.peak_share_, whale.peak_customer_share_, whale.value_destroying_share_
    (1.25, 0.5, 0.25)
    """

    def __init__(self, *, column: str = "profit") -> None:
        self.column = column

    def fit(self, X: CustomerValues, y: Any = None) -> WhaleCurve:
        """Rank customers by profit and accumulate it.

        Parameters
        ----------
        X : pandas.DataFrame or pandas.Series
            Customer table with the profit column, or one profit per
            customer indexed by customer id.
        y : None
            Ignored.

        Returns
        -------
        WhaleCurve
            The fitted curve (``self``).

        Raises
        ------
        SchemaError
            For a missing or non-numeric profit column, duplicated ids, no
            customers, NaN or infinite profits, or profits that are all zero.
        """
        profits, index, label = customer_values(
            X, self.column, owner="WhaleCurve", hint=_HINT, negative="allow"
        )
        if not np.any(profits):
            raise SchemaError(
                f"WhaleCurve: every {label!r} value is zero ({len(profits):,} customers); there "
                "is no profit to accumulate. Check the cost model (e.g. that costs are not equal "
                "to revenue) or the column",
                reason="zero_total",
            )
        order = rank_order(profits, index)
        ranked = profits[order]
        n = len(ranked)
        cumulative = np.cumsum(ranked)
        total = float(cumulative[-1])
        positive = int(np.count_nonzero(ranked > 0))
        peak = float(cumulative[positive - 1]) if positive else 0.0
        if total > 0:
            cumulative_share = cumulative / total
            peak_share = peak / total
        else:
            warn(
                f"total profit is {total:,.2f} (not positive), so profit shares (and peak_share_) "
                "are undefined and set to NaN; the curve in currency, cumulative_profit, "
                "is still valid",
                DataQualityWarning,
            )
            cumulative_share = np.full(n, np.nan)
            peak_share = float("nan")
        self.curve_ = pd.DataFrame(
            {
                "profit": ranked,
                "rank": np.arange(1, n + 1),
                "customer_share": np.arange(1, n + 1) / n,
                "cumulative_profit": cumulative,
                "cumulative_profit_share": cumulative_share,
            },
            index=index[order],
        )
        self.total_profit_ = total
        self.peak_profit_ = peak
        self.peak_share_ = peak_share
        self.peak_customer_share_ = positive / n
        self.value_destroying_share_ = float(np.count_nonzero(ranked < 0)) / n
        self.losses_ = 0.0 - float(ranked[ranked < 0].sum())  # 0.0 - x avoids -0.0
        self.n_customers_ = n
        self.column_ = label
        return self

    def summary(self) -> pd.Series:
        """Report the headline whale-curve figures.

        Returns
        -------
        pandas.Series
            ``n_customers``, ``total_profit``, ``peak_profit``,
            ``peak_share``, ``peak_customer_share``,
            ``value_destroying_share`` and ``losses``.
        """
        check_is_fitted(self, "curve_")
        return pd.Series(
            {
                "n_customers": float(self.n_customers_),
                "total_profit": self.total_profit_,
                "peak_profit": self.peak_profit_,
                "peak_share": self.peak_share_,
                "peak_customer_share": self.peak_customer_share_,
                "value_destroying_share": self.value_destroying_share_,
                "losses": self.losses_,
            },
            name=self.column_,
        )
