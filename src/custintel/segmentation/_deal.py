"""Deal-driven customers: who buys mostly, or only, on promotions and discounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from custintel._validation import as_customer_table
from custintel.segmentation._checks import Segmenter, customer_columns
from custintel.typing import CustomerTable

__all__ = ["DEAL_SEGMENTS", "DealSegmenter"]

#: Deal segments, from the least to the most deal-driven.
DEAL_SEGMENTS: tuple[str, ...] = ("full-price", "deal-responsive", "deal-driven")


@dataclass(kw_only=True, repr=False, eq=False)
class DealSegmenter(Segmenter):
    """Label each customer full-price, deal-responsive or deal-driven.

    Customers won by deals (group buying, coupons, launch discounts) behave
    differently from customers won the traditional way: they come back for
    the next deal, not for the brand. This segmenter reads
    :func:`~custintel.features.deal_sensitivity` and labels:

    - **deal-driven**: at least ``driven`` of the orders hold a deal line,
      or the customer has never bought off a deal;
    - **deal-responsive**: at least ``responsive`` of the orders do;
    - **full-price**: the rest.

    Parameters
    ----------
    driven : float, default=0.75
        Share of deal orders from which a customer is deal-driven.
    responsive : float, default=0.25
        Share of deal orders from which a customer is deal-responsive.

    Attributes
    ----------
    segment_shares_ : pandas.Series
        Share of the fitted customers in each segment.

    Examples
    --------
    >>> X = pd.DataFrame({"deal_order_share": [0.0, 0.5, 1.0, 0.2],
    ...                   "buys_off_deal": [True, True, False, True]},
    ...                  index=pd.Index(list("abcd"), name="customer_id"))
    >>> DealSegmenter().fit_transform(X)["deal_segment"].astype(str).tolist()
    ['full-price', 'deal-responsive', 'deal-driven', 'full-price']
    """

    output_columns: ClassVar[tuple[str, ...]] = ("deal_segment",)

    driven: float = 0.75
    responsive: float = 0.25

    def _check_params(self) -> None:
        for name in ("driven", "responsive"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise ValueError(f"{name} must be a share in (0, 1], got {value!r}")
        if self.responsive > self.driven:
            raise ValueError(
                f"responsive ({self.responsive}) must not exceed driven ({self.driven})"
            )

    def _labels(self, X: Any) -> pd.Series:
        X = as_customer_table(X, owner="DealSegmenter")
        values, index = customer_columns(X, ["deal_order_share"], owner="DealSegmenter")
        share = values[:, 0]
        if "buys_off_deal" in X.columns:
            only_deals = ~X["buys_off_deal"].to_numpy(dtype=bool)
        else:
            only_deals = share >= 1
        code = np.where(
            (share >= self.driven) | only_deals, 2, np.where(share >= self.responsive, 1, 0)
        )
        labels = pd.Categorical.from_codes(code, categories=list(DEAL_SEGMENTS), ordered=True)
        return pd.Series(labels, index=index, name="deal_segment")

    def fit(self, X: CustomerTable, y: Any = None) -> DealSegmenter:
        """Check the table and record the segment shares.

        Parameters
        ----------
        X : pandas.DataFrame
            :func:`~custintel.features.deal_sensitivity` output (at least
            ``deal_order_share``; ``buys_off_deal`` when present).
        y : None
            Ignored.

        Returns
        -------
        DealSegmenter
            The fitted segmenter.
        """
        self._check_params()
        X = as_customer_table(X, owner="DealSegmenter")
        labels = self._labels(X)
        self.segment_shares_ = labels.value_counts(normalize=True, sort=False).rename("share")
        self._remember_columns(X)
        return self

    def transform(self, X: CustomerTable) -> pd.DataFrame:
        """Return each customer's ``deal_segment`` (ordered categorical).

        Parameters
        ----------
        X : pandas.DataFrame
            As for :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            Indexed by customer id.
        """
        check_is_fitted(self, "segment_shares_")
        return self._labels(X).to_frame()
