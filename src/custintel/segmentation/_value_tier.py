"""``ValueTierSegmenter``: the customer pyramid on cumulative value share, with a playbook."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from custintel.exceptions import SchemaError
from custintel.segmentation._checks import customer_columns

__all__ = ["ValueTierSegmenter", "default_playbook"]

_TIERS = ("Platinum", "Gold", "Iron", "Lead")


def default_playbook() -> pd.DataFrame:
    """Return the default tier → treatment playbook.

    Copy it, edit the cells (or add columns) and pass it as
    ``ValueTierSegmenter(playbook=...)``.

    Returns
    -------
    pandas.DataFrame
        Indexed by tier (Platinum, Gold, Iron, Lead) with columns
        ``service_level``, ``benefits`` and ``after_sales``.

    Examples
    --------
    >>> default_playbook().loc["Platinum", "service_level"]
    'dedicated account manager'
    """
    return pd.DataFrame(
        {
            "service_level": [
                "dedicated account manager",
                "priority support line",
                "standard support",
                "self-service",
            ],
            "benefits": [
                "early access, free express shipping, personal offers",
                "loyalty points x2, free shipping",
                "loyalty points, seasonal offers",
                "automated offers that raise basket size",
            ],
            "after_sales": [
                "proactive check-in within 7 days",
                "satisfaction survey and follow-up",
                "satisfaction survey",
                "none beyond standard returns",
            ],
        },
        index=pd.Index(list(_TIERS), name="tier"),
    )


class ValueTierSegmenter(TransformerMixin, BaseEstimator):
    """Place customers in a value pyramid by their share of cumulative value.

    Customers are ranked by value, highest first. A customer's tier is the
    number of ``cuts`` at or below the share of total value held by the
    customers strictly more valuable than them: with the default cuts, the
    customers who make up the first 50 % of value are Platinum, the next
    30 % Gold, the next 15 % Iron and the rest Lead.

    Parameters
    ----------
    value : str, default="total_amount"
        Column to rank on: revenue (``"total_amount"``), margin
        (``"total_margin"``) or a predicted CLV column you add to the table.
    cuts : tuple of float, default=(0.5, 0.8, 0.95)
        Increasing cumulative value shares in (0, 1) that close each tier.
    tiers : tuple of str, default=("Platinum", "Gold", "Iron", "Lead")
        Tier names, best first; one more than ``cuts``.
    playbook : pandas.DataFrame or None, default=None
        Treatment per tier (index: tier names). ``None`` uses
        :func:`default_playbook` (which needs the default tier names).

    Attributes
    ----------
    thresholds_ : pandas.Series
        For each tier but the last, the least value that still earns it.
    summary_ : pandas.DataFrame
        Per tier: ``customers``, ``customer_share``, ``value``, ``value_share``.
    playbook_ : pandas.DataFrame
        The playbook in use.

    Notes
    -----
    Ties share a tier, so the pyramid does not depend on row order. Negative
    values (losses on margin) count as 0 in the shares and land in the last
    tier, as do customers with a value of 0. A table whose total value is
    not positive has no pyramid and raises :class:`~custintel.exceptions.SchemaError`.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"total_amount": [60.0, 25.0, 10.0, 5.0, 0.0]},
    ...                  index=pd.Index(list("abcde"), name="customer_id"))
    >>> ValueTierSegmenter().fit_transform(X)["tier"].tolist()
    ['Platinum', 'Gold', 'Iron', 'Lead', 'Lead']
    """

    def __init__(
        self,
        *,
        value: str = "total_amount",
        cuts: tuple[float, ...] = (0.5, 0.8, 0.95),
        tiers: tuple[str, ...] = _TIERS,
        playbook: Any = None,
    ) -> None:
        self.value = value
        self.cuts = cuts
        self.tiers = tiers
        self.playbook = playbook

    def _check_params(self) -> tuple[np.ndarray, list[str]]:
        cuts = np.asarray(self.cuts, dtype=np.float64)
        if cuts.ndim != 1 or not ((cuts > 0) & (cuts < 1)).all() or (np.diff(cuts) <= 0).any():
            raise ValueError(
                f"cuts must be increasing shares strictly between 0 and 1, got {self.cuts!r}"
            )
        tiers = [str(t) for t in self.tiers]
        if len(tiers) != len(cuts) + 1 or len(set(tiers)) != len(tiers):
            raise ValueError(
                f"tiers must be {len(cuts) + 1} distinct names (one more than cuts), "
                f"got {self.tiers!r}"
            )
        return cuts, tiers

    def fit(self, X: Any, y: Any = None) -> ValueTierSegmenter:
        """Build the pyramid from a customer table.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table with the ``value`` column.
        y : None
            Ignored.

        Returns
        -------
        ValueTierSegmenter
            The fitted segmenter.

        Raises
        ------
        ValueError
            For bad ``cuts``, ``tiers`` or ``playbook``.
        SchemaError
            For a missing or NaN value column or a total value that is not positive.
        """
        cuts, tiers = self._check_params()
        values, _ = customer_columns(X, [self.value], owner="ValueTierSegmenter")
        v = np.maximum(values[:, 0], 0.0)
        total = v.sum()
        if not total > 0:
            raise SchemaError(
                f"ValueTierSegmenter: the total of {self.value!r} over {len(v):,} customers is "
                "not positive (every value is 0 or negative), so value shares are undefined; "
                "rank on another column, e.g. value='total_amount'",
                reason="no_positive_value",
            )
        tier = self._tiers_from_shares(v, total, cuts)
        # Least value earning each tier k or better; an empty tier inherits the one above.
        thresholds = np.empty(len(cuts))
        for k in range(len(cuts)):
            held = v[tier <= k]
            thresholds[k] = held.min() if held.size else (thresholds[k - 1] if k else np.inf)
        self.thresholds_ = pd.Series(
            thresholds, index=pd.Index(tiers[:-1], name="tier"), name=self.value
        )
        if self.playbook is None:
            if tiers != list(_TIERS):
                raise ValueError(
                    "the default playbook covers Platinum, Gold, Iron and Lead; pass a playbook "
                    f"indexed by your tiers {tiers}"
                )
            playbook = default_playbook()
        elif isinstance(self.playbook, pd.DataFrame):
            missing = [t for t in tiers if t not in self.playbook.index]
            if missing:
                raise ValueError(f"playbook has no row for tiers {missing}; index it by tier name")
            playbook = self.playbook.loc[tiers].copy()
        else:
            raise ValueError(
                f"playbook must be None or a DataFrame, got {type(self.playbook).__name__}"
            )
        self.playbook_ = playbook
        counts = np.bincount(tier, minlength=len(tiers))
        sums = np.bincount(tier, weights=v, minlength=len(tiers))
        self.summary_ = pd.DataFrame(
            {
                "customers": counts,
                "customer_share": counts / len(v),
                "value": sums,
                "value_share": sums / total,
            },
            index=pd.Index(tiers, name="tier"),
        )
        self.total_value_ = float(total)
        self.n_features_in_ = len(X.columns)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return self

    @staticmethod
    def _tiers_from_shares(v: np.ndarray, total: float, cuts: np.ndarray) -> np.ndarray:
        ordered = np.sort(v)
        # Value held by customers strictly more valuable than each customer.
        csum = np.concatenate(([0.0], np.cumsum(ordered)))
        above = total - csum[np.searchsorted(ordered, v, side="right")]
        share_above = above / total
        return np.searchsorted(cuts, share_above * (1 + 1e-12), side="right").astype(np.int64)

    def transform(self, X: Any) -> pd.DataFrame:
        """Assign tiers on the fitted value thresholds.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table with the ``value`` column.

        Returns
        -------
        pandas.DataFrame
            Indexed by customer id: ``value``, ``value_share`` (of the
            fitted total) and ``tier`` (ordered categorical, best first).
        """
        check_is_fitted(self, "thresholds_")
        values, index = customer_columns(X, [self.value], owner="ValueTierSegmenter")
        v = values[:, 0]
        tier = (v[:, None] < self.thresholds_.to_numpy()[None, :]).sum(axis=1)
        tiers = list(self.summary_.index)
        return pd.DataFrame(
            {
                "value": v,
                "value_share": np.maximum(v, 0.0) / self.total_value_,
                "tier": pd.Categorical.from_codes(tier, categories=tiers, ordered=True),
            },
            index=index,
        )

    def treatments(self, X: Any) -> pd.DataFrame:
        """Return each customer's tier with its playbook treatment.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table with the ``value`` column.

        Returns
        -------
        pandas.DataFrame
            The :meth:`transform` output joined with :attr:`playbook_`.
        """
        out = self.transform(X)
        play = self.playbook_.loc[out["tier"].astype(str)].set_axis(out.index)
        return pd.concat([out, play], axis=1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return the output column names.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        numpy.ndarray
            ``["value", "value_share", "tier"]``.
        """
        return np.asarray(["value", "value_share", "tier"], dtype=object)
