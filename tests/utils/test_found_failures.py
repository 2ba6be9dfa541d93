"""Regression tests for the failures the common checks and property tests found (issue #10).

Each test names what was wrong; fixed ones must pass, open ones (in code owned
elsewhere) are strict xfails that turn red when the owner fixes them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from custintel import summarize_customers, validate_transactions
from custintel.churn import ChurnClassifier
from custintel.clv import CLVModel, GammaGammaModel
from custintel.exceptions import DataQualityWarning, SchemaError

from ._cases import churn_data

_DAYS = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05"])


def _tx(**columns: object) -> pd.DataFrame:
    base: dict[str, object] = {
        "customer_id": [1, 2, 2],
        "timestamp": _DAYS,
        "amount": [1.0, 2.0, 3.0],
    }
    return pd.DataFrame({**base, **columns})


@pytest.mark.parametrize(
    ("column", "values", "reason"),
    [
        # Was: accepted, the imaginary part dropped with a numpy ComplexWarning.
        ("amount", np.array([1 + 0j, 2 + 1j, 3 + 0j]), "bad_amount"),
        # Was: accepted as nanosecond or microsecond counts (8.64e10 for one day).
        ("amount", pd.to_timedelta([1, 2, 3], unit="D"), "bad_amount"),
        ("amount", pd.to_datetime(["2024-01-01"] * 3), "bad_amount"),
        # Was: inf and 1e300 cast to int64 -9223372036854775808 with a RuntimeWarning, so two
        # different ids could become one customer.
        ("customer_id", [1.0, np.inf, 2.0], "bad_customer_id"),
        ("customer_id", [1e300, 2.0, 2.0], "bad_customer_id"),
        ("customer_id", [2.0**60, 2.0**60 + 2**8, 2.0], "bad_customer_id"),
        # Was: reason "mixed_customer_id" with "0 of 3 rows have a different type".
        ("customer_id", [(1, 2), (1, 2), (3, 4)], "bad_customer_id"),
        ("customer_id", pd.to_datetime(["2024-01-01"] * 3), "bad_customer_id"),
    ],
    ids=["complex", "timedelta", "datetime", "inf-id", "huge-id", "inexact-id", "tuple-id",
         "date-id"],
)  # fmt: skip
def test_odd_dtypes_are_schema_errors(column: str, values: object, reason: str) -> None:
    frame = _tx(**{column: values})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy or pandas warning on the way
        with pytest.raises(SchemaError) as err:
            validate_transactions(frame)
    assert err.value.reason == reason
    assert "0 of" not in str(err.value)


@pytest.mark.parametrize("zone", [None, "UTC", "Asia/Kolkata"])
def test_pyarrow_timestamps_become_numpy_datetimes(zone: str | None) -> None:
    # Was: a TypeError ("cannot get datetime metadata from non-datetime type") for zoned
    # pyarrow timestamps, and a pyarrow-typed timestamp column in the output otherwise.
    pytest.importorskip("pyarrow")
    stamps = pd.Series(_DAYS + pd.Timedelta(hours=23))
    if zone is not None:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(zone)
    arrow = stamps.astype(pd.ArrowDtype(__import__("pyarrow").timestamp("ns", tz=zone)))
    out = validate_transactions(_tx(timestamp=arrow))
    assert out["timestamp"].dtype == np.dtype("datetime64[ns]")
    # local wall-clock time: 23:00 UTC is 04:30 the next day in Kolkata
    expected = stamps.dt.tz_localize(None) if zone is not None else stamps
    assert out["timestamp"].tolist() == sorted(expected.tolist())
    assert summarize_customers(_tx(timestamp=arrow))["frequency"].tolist() == [0, 1]


def _gamma_gamma(p: float, q: float, gamma: float) -> GammaGammaModel:
    return GammaGammaModel.from_dict(
        {
            "model": "GammaGammaModel",
            "format_version": 1,
            "params": {"p": p, "q": q, "gamma": gamma},
            "log_likelihood": 0.0,
            "converged": True,
        }
    )


def test_gamma_gamma_spend_is_never_negative() -> None:
    # Found by tests/properties/test_model_properties.py: p = 1, q = 0.1, gamma = 1 gave a
    # one-time buyer an expected spend of p*gamma/(q - 1) = 1/(-0.9) = -1.11. The posterior
    # mean of 1/nu exists only when p*x + q > 1; elsewhere E[M] is infinite.
    X = pd.DataFrame({"frequency": [0, 1, 2], "monetary_value": [0.0, 10.0, 10.0]})
    spend = _gamma_gamma(1.0, 0.1, 1.0).predict_spend(X)
    # x = 0: 0.1 <= 1, infinite; x = 1: 1.1 > 1, 1 * (1 + 10) / 0.1 = 110;
    # x = 2: 1 * (1 + 20) / 1.1 = 19.0909...
    assert np.isinf(spend.iloc[0])
    assert spend.iloc[1] == pytest.approx(110.0)
    assert spend.iloc[2] == pytest.approx(21 / 1.1)


def test_gamma_gamma_fit_with_sample_weight_reports_a_missing_column() -> None:
    # Was: KeyError('monetary_value') from X["monetary_value"] before any validation.
    X = pd.DataFrame({"frequency": [1, 2, 3]})
    with pytest.raises(SchemaError, match="monetary_value") as err:
        GammaGammaModel().fit(X, sample_weight=[1.0, 1.0, 1.0])
    assert err.value.reason == "missing_column"
    with pytest.raises(ValueError, match="one per row"):
        GammaGammaModel().fit(
            pd.DataFrame({"frequency": [1, 2], "monetary_value": [3.0, 4.0]}), sample_weight=[1.0]
        )


def test_gamma_gamma_score_leaves_fitted_attributes_alone() -> None:
    # Was: score() went through _prepare, which reset n_excluded_ to the count of the
    # scored table, so scoring changed the fitted model.
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {"frequency": rng.integers(1, 6, 200), "monetary_value": rng.gamma(4.0, 10.0, 200)}
    )
    train.loc[0, "monetary_value"] = 0.0  # one repeat buyer left out of the fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        model = GammaGammaModel().fit(train)
        assert model.n_excluded_ == 1
        other = train.assign(monetary_value=train["monetary_value"].where(train.index >= 3, 0.0))
        model.score(other)
    assert model.n_excluded_ == 1


def test_churn_classifier_missing_column_is_a_schema_error() -> None:
    X, y = churn_data()
    model = ChurnClassifier(max_iter=10, min_samples_leaf=20, cv=2).fit(X, y)
    with pytest.raises(SchemaError) as err:
        model.predict_proba(X.drop(columns=["frequency"]))
    assert err.value.reason == "missing_column"


@pytest.mark.parametrize("end", [20240101, 20240101.0, np.int64(20240101)])
def test_numeric_observation_end_is_refused(end: object) -> None:
    # Was: pd.Timestamp(20240101) is 20,240,101 ns after the epoch, so every row was "after"
    # observation_end 1970-01-01 and the error said "no transactions are left".
    with pytest.raises(SchemaError, match="is a number") as err:
        validate_transactions(_tx(), observation_end=end)
    assert err.value.reason == "bad_observation_end"


def test_gamma_gamma_warns_when_the_mean_spend_does_not_exist() -> None:
    # A few customers with a huge mean spend and many with a tiny one: the fit lands at
    # q = 0.127 < 1, where the population mean spend p * gamma / (q - 1) does not exist.
    X = pd.DataFrame({"frequency": [5000, 0, 1] * 10, "monetary_value": [1.0, 0.0, 1e6] * 10})
    with pytest.warns(DataQualityWarning, match="q = .* <= 1"):
        model = GammaGammaModel().fit(X)
    assert model.params_["q"] < 1


def test_clv_is_zero_not_nan_without_margin_or_purchases() -> None:
    # Was: margin 0 times an infinite mean spend gave NaN.
    spend = _gamma_gamma(1.0, 0.5, 1.0)  # q < 1: one-time buyers' mean spend is infinite
    purchase = {
        "model": "BetaGeoModel",
        "format_version": 1,
        "params": {"r": 1.0, "alpha": 2.0, "a": 1.0, "b": 2.0},
        "log_likelihood": 0.0,
        "converged": True,
    }
    clv = CLVModel.from_dict(
        {
            "model": "CLVModel",
            "format_version": 1,
            "time_unit": "D",
            "purchase_model": purchase,
            "spend_model": spend.to_dict(),
        }
    )
    X = pd.DataFrame({"frequency": [0, 3], "recency": [0.0, 20.0], "T": [30.0, 30.0],
                      "monetary_value": [0.0, 10.0]})  # fmt: skip
    assert clv.predict_clv(X, horizon=3, margin=0.0).tolist() == [0.0, 0.0]
    value = clv.predict_clv(X, horizon=3, margin=0.5)
    assert np.isinf(value.iloc[0]) and np.isfinite(value.iloc[1]) and value.iloc[1] > 0
