"""Every public entry point takes pandas, Polars (eager and lazy) and pyarrow frames alike.

One matrix: entry points × input kinds. A customer table from another library
has no index, so its ``customer_id`` column becomes the index; the results
must equal those of the pandas input exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custintel.churn import ChurnClassifier, btyd_survival, churn_contributions
from custintel.datasets import make_transactions
from custintel.exceptions import SchemaError
from custintel.features import make_churn_dataset, summarize_customers
from custintel.profitability import ParetoAnalysis, WhaleCurve, breakdown
from custintel.segmentation import (
    CustomerSegmenter,
    LifecycleSegmenter,
    RFMSegmenter,
    ValueTierSegmenter,
)

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")


def _kinds() -> dict[str, Callable[[pd.DataFrame], Any]]:
    return {
        "polars": lambda df: pl.from_pandas(df.reset_index()),
        "polars_lazy": lambda df: pl.from_pandas(df.reset_index()).lazy(),
        "pyarrow": lambda df: pa.Table.from_pandas(df.reset_index(), preserve_index=False),
    }


KINDS = list(_kinds())


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    tx = make_transactions(300, random_state=3).transactions
    table = summarize_customers(tx)
    table["region"] = np.where(np.arange(len(table)) % 2 == 0, "north", "south")
    table["total_cost"] = table["total_amount"] * 0.6
    return table.drop(columns=["first_purchase", "last_purchase"])


@pytest.fixture(scope="module")
def churn_data() -> tuple[pd.DataFrame, pd.Series]:
    tx = make_transactions(600, random_state=4).transactions
    end = tx["timestamp"].max()
    X, y = make_churn_dataset(tx, cutoff=end - pd.Timedelta(days=180), horizon=90)
    return X, y


def _as(kind: str, df: pd.DataFrame) -> Any:
    return _kinds()[kind](df)


def _same(left: Any, right: Any, **options: Any) -> None:
    if isinstance(left, pd.DataFrame):
        pd.testing.assert_frame_equal(
            left, right, check_index_type=False, check_names=False, **options
        )
    elif isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left, right, check_index_type=False, check_names=False)
    else:
        np.testing.assert_array_equal(np.asarray(left), np.asarray(right))


SEGMENTERS: dict[str, Callable[[], Any]] = {
    "RFMSegmenter": RFMSegmenter,
    "ValueTierSegmenter": ValueTierSegmenter,
    "LifecycleSegmenter": LifecycleSegmenter,
    "CustomerSegmenter": lambda: CustomerSegmenter(n_clusters=3, random_state=0),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(SEGMENTERS))
def test_segmenters_take_every_kind(name: str, kind: str, customers: pd.DataFrame) -> None:
    expected = SEGMENTERS[name]().fit(customers).transform(customers)
    got = SEGMENTERS[name]().fit(_as(kind, customers)).transform(_as(kind, customers))
    _same(expected, got)
    assert got.index.name == "customer_id"


@pytest.mark.parametrize("kind", KINDS)
def test_profitability_takes_every_kind(kind: str, customers: pd.DataFrame) -> None:
    pareto = ParetoAnalysis().fit(customers)
    other = ParetoAnalysis().fit(_as(kind, customers))
    _same(pareto.table_, other.table_)
    assert other.gini_ == pareto.gini_
    whale = WhaleCurve(column="total_margin").fit(customers)
    _same(whale.curve_, WhaleCurve(column="total_margin").fit(_as(kind, customers)).curve_)
    _same(breakdown(customers, "region"), breakdown(_as(kind, customers), "region"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_churn_takes_every_kind(kind: str, churn_data: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = churn_data
    X = X.select_dtypes(exclude="category")
    clf = ChurnClassifier().fit(X, y)
    # Other libraries' frames carry no attrs, so the label window is passed by hand.
    other = ChurnClassifier(horizon=X.attrs["horizon"]).fit(_as(kind, X), y.to_numpy())
    np.testing.assert_allclose(
        clf.predict_proba(X), other.predict_proba(_as(kind, X)), rtol=0, atol=1e-12
    )
    _same(clf.predict_churn(X), other.predict_churn(_as(kind, X)))
    _same(churn_contributions(clf, X), churn_contributions(clf, _as(kind, X)))
    survival = btyd_survival("bgnbd", X, t=[0, 90], time_unit="D")
    _same(survival, btyd_survival("bgnbd", _as(kind, X), t=[0, 90], time_unit="D"))


def test_a_customer_table_with_repeated_customers_is_refused() -> None:
    table = pl.DataFrame({"customer_id": ["a", "a"], "total_amount": [1.0, 2.0]})
    with pytest.raises(SchemaError, match="repeats customers"):
        ValueTierSegmenter(value="total_amount").fit(table)


def test_anything_else_gets_the_usual_clear_error() -> None:
    with pytest.raises(SchemaError, match="customer table"):
        RFMSegmenter().fit([[1, 2, 3]])


@pytest.mark.parametrize("n_jobs", [None, 1, 2, -1])
def test_clustering_threads_do_not_change_the_segments(
    n_jobs: int | None, customers: pd.DataFrame
) -> None:
    one = CustomerSegmenter(n_clusters=3, random_state=0, n_jobs=1).fit(customers)
    other = CustomerSegmenter(n_clusters=3, random_state=0, n_jobs=n_jobs).fit(customers)
    _same(one.transform(customers), other.transform(customers))


def test_n_jobs_zero_is_refused_before_any_work(customers: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero whole number"):
        CustomerSegmenter(n_jobs=0).fit(customers)


TRANSACTION_KINDS = {
    "polars": lambda tx: pl.from_pandas(tx),
    "polars_lazy": lambda tx: pl.from_pandas(tx).lazy(),
    "pyarrow": lambda tx: pa.Table.from_pandas(tx, preserve_index=False),
    "narwhals": lambda tx: __import__("narwhals").from_native(pl.from_pandas(tx)),
}


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return make_transactions(200, random_state=5).transactions


@pytest.mark.parametrize("kind", list(TRANSACTION_KINDS))
def test_feature_builders_take_every_kind_of_transaction_log(
    kind: str, transactions: pd.DataFrame
) -> None:
    from custintel.features import calibration_holdout_split, customer_profitability

    log = TRANSACTION_KINDS[kind](transactions)
    _same(summarize_customers(transactions), summarize_customers(log))
    end = transactions["timestamp"].max()
    split = {"calibration_end": str((end - pd.Timedelta(days=180)).date())}
    _same(calibration_holdout_split(transactions, **split), calibration_holdout_split(log, **split))
    # The profitability table runs on the pandas path, every kind converted. Polars
    # orders categories by appearance, pandas alphabetically: the values are the same.
    _same(
        customer_profitability(transactions),
        customer_profitability(log),
        check_categorical=False,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_clv_models_take_every_kind_of_customer_table(kind: str, customers: pd.DataFrame) -> None:
    from custintel.clv import BetaGeoModel, CLVModel, GammaGammaModel, ParetoNBDModel

    table = customers[["frequency", "recency", "T", "monetary_value"]]
    for model in (BetaGeoModel(), ParetoNBDModel()):
        expected = model.fit(table).predict_purchases(table, t=30)
        other = type(model)().fit(_as(kind, table))
        _same(expected, other.predict_purchases(_as(kind, table), t=30))
    repeat = table[table["frequency"] > 0]
    spend = GammaGammaModel().fit(repeat).predict_spend(repeat)
    _same(spend, GammaGammaModel().fit(_as(kind, repeat)).predict_spend(_as(kind, repeat)))
    clv = CLVModel().fit(table).predict_clv(table, horizon=6, period_length=30.0)
    other_clv = (
        CLVModel()
        .fit(_as(kind, table))
        .predict_clv(_as(kind, table), horizon=6, period_length=30.0)
    )
    _same(clv, other_clv)


@pytest.mark.parametrize("kind", ["polars", "pyarrow", "narwhals"])
def test_profiles_and_the_recommender_take_every_kind(
    kind: str, transactions: pd.DataFrame
) -> None:
    from custintel.basket import CrossSellRecommender
    from custintel.segmentation import RFMSegmenter, segment_profile

    summary = summarize_customers(transactions)
    segments = RFMSegmenter().fit_transform(summary)
    expected = segment_profile(segments, summary)
    expected = expected.set_axis(expected.index.astype(str)).sort_index()
    convert = TRANSACTION_KINDS[kind]
    got = segment_profile(convert(segments.reset_index()), convert(summary.reset_index()))
    # Other libraries carry no pandas category order: the same rows, in another order.
    got = got.set_axis(got.index.astype(str)).sort_index()
    _same(expected, got, check_categorical=False)
    rules = CrossSellRecommender(min_support=0.05).fit(transactions).rules_
    _same(rules, CrossSellRecommender(min_support=0.05).fit(convert(transactions)).rules_)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["pyarrow", "narwhals"])
def test_the_main_job_takes_every_kind(kind: str) -> None:
    from custintel.pipeline import CustomerIntelligence

    tx = make_transactions(200, random_state=1, start="2022-01-01", acquisition_days=365)
    log = tx.transactions
    expected = CustomerIntelligence(horizon=180).fit(log).score(log)
    convert = TRANSACTION_KINDS[kind]
    got = CustomerIntelligence(horizon=180).fit(convert(log)).score(convert(log))
    _same(expected.sort_index(), got.sort_index())
