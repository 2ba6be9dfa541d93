"""``ValueTierSegmenter``: the customer pyramid on cumulative value share, with a playbook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError
from custintel.export import (
    NONNEGATIVE,
    POSITIVE,
    UNIT_INTERVAL,
    Domain,
    ExportReader,
    frame_to_json,
    json_float,
)
from custintel.segmentation._checks import ExportedSegmenter, customer_columns
from custintel.typing import CustomerTable

__all__ = ["ValueTierSegmenter", "default_playbook"]

_TIERS = ("Platinum", "Gold", "Silver", "Bronze")
_SUMMARY = ("customers", "customer_share", "value", "value_share")
_COUNT = Domain(0, 2**63 - 1, label=">= 0 and <= 9223372036854775807")


def default_playbook(tiers: tuple[str, ...] | list[str] = _TIERS) -> pd.DataFrame:
    """Return the default tier → treatment playbook.

    Copy it, edit the cells (or add columns) and pass it as
    ``ValueTierSegmenter(playbook=...)``.

    Parameters
    ----------
    tiers : sequence of four str, default=("Platinum", "Gold", "Silver", "Bronze")
        Names of the four tiers, best first: the rows are the same treatments,
        best tier first, under these labels.

    Returns
    -------
    pandas.DataFrame
        Indexed by tier with columns ``service_level``, ``benefits`` and
        ``after_sales``.

    Raises
    ------
    ValueError
        When ``tiers`` is not four distinct names.

    Examples
    --------
    >>> default_playbook().loc["Platinum", "service_level"]
    'dedicated account manager'
    >>> default_playbook(("A", "B", "C", "D")).loc["D", "service_level"]
    'self-service'
    """
    names = [str(t) for t in tiers]
    if len(names) != len(_TIERS) or len(set(names)) != len(names):
        raise ValueError(
            f"the default playbook has {len(_TIERS)} rows, one per tier: pass {len(_TIERS)} "
            f"distinct tier names, best first, got {list(tiers)!r}"
        )
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
        index=pd.Index(names, name="tier"),
    )


#: Relative distance below a cut that still reaches it: the same money total added up in
#: another order (another engine, another batch) differs from the fitted one in the last
#: bits, and must not drop a customer whose total *is* the cut into the tier below.
SUM_ORDER_TOLERANCE = 1e-9


def _reach(thresholds: np.ndarray) -> np.ndarray:
    """Return the values that reach each cut: the cut less ``SUM_ORDER_TOLERANCE`` (relative)."""
    t = np.asarray(thresholds, dtype=np.float64)
    finite = np.isfinite(t)
    slack = SUM_ORDER_TOLERANCE * np.maximum(1.0, np.abs(np.where(finite, t, 0.0)))
    return np.where(finite, t - slack, t)


@dataclass(kw_only=True, repr=False, eq=False)
class ValueTierSegmenter(ExportedSegmenter):
    """Place customers in a value pyramid by their share of cumulative value.

    Customers are ranked by value, highest first. A customer's tier is the
    number of ``cuts`` at or below the share of total value held by the
    customers strictly more valuable than them: with the default cuts, the
    customers who make up the first 50 % of value are Platinum, the next
    30 % Gold, the next 15 % Silver and the rest Bronze.

    Parameters
    ----------
    value : str, default="total_amount"
        Column to rank on: revenue (``"total_amount"``), margin
        (``"total_margin"``) or a predicted CLV column you add to the table.
    cuts : tuple of float, default=(0.5, 0.8, 0.95)
        Increasing cumulative value shares in (0, 1) that close each tier.
    tiers : tuple of str, default=("Platinum", "Gold", "Silver", "Bronze")
        Tier names, best first; one more than ``cuts``. Rename them freely,
        e.g. ``tiers=("A", "B", "C", "D")``.
    playbook : pandas.DataFrame or None, default=None
        Treatment per tier (index: tier names). ``None`` uses
        :func:`default_playbook` under your tier names, which needs four
        tiers (the default three ``cuts``).

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
    ['Platinum', 'Gold', 'Silver', 'Bronze', 'Bronze']
    """

    output_columns: ClassVar[tuple[str, ...]] = ("value", "value_share", "tier")
    export_fields: ClassVar[tuple[str, ...]] = ("thresholds", "total_value", "summary", "playbook")

    value: str = "total_amount"
    cuts: tuple[float, ...] = (0.5, 0.8, 0.95)
    tiers: tuple[str, ...] = _TIERS
    playbook: Any = None

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

    def fit(self, X: CustomerTable, y: Any = None) -> ValueTierSegmenter:
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
        X = as_customer_table(X, owner="ValueTierSegmenter")
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
        self.playbook_ = self._playbook(tiers)
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
        self._remember_columns(X)
        return self

    def _playbook(self, tiers: list[str]) -> pd.DataFrame:
        """Return the playbook rows of ``tiers``, in tier order."""
        if self.playbook is None:
            if len(tiers) != len(_TIERS):
                raise ValueError(
                    f"the default playbook covers {len(_TIERS)} tiers (three cuts), not "
                    f"{len(tiers)}; pass a playbook indexed by your tiers {tiers}"
                )
            # The same treatments, best tier first, under the caller's names (old bundles
            # saved with the old names Platinum, Gold, Iron, Lead load through here too).
            return default_playbook(tiers)
        if not isinstance(self.playbook, pd.DataFrame):
            raise ValueError(
                f"playbook must be None or a DataFrame, got {type(self.playbook).__name__}"
            )
        missing = [t for t in tiers if t not in self.playbook.index]
        if missing:
            raise ValueError(f"playbook has no row for tiers {missing}; index it by tier name")
        index = self.playbook.index
        repeated = index[index.isin(tiers) & index.duplicated()].unique().tolist()
        if repeated:
            # .loc would return each repeated tier twice and misalign treatments().
            raise ValueError(f"playbook has more than one row for tiers {repeated}; keep one")
        return self.playbook.loc[tiers].copy()

    @staticmethod
    def _tiers_from_shares(v: np.ndarray, total: float, cuts: np.ndarray) -> np.ndarray:
        ordered = np.sort(v)
        # Value held by customers strictly more valuable than each customer.
        csum = np.concatenate(([0.0], np.cumsum(ordered)))
        above = total - csum[np.searchsorted(ordered, v, side="right")]
        share_above = above / total
        return np.searchsorted(cuts, share_above * (1 + 1e-12), side="right").astype(np.int64)

    def transform(self, X: CustomerTable) -> pd.DataFrame:
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
        return self._transform(X)

    def _transform(self, X: CustomerTable) -> pd.DataFrame:
        """:meth:`transform`, in pandas whatever ``set_output`` says (for the other methods)."""
        check_is_fitted(self, "thresholds_")
        values, index = customer_columns(X, [self.value], owner="ValueTierSegmenter")
        v = values[:, 0]
        tier = (v[:, None] < _reach(self.thresholds_.to_numpy())[None, :]).sum(axis=1)
        tiers = list(self.summary_.index)
        return pd.DataFrame(
            {
                "value": v,
                "value_share": np.maximum(v, 0.0) / self.total_value_,
                "tier": pd.Categorical.from_codes(tier, categories=tiers, ordered=True),
            },
            index=index,
        )

    def treatments(self, X: CustomerTable) -> pd.DataFrame:
        """Return the tier of each customer with the playbook's treatment of it.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table with the ``value`` column, as for :meth:`transform`.

        Returns
        -------
        pandas.DataFrame
            The :meth:`transform` output joined with :attr:`playbook_`.
        """
        out = self._transform(X)
        play = self.playbook_.loc[out["tier"].astype(str)].set_axis(out.index)
        return pd.concat([out, play], axis=1)

    # --- JSON export ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted segmenter as plain JSON data.

        Returns
        -------
        dict
            ``model``, ``format_version`` (1) and ``hyperparameters``
            (``cuts`` and ``tiers`` as lists, ``playbook`` as a table, see
            below, or ``None``), then:

            - ``thresholds``: :attr:`thresholds_`, the least value earning
              each tier but the last, best tier first;
            - ``total_value``: the fitted total, the denominator of ``value_share``;
            - ``summary``: :attr:`summary_` as lists ``customers``,
              ``customer_share``, ``value`` and ``value_share``, one entry per tier;
            - ``playbook``: :attr:`playbook_` as a table;
            - ``feature_names_in``: the columns of the fitted table.

            A table is ``{"index_name", "index", "columns", "records"}`` with
            one ``{column: value}`` record per row (missing values ``None``).
            :meth:`from_dict` checks ``cuts`` and ``tiers`` as the estimator
            does; finite thresholds >= 0 that never increase from the best tier
            down; a positive finite total; summary counts that are integers
            >= 0, values >= 0 and shares in [0, 1]; and the ``playbook`` that the
            ``playbook`` hyperparameter gives.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            For a playbook with labels that are not strings or cells that
            are not strings, finite numbers, booleans or missing.

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> X = pd.DataFrame({"total_amount": [60.0, 25.0, 10.0, 5.0, 0.0]},
        ...                  index=pd.Index(list("abcde"), name="customer_id"))
        >>> seg = ValueTierSegmenter().fit(X)
        >>> seg.to_dict()["thresholds"]
        [60.0, 25.0, 10.0]
        >>> restored = ValueTierSegmenter.from_dict(json.loads(json.dumps(seg.to_dict())))
        >>> restored.treatments(X).equals(seg.treatments(X))
        True
        """
        check_is_fitted(self, "thresholds_")
        playbook = None if self.playbook is None else frame_to_json(self.playbook, "playbook")
        return self._export(
            {
                "thresholds": [json_float(v) for v in self.thresholds_.to_numpy()],
                "total_value": json_float(self.total_value_),
                "summary": {
                    name: [
                        int(v) if name == "customers" else json_float(v)
                        for v in self.summary_[name].to_numpy()
                    ]
                    for name in _SUMMARY
                },
                "playbook": frame_to_json(self.playbook_, "playbook_"),
            },
            playbook=playbook,
        )

    @classmethod
    def _from_export(
        cls, read: ExportReader, export: Mapping[str, Any], hyper: Mapping[str, Any]
    ) -> ValueTierSegmenter:
        value = read.string(hyper["value"], "hyperparameters.value")
        cuts = tuple(
            read.number(v, f"hyperparameters.cuts[{i}]", allowed="a number in (0, 1)")
            for i, v in enumerate(read.array(hyper["cuts"], "hyperparameters.cuts"))
        )
        tiers = tuple(read.strings(hyper["tiers"], "hyperparameters.tiers"))
        playbook = hyper["playbook"]
        segmenter = cls(
            value=value,
            cuts=cuts,
            tiers=tiers,
            playbook=None if playbook is None else read.frame(playbook, "hyperparameters.playbook"),
        )
        _, names = read.checked("hyperparameters", segmenter._check_params)
        n_tiers = len(names)
        fitted_playbook = read.checked(
            "hyperparameters.playbook", lambda: segmenter._playbook(names)
        )

        thresholds = read.numbers(export["thresholds"], "thresholds", NONNEGATIVE, length=len(cuts))
        read.monotone(thresholds, "thresholds", decreasing=True)
        total = read.number(export["total_value"], "total_value", POSITIVE)
        spec = read.keys(export["summary"], "summary", required=_SUMMARY)
        counts = read.array(spec["customers"], "summary.customers", length=n_tiers)
        summary = pd.DataFrame(
            {
                "customers": np.asarray(
                    [
                        read.integer(v, f"summary.customers[{i}]", _COUNT)
                        for i, v in enumerate(counts)
                    ],
                    dtype=np.int64,
                ),
                **{
                    name: read.numbers(
                        spec[name],
                        f"summary.{name}",
                        UNIT_INTERVAL if name.endswith("share") else NONNEGATIVE,
                        length=n_tiers,
                    )
                    for name in _SUMMARY[1:]
                },
            },
            index=pd.Index(names, name="tier"),
        )
        read.frame(export["playbook"], "playbook")
        expected = frame_to_json(fitted_playbook, "playbook")
        if export["playbook"] != expected:
            read.reject(
                "playbook",
                export["playbook"],
                f"the playbook that hyperparameters.playbook gives for tiers {names}",
            )
        segmenter._read_columns(read, export["feature_names_in"], [value])

        segmenter.thresholds_ = pd.Series(
            thresholds, index=pd.Index(names[:-1], name="tier"), name=value
        )
        segmenter.playbook_ = fitted_playbook
        segmenter.summary_ = summary
        segmenter.total_value_ = float(total)
        return segmenter
