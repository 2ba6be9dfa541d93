"""``LifecycleSegmenter``: lifecycle stages relative to each customer's own purchase rhythm."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from custintel._validation import as_customer_table
from custintel.export import POSITIVE, ExportReader, json_float
from custintel.segmentation._checks import ExportedSegmenter, customer_columns
from custintel.typing import CustomerTable

__all__ = ["STAGES", "LifecycleSegmenter"]

#: Lifecycle stages, healthiest first (the order ``segment_migration`` uses for "down").
STAGES = ("active", "won back", "new", "shifting", "at-risk", "lapsed", "lost")

_NOW = ["days_since_last", "n_orders", "tenure_days", "gap_mean_days", "total_amount"]
_PREV = ["days_since_last", "n_orders", "tenure_days", "gap_mean_days", "total_amount"]


@dataclass(kw_only=True, repr=False, eq=False)
class LifecycleSegmenter(ExportedSegmenter):
    r"""Give each customer a lifecycle stage measured in their own inter-purchase gaps.

    A customer's silence is :math:`\rho = d / g`, the days since the last
    purchase :math:`d` over their own mean gap between purchases :math:`g`
    (``gap_mean_days``; for one-time buyers, the median gap of repeat buyers
    seen in ``fit``). So a monthly buyer silent for 90 days is lapsed while a
    yearly buyer silent for 90 days is active.

    ====================  ==========================================================
    stage                 rule (first that applies)
    ====================  ==========================================================
    new                   one purchase, made within ``at_risk_after`` typical gaps
    lost                  :math:`\rho >` ``lost_after``
    lapsed                :math:`\rho >` ``lapsed_after``
    at-risk               :math:`\rho >` ``at_risk_after``, or (with previous-period
                          columns) spend or purchase rate fell below ``fall_ratio``
                          of the customer's own earlier rate
    shifting              spend rate falling as above, for a large account (earlier
                          spend at least ``large_account_``): a B2B
                          account still ordering on rhythm while its spend moves away
    won back              on rhythm now, lapsed or lost at the previous cut-off
    active                everything else
    ====================  ==========================================================

    Parameters
    ----------
    at_risk_after, lapsed_after, lost_after : float, default=1.5, 3.0, 6.0
        Multiples of the customer's own gap.
    fall_ratio : float, default=0.5
        A recent rate below this share of the earlier rate is "falling".
    large_quantile : float, default=0.8
        Quantile of spend in ``fit`` (previous-period spend when given) from
        which an account is large.
    previous_suffix : str, default="_prev"
        Suffix of optional previous-period columns (``days_since_last``,
        ``n_orders``, ``tenure_days``, ``gap_mean_days``, ``total_amount``):
        the summary at an earlier cut-off joined on, e.g.
        ``now.join(before.add_suffix("_prev"))``. Without them the stages
        "won back" and "shifting" and the falling-rate test are not used.

    Attributes
    ----------
    typical_gap_ : float
        Median ``gap_mean_days`` of repeat buyers in ``fit``.
    large_account_ : float
        Spend from which an account counts as large: the ``large_quantile``
        of previous-period spend (current spend without previous columns).
    uses_previous_ : bool
        Whether previous-period columns were found in ``fit``.

    Notes
    -----
    NaN ``gap_mean_days`` (one-time buyers) is expected; other NaN values are
    an error. A customer missing from the previous period (NaN previous
    columns) is judged on the current period only. A single customer or
    identical customers are staged normally. If no customer in ``fit``
    bought twice, ``typical_gap_`` falls back to the median tenure.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame(
    ...     {"days_since_last": [20, 90, 90, 400, 5], "n_orders": [10, 10, 3, 4, 1],
    ...      "tenure_days": [300, 400, 700, 800, 5], "gap_mean_days": [30.0, 30, 300, 100, None],
    ...      "total_amount": [500.0, 400, 90, 60, 20]},
    ...     index=pd.Index(list("abcde"), name="customer_id"))
    >>> LifecycleSegmenter().fit_transform(X)["stage"].astype(str).tolist()
    ['active', 'at-risk', 'active', 'lapsed', 'new']
    """

    output_columns: ClassVar[tuple[str, ...]] = ("silence_ratio", "expected_gap_days", "stage")
    export_fields: ClassVar[tuple[str, ...]] = ("typical_gap", "large_account", "uses_previous")

    at_risk_after: float = 1.5
    lapsed_after: float = 3.0
    lost_after: float = 6.0
    fall_ratio: float = 0.5
    large_quantile: float = 0.8
    previous_suffix: str = "_prev"

    def _check_params(self) -> None:
        if not 0 < self.at_risk_after < self.lapsed_after < self.lost_after:
            raise ValueError(
                "need 0 < at_risk_after < lapsed_after < lost_after, got "
                f"{self.at_risk_after}, {self.lapsed_after}, {self.lost_after}"
            )
        if not 0 < self.fall_ratio < 1 or not 0 < self.large_quantile < 1:
            raise ValueError(
                f"fall_ratio and large_quantile must lie in (0, 1), got {self.fall_ratio} and "
                f"{self.large_quantile}"
            )

    def fit(self, X: CustomerTable, y: Any = None) -> LifecycleSegmenter:
        """Learn the typical gap and the large-account threshold.

        Parameters
        ----------
        X : pandas.DataFrame
            Output of :func:`~custintel.features.summarize_customers`,
            optionally joined with previous-period columns.
        y : None
            Ignored.

        Returns
        -------
        LifecycleSegmenter
            The fitted segmenter.

        Raises
        ------
        ValueError
            For thresholds that are not increasing and positive.
        SchemaError
            For missing columns or NaN values.
        """
        self._check_params()
        X = as_customer_table(X, owner="LifecycleSegmenter")
        now, _ = customer_columns(X, _NOW, owner="LifecycleSegmenter", allow_nan=["gap_mean_days"])
        gaps = now[:, 3][now[:, 1] >= 2]
        gaps = gaps[np.isfinite(gaps)]
        typical = float(np.median(gaps)) if gaps.size else float(np.median(now[:, 2]))
        self.typical_gap_ = max(typical, 1.0)
        self.uses_previous_ = all(f"{c}{self.previous_suffix}" in X.columns for c in _PREV)
        spend = now[:, 4]
        if self.uses_previous_:
            # Accounts are sized on their earlier spend, before any shift away.
            earlier = X[f"total_amount{self.previous_suffix}"].to_numpy(dtype=np.float64)
            earlier = earlier[np.isfinite(earlier)]
            spend = earlier if earlier.size else spend
        self.large_account_ = float(np.quantile(spend, self.large_quantile))
        self._remember_columns(X)
        return self

    def _ratio(self, days: np.ndarray, orders: np.ndarray, gap: np.ndarray) -> np.ndarray:
        own = np.where((orders >= 2) & np.isfinite(gap) & (gap > 0), gap, self.typical_gap_)
        return days / own

    def _base_stage(self, m: np.ndarray) -> np.ndarray:
        days, orders, tenure, gap = m[:, 0], m[:, 1], m[:, 2], m[:, 3]
        rho = self._ratio(days, orders, gap)
        stage = np.full(len(m), "active", dtype=object)
        stage[rho > self.at_risk_after] = "at-risk"
        stage[rho > self.lapsed_after] = "lapsed"
        stage[rho > self.lost_after] = "lost"
        new = (orders <= 1) & (tenure <= self.at_risk_after * self.typical_gap_)
        stage[new] = "new"
        return stage

    def transform(self, X: CustomerTable) -> pd.DataFrame:
        """Stage each customer.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table like the one given to ``fit``.

        Returns
        -------
        pandas.DataFrame
            Indexed by customer id: ``silence_ratio`` (days since the last
            purchase in own gaps), ``expected_gap_days`` and ``stage``
            (categorical in :data:`STAGES` order).
        """
        return self._transform(X)

    def _transform(self, X: CustomerTable) -> pd.DataFrame:
        """:meth:`transform`, in pandas whatever ``set_output`` says (for the other methods)."""
        check_is_fitted(self, "typical_gap_")
        X = as_customer_table(X, owner="LifecycleSegmenter")
        now, index = customer_columns(
            X, _NOW, owner="LifecycleSegmenter", allow_nan=["gap_mean_days"]
        )
        stage = self._base_stage(now)
        if self.uses_previous_:
            prev_cols = [f"{c}{self.previous_suffix}" for c in _PREV]
            prev, _ = customer_columns(
                X, prev_cols, owner="LifecycleSegmenter", allow_nan=prev_cols
            )
            known = np.isfinite(prev[:, [0, 1, 2, 4]]).all(axis=1)
            was = np.where(known, self._base_stage(np.nan_to_num(prev, nan=np.inf)), "")
            on_rhythm = stage == "active"
            window = np.maximum(now[:, 2] - prev[:, 2], 1.0)
            history = np.maximum(prev[:, 2], self.typical_gap_)
            with np.errstate(invalid="ignore", divide="ignore"):
                spend_fall = (now[:, 4] - prev[:, 4]) / window < self.fall_ratio * prev[
                    :, 4
                ] / history
                order_fall = (now[:, 1] - prev[:, 1]) / window < self.fall_ratio * prev[
                    :, 1
                ] / history
            spend_fall &= known
            order_fall &= known
            large = known & (prev[:, 4] >= self.large_account_)
            won_back = on_rhythm & np.isin(was, ["lapsed", "lost"])
            stage[on_rhythm & (spend_fall | order_fall)] = "at-risk"
            stage[on_rhythm & spend_fall & large] = "shifting"
            stage[won_back] = "won back"
        own = np.where(
            (now[:, 1] >= 2) & np.isfinite(now[:, 3]) & (now[:, 3] > 0),
            now[:, 3],
            self.typical_gap_,
        )
        return pd.DataFrame(
            {
                "silence_ratio": now[:, 0] / own,
                "expected_gap_days": own,
                "stage": pd.Categorical(stage, categories=list(STAGES)),
            },
            index=index,
        )

    def win_back(
        self, X: CustomerTable, *, value: str = "total_amount", include_lost: bool = False
    ) -> pd.DataFrame:
        """Rank lapsed customers by value for a win-back campaign.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table like the one given to ``fit``.
        value : str, default="total_amount"
            Column to rank by (e.g. ``"total_margin"`` or a CLV column).
        include_lost : bool, default=False
            Also list lost customers (after the lapsed ones of equal value).

        Returns
        -------
        pandas.DataFrame
            Lapsed (and optionally lost) customers, most valuable first:
            ``stage``, ``value``, ``days_since_last``, ``expected_gap_days``.
        """
        stages = self._transform(X)
        vals, _ = customer_columns(
            X, [value, "days_since_last"], owner="LifecycleSegmenter.win_back"
        )
        keep = ["lapsed", "lost"] if include_lost else ["lapsed"]
        out = pd.DataFrame(
            {
                "stage": stages["stage"],
                "value": vals[:, 0],
                "days_since_last": vals[:, 1],
                "expected_gap_days": stages["expected_gap_days"],
            },
            index=stages.index,
        )
        out = out[out["stage"].isin(keep)]
        order = np.lexsort((out["stage"].cat.codes.to_numpy(), -out["value"].to_numpy()))
        return out.iloc[order]

    # --- JSON export ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted segmenter as plain JSON data.

        Returns
        -------
        dict
            ``model``, ``format_version`` (1) and ``hyperparameters`` (an
            infinite ``lost_after`` is written ``"inf"``), then
            ``typical_gap`` (:attr:`typical_gap_`), ``large_account``
            (:attr:`large_account_`), ``uses_previous`` (:attr:`uses_previous_`)
            and ``feature_names_in`` (the columns of the fitted table).
            :meth:`from_dict` checks the thresholds as the estimator does
            (only ``lost_after`` may be ``"inf"``), a finite typical gap > 0, a
            finite large-account threshold, and ``uses_previous`` true exactly
            when the fitted columns include the previous-period ones.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.

        Examples
        --------
        >>> import pandas as pd
        >>> X = pd.DataFrame(
        ...     {"days_since_last": [20, 90, 400, 5], "n_orders": [10, 10, 4, 1],
        ...      "tenure_days": [300, 400, 800, 5], "gap_mean_days": [30.0, 30, 100, None],
        ...      "total_amount": [500.0, 400, 60, 20]},
        ...     index=pd.Index(list("abcd"), name="customer_id"))
        >>> seg = LifecycleSegmenter().fit(X)
        >>> seg.to_dict()["typical_gap"]
        30.0
        >>> LifecycleSegmenter.from_dict(seg.to_dict()).transform(X).equals(seg.transform(X))
        True
        """
        check_is_fitted(self, "typical_gap_")
        return self._export(
            {
                "typical_gap": json_float(self.typical_gap_),
                "large_account": json_float(self.large_account_),
                "uses_previous": bool(self.uses_previous_),
            }
        )

    @classmethod
    def _from_export(
        cls, read: ExportReader, export: Mapping[str, Any], hyper: Mapping[str, Any]
    ) -> LifecycleSegmenter:
        segmenter = cls(
            at_risk_after=read.number(hyper["at_risk_after"], "hyperparameters.at_risk_after"),
            lapsed_after=read.number(hyper["lapsed_after"], "hyperparameters.lapsed_after"),
            lost_after=read.number(
                hyper["lost_after"],
                "hyperparameters.lost_after",
                allowed="a finite number or 'inf'",
                infinity="inf",
            ),
            fall_ratio=read.number(hyper["fall_ratio"], "hyperparameters.fall_ratio"),
            large_quantile=read.number(hyper["large_quantile"], "hyperparameters.large_quantile"),
            previous_suffix=read.string(
                hyper["previous_suffix"], "hyperparameters.previous_suffix"
            ),
        )
        read.checked("hyperparameters", segmenter._check_params)
        typical_gap = read.number(export["typical_gap"], "typical_gap", POSITIVE)
        large_account = read.number(export["large_account"], "large_account")
        uses_previous = read.boolean(export["uses_previous"], "uses_previous")
        previous = [f"{c}{segmenter.previous_suffix}" for c in _PREV]
        names = segmenter._read_columns(
            read, export["feature_names_in"], _NOW + previous if uses_previous else _NOW
        )
        if not uses_previous and all(c in names for c in previous):
            read.reject(
                "uses_previous",
                uses_previous,
                f"true, since feature_names_in holds the previous-period columns {previous}",
            )
        segmenter.typical_gap_ = float(typical_gap)
        segmenter.large_account_ = float(large_account)
        segmenter.uses_previous_ = uses_previous
        return segmenter
