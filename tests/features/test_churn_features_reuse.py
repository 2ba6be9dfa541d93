"""churn_features on validated transactions and with the caller's summary: the same table.

A caller that validated the log and summarised it (the pipeline, when it
scores) passes both, and must get exactly the table ``churn_features`` builds
from the frame on its own, at the end of the data (every row read whole) and
at an earlier cutoff (rows masked).
"""

from __future__ import annotations

import pandas as pd
import pytest

from custintel.datasets import make_transactions
from custintel.exceptions import quiet
from custintel.features import churn_features, make_churn_dataset, summarize_customers
from custintel.schema import validated_transactions


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    """Simulated lines with items, costs, the three attributes and some return lines."""
    lines = make_transactions(300, start="2022-01-01", acquisition_days=200, random_state=3)
    tx = lines.transactions
    returns = tx.iloc[::40].copy()  # every 40th line comes back two days later
    returns["timestamp"] += pd.Timedelta(days=2)
    for column in ("quantity", "amount", "cost"):
        returns[column] = -returns[column]
    return pd.concat([tx, returns], ignore_index=True)


@pytest.fixture(scope="module")
def validated(tx: pd.DataFrame) -> object:
    with quiet():
        return validated_transactions(tx, refunds="net", duplicates="keep")


@pytest.mark.parametrize("cutoff", ["end", "2022-09-30"])
def test_validated_input_and_summary_give_the_same_table(
    tx: pd.DataFrame, validated: object, cutoff: str
) -> None:
    day = str(validated.end_day) if cutoff == "end" else cutoff  # type: ignore[attr-defined]
    with quiet():
        expected = churn_features(tx, cutoff=day, horizon=60, duplicates="keep")
        summary = summarize_customers(tx, observation_end=day, duplicates="keep")
    kept = summary.copy(deep=True)
    attrs = dict(summary.attrs)
    for got in (
        churn_features(validated, cutoff=day, horizon=60),
        churn_features(tx, cutoff=day, horizon=60, duplicates="keep", summary=summary),
        churn_features(validated, cutoff=day, horizon=60, summary=summary),
    ):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert got.attrs == expected.attrs
    assert {"channel", "region", "customer_type", "occasions_recent"} <= set(expected.columns)
    # the caller's summary is left as it was
    pd.testing.assert_frame_equal(summary, kept, check_exact=True)
    assert summary.attrs == attrs


def test_the_validated_frame_of_a_pipeline_gives_the_same_table(validated: object) -> None:
    # The pipeline passes the canonical frame (validated again inside) or the validation.
    frame = validated.frame  # type: ignore[attr-defined]
    day = str(validated.end_day)  # type: ignore[attr-defined]
    with quiet():
        from_frame = churn_features(frame, cutoff=day, horizon=90, duplicates="keep")
    pd.testing.assert_frame_equal(
        churn_features(validated, cutoff=day, horizon=90), from_frame, check_exact=True
    )


def test_make_churn_dataset_is_unchanged_by_the_whole_row_path(tx: pd.DataFrame) -> None:
    # make_churn_dataset masks the rows after its cutoff; churn_features at the same
    # cutoff gives its X.
    with quiet():
        X, _ = make_churn_dataset(tx, cutoff="2022-10-15", horizon=60, duplicates="keep")
        Xc = churn_features(tx, cutoff="2022-10-15", horizon=60, duplicates="keep")
    pd.testing.assert_frame_equal(X, Xc, check_exact=True)


def test_a_summary_of_another_day_or_table_is_refused(tx: pd.DataFrame, validated: object) -> None:
    day = str(validated.end_day)  # type: ignore[attr-defined]
    with quiet():
        other_day = summarize_customers(tx, observation_end="2022-09-30", duplicates="keep")
        weekly = summarize_customers(tx, time_unit="W", duplicates="keep")
        summary = summarize_customers(tx, duplicates="keep")
    with pytest.raises(ValueError, match=r"observation_end='2022-09-30'.*cutoff"):
        churn_features(validated, cutoff=day, horizon=60, summary=other_day)
    with pytest.raises(ValueError, match="time_unit='W'"):
        churn_features(validated, cutoff=day, horizon=60, summary=weekly)
    stranger = summary.rename(index={summary.index[0]: "nobody"})
    with pytest.raises(ValueError, match="1 customers that are not in the transactions"):
        churn_features(validated, cutoff=day, horizon=60, summary=stranger)
    with pytest.raises(ValueError, match="lacks the columns"):
        churn_features(
            validated, cutoff=day, horizon=60, summary=summary.drop(columns="first_purchase")
        )
    with pytest.raises(TypeError, match="summary must be a pandas DataFrame"):
        churn_features(validated, cutoff=day, horizon=60, summary=summary.to_dict())
    with pytest.raises(TypeError, match="takes a pandas DataFrame"):
        churn_features(summary.to_dict(), cutoff=day, horizon=60)
