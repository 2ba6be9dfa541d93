"""Discounted customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from custintel._repr import EstimatesReprMixin
from custintel._validation import as_customer_table
from custintel.clv import _pareto_nbd_math as pareto_nbd_math
from custintel.clv._base import PurchaseModel, bootstrap_interval, check_interval
from custintel.clv._beta_geo import BetaGeoModel, ModifiedBetaGeoModel
from custintel.clv._bgbb import BetaGeoBetaBinomModel
from custintel.clv._cnbd import MBGCNBDModel
from custintel.clv._dert import dert
from custintel.clv._gamma_gamma import GammaGammaModel
from custintel.clv._nbd import NBDModel
from custintel.clv._pareto_nbd import ParetoNBDModel
from custintel.clv._time_units import check_time_unit
from custintel.exceptions import InvalidModelError
from custintel.export import ExportReader
from custintel.typing import CustomerTable

__all__ = ["CLVModel"]

#: Days per month (365.25 / 12), the default discounting period for daily tables.
DAYS_PER_MONTH = 30.4375
_MONTH_IN_UNITS = {
    "h": DAYS_PER_MONTH * 24,
    "D": DAYS_PER_MONTH,
    "W": DAYS_PER_MONTH / 7,
    "M": 1.0,
}
_FORMAT_VERSION = 1

#: The purchase models an export may name: this table, never a lookup by name.
_PURCHASE_MODELS: dict[str, type[PurchaseModel]] = {
    cls.__name__: cls
    for cls in (
        BetaGeoModel,
        ModifiedBetaGeoModel,
        ParetoNBDModel,
        BetaGeoBetaBinomModel,
        NBDModel,
        MBGCNBDModel,
    )
}


class CLVModel(EstimatesReprMixin, BaseEstimator):
    r"""Customer lifetime value: expected purchases × expected spend × margin, discounted.

    A meta-estimator that fits a purchase model (BG/NBD by default) and a spend
    model (Gamma-Gamma by default) on the same customer table.

    Parameters
    ----------
    purchase_model : PurchaseModel or None, default=None
        Unfitted purchase model, cloned in :meth:`fit`; ``None`` means
        :class:`~custintel.clv.BetaGeoModel`.
    spend_model : GammaGammaModel or None, default=None
        Unfitted spend model, cloned in :meth:`fit`; ``None`` means
        :class:`~custintel.clv.GammaGammaModel`.

    Attributes
    ----------
    purchase_model_ : PurchaseModel
        The fitted purchase model.
    spend_model_ : GammaGammaModel
        The fitted spend model.
    time_unit_ : str or None
        ``"D"`` or ``"W"`` when the training table records it in ``attrs``.

    Notes
    -----
    Over ``horizon`` discounting periods of length :math:`\Delta` (default: one
    month in the table's time unit), with per-period discount rate :math:`d`
    and margin :math:`m`:

    .. math::

        \mathrm{CLV} = m \, E[M] \sum_{k=1}^{K}
            \frac{E[X(k\Delta)] - E[X((k-1)\Delta)]}{(1 + d)^{k}}

    where :math:`E[X(t)]` is the purchase model's conditional expected number
    of purchases in the next :math:`t` and :math:`E[M]` the spend model's
    expected spend per purchase. This is lifetimes'
    ``customer_lifetime_value`` with an explicit margin and period length.

    Examples
    --------
    >>> from custintel.clv import CLVModel
    >>> from custintel.datasets import load_cdnow_summary
    >>> X = load_cdnow_summary()
    >>> value = CLVModel().fit(X).predict_clv(X, horizon=12, discount_rate=0.01, margin=0.3)
    >>> bool((value >= 0).all()), value.index.equals(X.index)
    (True, True)
    """

    def __init__(
        self,
        purchase_model: PurchaseModel | None = None,
        spend_model: GammaGammaModel | None = None,
    ) -> None:
        self.purchase_model = purchase_model
        self.spend_model = spend_model

    def fit(self, X: CustomerTable, y: Any = None) -> CLVModel:
        """Fit the purchase model on all customers and the spend model on repeat buyers.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency``, ``T`` and ``monetary_value``.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        X = as_customer_table(X, owner="CLVModel")
        purchase = BetaGeoModel() if self.purchase_model is None else clone(self.purchase_model)
        spend = GammaGammaModel() if self.spend_model is None else clone(self.spend_model)
        self.purchase_model_ = purchase.fit(X)
        self.spend_model_ = spend.fit(X)
        self.time_unit_ = getattr(X, "attrs", {}).get("time_unit")
        return self

    def _estimates_tables(self) -> dict[str, pd.DataFrame]:
        """Return both models' estimates for the notebook display (``{}`` until fitted)."""
        if not hasattr(self, "purchase_model_"):
            return {}
        return {
            f"purchase model: {type(self.purchase_model_).__name__}": (
                self.purchase_model_.summary()
            ),
            "spend model: GammaGammaModel": self.spend_model_.summary(),
        }

    def predict_purchases(
        self, X: CustomerTable, *, t: float, **interval: Any
    ) -> pd.Series | pd.DataFrame:
        """Predict purchases in the next ``t`` with the fitted purchase model.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.
        t : float
            Horizon in the table's time unit.
        **interval
            ``interval``, ``n_draws``, ``random_state``, ``interval_method``
            and ``progress``, passed on to the purchase model's
            ``predict_purchases``.

        Returns
        -------
        pandas.Series or pandas.DataFrame
        """
        check_is_fitted(self, "purchase_model_")
        return self.purchase_model_.predict_purchases(X, t=t, **interval)

    def predict_spend(self, X: CustomerTable, **interval: Any) -> pd.Series | pd.DataFrame:
        """Predict the expected spend per purchase with the fitted spend model.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table.
        **interval
            ``interval``, ``n_draws``, ``random_state``, ``interval_method``
            and ``progress``, passed on to :meth:`GammaGammaModel.predict_spend`.

        Returns
        -------
        pandas.Series or pandas.DataFrame
        """
        check_is_fitted(self, "spend_model_")
        return self.spend_model_.predict_spend(X, **interval)

    def predict_clv(
        self,
        X: Any,
        *,
        horizon: float,
        discount_rate: float = 0.0,
        margin: float | Any = 1.0,
        period_length: float | None = None,
        interval: float | None = None,
        n_draws: int = 200,
        random_state: Any = None,
        interval_method: str = "auto",
        discounting: str = "discrete",
        progress: bool | None = None,
    ) -> pd.Series | pd.DataFrame:
        """Predict each customer's discounted lifetime value over ``horizon`` periods.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency``, ``T`` and ``monetary_value``.
        horizon : int
            Number of discounting periods (months by default).
        discount_rate : float, default=0.0
            Discount rate per period, e.g. 0.01 per month.
        margin : float or array-like, default=1.0
            Share of revenue that is profit: one number, or one per customer
            (a Series is aligned on the customer index).
        period_length : float, optional
            Length of one period in the table's time unit. Defaults to a month
            (30.4375 days, or 4.348 weeks) when the table's ``attrs`` record its
            time unit; otherwise it must be given.
        interval : float or None, default=None
            With a level such as 0.9, also return the bounds of the interval
            of each customer's expected CLV from the uncertainty of both
            models' estimates: a parametric bootstrap, ``n_draws`` draws of
            the purchase model's and, independently, the spend model's
            parameters (each from its estimates' asymptotic normal
            distribution, on the optimiser's scale: log of the positive
            parameters, covariate coefficients as they are); the CLV is
            computed at each pair of draws and the bounds are its
            percentiles. The interval is for the expected value, not for the
            customer's realised value.
        n_draws : int, default=200
            Parameter draws for ``interval``.
        random_state : int, numpy.random.Generator or None, default=None
            Seed of the draws.
        interval_method : {"auto", "bootstrap", "delta"}, default="auto"
            ``"auto"``: the bootstrap for up to 100,000 customers, the delta
            method beyond. ``"delta"``: the delta method instead of draws (a few point
            predictions' cost instead of about ``n_draws``), with normal
            bounds on the log scale; see the purchase models'
            ``predict_purchases``; the
            gradient is in both models' parameters.
        discounting : {"discrete", "continuous"}, default="discrete"
            ``"discrete"``: the purchases of period ``k`` are discounted by
            ``(1 + discount_rate) ** -k`` at the period's end. ``"continuous"``:
            ``discount_rate`` is a continuous rate per period and each purchase
            at time ``t`` is weighted ``exp(-discount_rate * t / period_length)``,
            CLVTools' definition (DERT, Fader, Hardie and Lee 2005; see
            :func:`~custintel.clv.dert`); ``horizon`` may then be
            ``math.inf`` for the whole future. Convert an annual rate with
            :func:`~custintel.clv.continuous_discount_rate`. Intervals are
            for discrete discounting only.
        progress : bool or None, default=None
            Show a progress bar on standard error over the customers while
            the bootstrap ``interval`` is computed, when standard error is a
            terminal. ``None`` (automatic) shows it once the work has run
            for half a second, and not inside a quiet
            :class:`~custintel.pipeline.CustomerIntelligence` job; ``False``
            never shows one.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            Discounted CLV per customer, indexed like ``X``. With
            ``interval``: a DataFrame with columns ``clv``, ``lower`` and
            ``upper``.
        """
        check_is_fitted(self, "purchase_model_")
        X = as_customer_table(X, owner="CLVModel")
        check_time_unit(self.time_unit_, X, model_name="CLVModel")
        if discounting not in ("discrete", "continuous"):
            raise ValueError(f"discounting must be 'discrete' or 'continuous', got {discounting!r}")
        forever = discounting == "continuous" and horizon == math.inf
        if not forever and (int(horizon) != horizon or horizon < 1):
            raise ValueError(f"horizon must be a whole number of periods >= 1, got {horizon!r}")
        if not np.isfinite(discount_rate) or discount_rate <= -1:
            raise ValueError(f"discount_rate must be a finite number > -1, got {discount_rate!r}")
        level = check_interval(interval)
        step = self._period_length(X, period_length)
        margins = self._margins(X, margin)
        spend = self.spend_model_.predict_spend(X).to_numpy()
        if discounting == "continuous":
            if level is not None:
                raise ValueError(
                    "interval is available with discounting='discrete' only; drop interval= "
                    "or discount per period"
                )
            total = dert(
                self.purchase_model_,
                X,
                discount_rate=discount_rate / step,
                horizon=None if forever else horizon * step,
            ).to_numpy()
            return pd.Series(margins * spend * total, index=X.index, name="clv")
        times = [k * step for k in range(1, int(horizon) + 1)]
        by_period = _purchases_by(self.purchase_model_, X, times)
        value = _discounted_value(by_period, spend, margins, discount_rate)
        if level is None:
            return pd.Series(value, index=X.index, name="clv")
        purchase, spend_model = self.purchase_model_, self.spend_model_
        arrays, _ = purchase._prepare(X)
        spend_arrays, _ = spend_model._checked_table(X)
        maths, _ = purchase._scoring() if not purchase._coef_names() else (purchase.maths, None)
        # A boundary solution predicts with the nested NBD fit: draw its parameters.
        source = purchase if maths is purchase.maths else purchase.nested_model_

        def at(draws: tuple[np.ndarray, np.ndarray], rows: np.ndarray) -> np.ndarray:
            purchase_draws, spend_draws = draws
            sub = {k: v[rows] for k, v in arrays.items()}
            # The delta method steps one model's parameters at a time: the purchase
            # model's repeated rows are evaluated once.
            unique, inverse = np.unique(purchase_draws, axis=0, return_inverse=True)
            cumulative = [c[inverse.ravel()] for c in purchase._draw_expected(unique, sub, times)]
            spend_at = spend_model._spend(
                spend_draws, {k: v[rows] for k, v in spend_arrays.items()}
            )
            return _discounted_value(cumulative, spend_at, margins[rows], discount_rate)

        keys = [*arrays.values(), *spend_arrays.values(), margins]
        return bootstrap_interval(
            (source, spend_model),
            value,
            at,
            keys,
            "clv",
            X.index,
            level,
            n_draws,
            random_state,
            method=interval_method,
            progress=progress,
        )

    def _period_length(self, X: Any, period_length: float | None) -> float:
        if period_length is not None:
            if not np.isfinite(period_length) or period_length <= 0:
                raise ValueError(f"period_length must be > 0, got {period_length!r}")
            return float(period_length)
        unit = getattr(X, "attrs", {}).get("time_unit") or self.time_unit_
        if unit not in _MONTH_IN_UNITS:
            raise ValueError(
                "the table does not record its time unit (X.attrs['time_unit']); pass "
                "period_length, e.g. period_length=30.4375 for months in a daily table"
            )
        return _MONTH_IN_UNITS[unit]

    @staticmethod
    def _margins(X: Any, margin: Any) -> np.ndarray:
        if isinstance(margin, pd.Series):
            aligned = margin.reindex(X.index)
            if aligned.isna().any():
                missing = X.index[aligned.isna().to_numpy()][:5].tolist()
                raise ValueError(f"margin has no value for customers {missing}")
            values = aligned.to_numpy(dtype=np.float64)
        else:
            values = np.broadcast_to(np.asarray(margin, dtype=np.float64), (len(X),))
        if not np.all(np.isfinite(values)):
            raise ValueError("margin must be finite")
        return values

    def to_dict(self) -> dict[str, Any]:
        """Export both fitted models as plain JSON-serialisable data.

        Returns
        -------
        dict
        """
        check_is_fitted(self, "purchase_model_")
        return {
            "model": "CLVModel",
            "format_version": _FORMAT_VERSION,
            "time_unit": self.time_unit_,
            "purchase_model": self.purchase_model_.to_dict(),
            "spend_model": self.spend_model_.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> CLVModel:
        """Rebuild a fitted CLVModel from :meth:`to_dict` output (or its JSON text).

        The export is checked completely, because it may come from someone
        else: the purchase model must be one of the purchase models of
        :mod:`custintel.clv` (a fixed list, never a lookup by name) and the
        spend model a Gamma-Gamma model, each checked by its own
        ``from_dict``.

        Parameters
        ----------
        data : dict or str
            The exported model, a mapping or its JSON text, with exactly the
            fields ``model`` (``"CLVModel"``), ``format_version`` (1),
            ``time_unit`` (``"D"``, ``"W"`` or null), ``purchase_model`` and
            ``spend_model``.

        Returns
        -------
        CLVModel

        Raises
        ------
        InvalidModelError
            For anything :meth:`to_dict` does not write, with a ``reason``
            (see :mod:`custintel.export`): ``"wrong_model"`` (not an export,
            ``model`` is not ``"CLVModel"``, the purchase model is not
            ``BetaGeoModel``, ``ModifiedBetaGeoModel``, ``ParetoNBDModel``
            or ``BetaGeoBetaBinomModel``, or the spend model is not
            ``GammaGammaModel``), ``"bad_format_version"``,
            ``"missing_field"``, ``"unknown_field"``, ``"bad_parameter"``
            (e.g. an unknown ``time_unit``), and the reasons of the two
            models' ``from_dict``, whose messages are prefixed with the field
            they come from.

        Examples
        --------
        >>> from custintel.clv import CLVModel
        >>> from custintel.exceptions import InvalidModelError
        >>> try:
        ...     CLVModel.from_dict({"model": "CLVModel", "format_version": 1, "time_unit": "W",
        ...                         "purchase_model": {"model": "os"}, "spend_model": {}})
        ... except InvalidModelError as err:
        ...     print(err.reason)
        wrong_model
        """
        reader = ExportReader("CLVModel export")
        data = reader.envelope(
            data,
            model="CLVModel",
            versions=(_FORMAT_VERSION,),
            required=("time_unit", "purchase_model", "spend_model"),
        )
        time_unit = reader.choice(
            data["time_unit"], "time_unit", tuple(_MONTH_IN_UNITS), allow_none=True
        )
        purchase_data = reader.mapping(data["purchase_model"], "purchase_model")
        purchase_name = reader.model_name(
            purchase_data, tuple(_PURCHASE_MODELS), label="purchase_model.model"
        )
        spend_data = reader.mapping(data["spend_model"], "spend_model")
        reader.model_name(spend_data, ("GammaGammaModel",), label="spend_model.model")
        model = cls()
        model.purchase_model_ = _nested(
            _PURCHASE_MODELS[purchase_name], purchase_data, "purchase_model"
        )
        model.spend_model_ = _nested(GammaGammaModel, spend_data, "spend_model")
        model.time_unit_ = time_unit
        return model


def _nested(model_cls: Any, data: Mapping[str, Any], field: str) -> Any:
    """Read one model of a CLVModel export; its errors name the field they come from."""
    try:
        return model_cls.from_dict(data)
    except InvalidModelError as err:
        raise InvalidModelError(
            f"CLVModel export, field {field!r}: {err}", reason=err.reason
        ) from None


def _discounted_value(
    by_period: list[np.ndarray], spend: np.ndarray, margins: np.ndarray, discount_rate: float
) -> np.ndarray:
    """Margin x spend x discounted purchases per period (any shape that broadcasts)."""
    total = np.zeros(np.shape(by_period[0]))
    previous = np.zeros_like(total)
    for k, cumulative in enumerate(by_period, start=1):
        total = total + (cumulative - previous) / (1.0 + discount_rate) ** k
        previous = cumulative
    margins, spend, total = np.broadcast_arrays(margins, spend, total)
    with np.errstate(invalid="ignore"):
        value = margins * spend * total
    # No margin or no purchases is no value, even where the mean spend is infinite
    # (Gamma-Gamma with p x + q <= 1), where the product would be 0 * inf = NaN.
    value[(margins == 0) | (total == 0)] = 0.0
    return value


def _purchases_by(model: PurchaseModel, X: Any, times: list[float]) -> list[np.ndarray]:
    """Return ``model.predict_purchases(X, t=t)`` for each of ``times``, as arrays.

    A Pareto/NBD model evaluates its posterior (a series per customer) once
    for all horizons instead of once per horizon; the values are the same to
    the last bit.
    """
    if isinstance(model, ParetoNBDModel) and not model._coef_names():
        maths, params = model._scoring()
        if maths is ParetoNBDModel.maths:  # not reduced to a nested model
            checked = [model._horizon(t) for t in times]
            check_is_fitted(model, "params_")
            arrays, _ = model._prepare(X)
            return pareto_nbd_math.expected_purchases_by(
                params, arrays["frequency"], arrays["recency"], arrays["T"], checked
            )
    return [model.predict_purchases(X, t=t).to_numpy() for t in times]
