"""The purchase occasions under the cohort metrics: one row per (customer, day) with a purchase."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel.datasets import make_transactions
from custintel.features._cohorts import _purchases, active_periods


@pytest.mark.parametrize("seed", [0, 1])
def test_occasions_are_the_distinct_purchase_days(seed: int) -> None:
    tx = make_transactions(150, random_state=seed).transactions
    tx = pd.concat([tx, tx.sample(40, random_state=seed)], ignore_index=True)  # same-day repeats
    tx.loc[tx.sample(30, random_state=seed + 1).index, "amount"] *= -1  # a few refunds
    got, _ = _purchases(tx, None, "net", "keep")
    # the definition: distinct (customer, day) among lines with amount >= 0
    kept = tx.loc[tx["amount"] >= 0]
    day = kept["timestamp"].to_numpy().astype("datetime64[D]").astype(np.int64)
    want = (
        pd.DataFrame({"customer_id": kept["customer_id"].to_numpy(), "day": day})
        .drop_duplicates()
        .sort_values(["customer_id", "day"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # the row order of the input does not matter
    shuffled, _ = _purchases(tx.sample(frac=1.0, random_state=3), None, "net", "keep")
    pd.testing.assert_frame_equal(shuffled, got)
    periods, _ = active_periods(tx, duplicates="keep")
    assert not periods.duplicated(["customer_id", "period"]).any()
