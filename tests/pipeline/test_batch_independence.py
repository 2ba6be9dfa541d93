"""Scores do not depend on the batch: a customer scored alone gets its row of the full file.

A fitted ``CustomerIntelligence`` scores as of one fixed day (its ``observation_end_``,
or an explicit ``as_of``), so scoring any set of customers, in any row order, gives
each of them exactly the row it gets when the whole log is scored.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custintel.exceptions import DataQualityWarning
from custintel.pipeline import CustomerIntelligence

pytestmark = pytest.mark.slow

#: Outputs of the Pareto/NBD purchase model (the one the shared fixture picks).
CLV_COLUMNS = ("p_alive", "expected_purchases", "expected_clv")


def assert_same_rows(part: pd.DataFrame, full: pd.DataFrame) -> None:
    """Assert that ``part`` holds exactly the rows of ``full`` for its customers."""
    pd.testing.assert_frame_equal(part, full.loc[part.index], check_exact=True)


def quiet_score(ci: CustomerIntelligence, tx: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return ci.score(tx, **kwargs)


@pytest.fixture(scope="module")
def later(fitted: CustomerIntelligence) -> pd.Timestamp:
    """A scoring day 90 days after the day the model was fitted at."""
    return fitted.observation_end_ + pd.Timedelta(days=90)


@pytest.fixture(scope="module")
def full_scores(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, later: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """The whole log scored as of the fitted day and as of ``later``."""
    return {"fitted": fitted.score(pipeline_tx), "later": fitted.score(pipeline_tx, as_of=later)}


@pytest.fixture(scope="module")
def pools(fitted: CustomerIntelligence) -> dict[str, list[int]]:
    """Customer ids by kind: all, lapsed repeat buyers, one-time buyers."""
    summary = fitted.summary_
    lapsed = summary.loc[(summary["frequency"] >= 1) & (summary["days_since_last"] > 365)]
    one_time = summary.loc[summary["frequency"] == 0]
    assert len(lapsed) > 20 and len(one_time) > 20
    return {
        "all": summary.index.tolist(),
        "lapsed": lapsed.index.tolist(),
        "one_time": one_time.index.tolist(),
    }


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_subset_scores_like_the_full_file(
    fitted: CustomerIntelligence,
    pipeline_tx: pd.DataFrame,
    full_scores: dict[str, pd.DataFrame],
    pools: dict[str, list[int]],
    later: pd.Timestamp,
    data: st.DataObject,
) -> None:
    single = st.sampled_from(pools["lapsed"]) | st.sampled_from(pools["one_time"])
    customers = data.draw(
        single.map(lambda c: [c])
        | st.lists(st.sampled_from(pools["all"]), min_size=1, max_size=40, unique=True)
        | st.lists(st.sampled_from(pools["lapsed"]), min_size=2, max_size=10, unique=True),
        label="customers",
    )
    when = data.draw(st.sampled_from(["fitted", "later"]), label="as_of")
    order = data.draw(st.sampled_from(["file", "customers shuffled", "by time"]), label="order")
    rows = pipeline_tx.loc[pipeline_tx["customer_id"].isin(customers)]
    # The order of the customers' rows does not matter either. (Lines of one customer
    # at the same timestamp keep their order: their amounts are summed in that order,
    # which can change the last bit of a sum.)
    if order == "customers shuffled":
        rank = {c: k for k, c in enumerate(data.draw(st.permutations(customers)))}
        rows = rows.iloc[np.argsort(rows["customer_id"].map(rank).to_numpy(), kind="stable")]
    elif order == "by time":
        rows = rows.sort_values("timestamp", kind="stable")
    part = quiet_score(fitted, rows, as_of=None if when == "fitted" else later)
    assert sorted(part.index) == sorted(customers)
    assert part.index.is_monotonic_increasing
    assert_same_rows(part, full_scores[when])


def test_a_lapsed_customer_scored_alone_keeps_its_low_p_alive(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, full_scores: dict[str, pd.DataFrame]
) -> None:
    full = full_scores["fitted"]
    summary = fitted.summary_
    # The repeat buyer whose last purchase is longest ago: years before the fitted day.
    repeat = summary.loc[summary["frequency"] >= 2]
    lapsed = repeat["days_since_last"].idxmax()
    assert repeat.loc[lapsed, "days_since_last"] > 700
    own_rows = pipeline_tx.loc[pipeline_tx["customer_id"] == lapsed]
    alone = fitted.score(own_rows)
    assert_same_rows(alone, full)
    row = alone.loc[lapsed]
    assert row["p_alive"] < 0.01 and row["T"] == full.loc[lapsed, "T"]
    assert row["rfm_segment"] == "Hibernating" and row["lifecycle_stage"] == "lost"
    assert row["churn_probability"] > 0.9
    # What a batch-dependent reference day did: the batch's last date is the customer's own
    # last purchase, so T = recency and the model sees a customer who just bought.
    last_day = own_rows["timestamp"].max().floor("D")
    as_if_just_bought = fitted.score(own_rows, as_of=last_day).loc[lapsed]
    assert as_if_just_bought["p_alive"] == 1.0 and as_if_just_bought["T"] == row["recency"]
    assert as_if_just_bought["lifecycle_stage"] == "active"


def test_a_nightly_file_with_rows_after_the_fitted_day(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, full_scores: dict[str, pd.DataFrame]
) -> None:
    # Two customers' histories plus purchases made after the model was fitted: with the
    # default, the new rows are left out (and counted in a warning), so the rows equal the
    # full file's; pass the same as_of to every nightly file to count them in.
    ids = two_repeat_buyers(fitted)
    rows = pipeline_tx.loc[pipeline_tx["customer_id"].isin(ids)]
    after = rows.groupby("customer_id").tail(1).copy()
    after["timestamp"] = fitted.observation_end_ + pd.Timedelta(days=1, hours=9)
    nightly = pd.concat([rows, after], ignore_index=True)
    with pytest.warns(DataQualityWarning, match=rf"^2 of {len(nightly):,} transactions fall after"):
        scored = fitted.score(nightly)
    assert_same_rows(scored, full_scores["fitted"])
    counted = quiet_score(fitted, nightly, as_of=fitted.observation_end_ + pd.Timedelta(days=1))
    assert (counted["frequency"] == scored["frequency"] + 1).all()
    assert (counted["recency"] > scored["recency"]).all()


def two_repeat_buyers(fitted: CustomerIntelligence) -> list[int]:
    """Two repeat buyers with different last purchase days."""
    summary = fitted.summary_.sort_values("days_since_last")
    repeat = summary.loc[summary["frequency"] >= 2]
    return [int(repeat.index[0]), int(repeat.index[-1])]


def test_a_later_as_of_ages_every_customer_by_the_same_days(
    fitted: CustomerIntelligence,
    pipeline_tx: pd.DataFrame,
    full_scores: dict[str, pd.DataFrame],
    later: pd.Timestamp,
) -> None:
    at_fit, at_later = full_scores["fitted"], full_scores["later"]
    days = (later - fitted.observation_end_).days
    assert days == 90
    pd.testing.assert_series_equal(at_later["T"], at_fit["T"] + days)
    for column in ("frequency", "recency", "monetary_value", "total_amount", "abc_class"):
        pd.testing.assert_series_equal(at_later[column], at_fit[column])
    # 90 more days without a purchase: nobody is more likely alive.
    assert (at_later["p_alive"] <= at_fit["p_alive"]).all()
    assert (at_later["p_alive"] < at_fit["p_alive"]).mean() > 0.9
    features = fitted.customer_features(pipeline_tx, as_of=later)
    assert features.attrs["observation_end"] == str(later.date())
    pd.testing.assert_series_equal(
        features["days_since_last"], fitted.summary_["days_since_last"] + days
    )


def test_an_earlier_as_of_leaves_later_rows_out(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    day = pd.Timestamp("2024-06-30")
    with pytest.warns(DataQualityWarning, match=r"[\d,]+ of 7,594 transactions fall after"):
        scored = fitted.score(pipeline_tx, as_of=day)
    assert scored["T"].eq(fitted.customers_["T"] - (fitted.observation_end_ - day).days).all()
    before = pipeline_tx.loc[pipeline_tx["timestamp"] < day + pd.Timedelta(days=1)]
    pd.testing.assert_frame_equal(fitted.score(before, as_of=day), scored)


def test_empty_input_is_refused(fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame) -> None:
    from custintel.exceptions import SchemaError

    with pytest.raises(SchemaError, match="is empty") as err:
        fitted.score(pipeline_tx.iloc[:0])
    assert err.value.reason == "empty"
    # Rows only after the scoring day: nothing is left to score, and the error says which day.
    late = pipeline_tx.loc[pipeline_tx["timestamp"] > "2024-12-01"]
    with pytest.raises(SchemaError, match=r"as_of is 2024-06-30\)") as err:
        quiet_score(fitted, late, as_of="2024-06-30")
    assert err.value.reason == "empty"


def test_pareto_nbd_predictions_are_row_wise_to_the_last_bit(
    fitted: CustomerIntelligence,
) -> None:
    model = fitted.clv_model_.purchase_model_
    summary = fitted.summary_
    whole = model.predict_proba_alive(summary)
    alone = pd.concat([model.predict_proba_alive(summary.iloc[[i]]) for i in range(len(summary))])
    pd.testing.assert_series_equal(alone, whole, check_exact=True)
    assert np.isfinite(whole).all()
