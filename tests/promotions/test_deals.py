"""Deal sensitivity and the deal segments: hand-made cases, schema roles, planted deal types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel import TransactionSchema, validate_transactions
from custintel.datasets import make_campaign
from custintel.exceptions import SchemaError
from custintel.features import deal_sensitivity, on_promotion
from custintel.segmentation import DEAL_SEGMENTS, DealSegmenter


def _tx(**extra: list) -> pd.DataFrame:
    base = {
        "customer_id": ["a", "a", "a", "a", "b"],
        "order_id": ["1", "1", "2", "3", "4"],
        "item_id": ["X", "Y", "X", "X", "X"],
        "timestamp": pd.to_datetime(
            ["2024-01-01", "2024-01-01", "2024-02-01", "2024-03-01", "2024-01-05"]
        ),
        "amount": [40.0, 40.0, 100.0, 50.0, 30.0],
    }
    return pd.DataFrame({**base, **extra})


def test_a_deal_order_needs_one_deal_line_and_depth_weighs_by_list_value() -> None:
    table = deal_sensitivity(_tx(discount=[20.0, 0.0, 0.0, 50.0, 0.0]))
    a = table.loc["a"]
    assert (a["n_orders"], a["deal_orders"]) == (3, 2)  # order 1 has one discounted line
    assert a["deal_spend_share"] == pytest.approx((40 + 50) / 230)
    assert a["discount_depth"] == pytest.approx((20 + 50) / (60 + 100))
    assert bool(a["buys_off_deal"])
    assert np.isnan(table.loc["b", "discount_depth"])


def test_a_promotion_code_alone_is_enough_and_list_amount_gives_the_discount() -> None:
    flags = deal_sensitivity(_tx(promotion=["XMAS", "XMAS", None, "", "no"]))
    assert flags.loc["a", "deal_orders"] == 1 and flags.loc["b", "deal_orders"] == 0
    assert np.isnan(flags["discount_depth"]).all()
    listed = deal_sensitivity(_tx(list_amount=[60.0, 40.0, 100.0, 100.0, 30.0]))
    by_discount = deal_sensitivity(_tx(discount=[20.0, 0.0, 0.0, 50.0, 0.0]))
    pd.testing.assert_frame_equal(listed, by_discount)


def test_a_customer_who_only_buys_on_deals_never_buys_off_them() -> None:
    table = deal_sensitivity(_tx(promotion=["P", "P", "P", "P", ""]))
    assert not table.loc["a", "buys_off_deal"] and table.loc["a", "deal_order_share"] == 1


def test_on_promotion_reads_flags_numbers_and_codes() -> None:
    assert on_promotion(pd.Series([True, False, None], dtype="boolean")).tolist() == [
        True,
        False,
        False,
    ]
    assert on_promotion(np.array([0.0, 2.0, np.nan])).tolist() == [False, True, False]
    assert on_promotion(["FALSE", " None ", "BOGOF", "0"]).tolist() == [False, False, True, False]


def test_without_a_deal_column_the_error_says_what_to_map() -> None:
    with pytest.raises(SchemaError, match="promotion='<flag or campaign column>'"):
        deal_sensitivity(_tx())


def test_discount_and_list_amount_together_are_refused() -> None:
    with pytest.raises(SchemaError, match="map only one"):
        validate_transactions(_tx(discount=[0.0] * 5, list_amount=[1.0] * 5))


def test_a_missing_discount_is_an_error_that_names_the_column() -> None:
    tx = _tx(rebate=[1.0, np.nan, 0.0, 0.0, 0.0])
    with pytest.raises(SchemaError, match="rebate"):
        deal_sensitivity(tx, TransactionSchema(discount="rebate"))


def test_a_partly_returned_line_gives_back_its_share_of_the_discount() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "item_id": ["X", "X"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03"]),
            "quantity": [4, -1],
            "amount": [80.0, -20.0],
            "discount": [20.0, -5.0],
        }
    )
    frame = validate_transactions(tx, refunds="match")
    assert frame["amount"].tolist() == [60.0] and frame["discount"].tolist() == [15.0]
    assert deal_sensitivity(tx, refunds="match").loc["a", "discount_depth"] == 0.2


def test_the_caller_frame_is_not_changed() -> None:
    tx = _tx(list_amount=[60.0, 40.0, 100.0, 100.0, 30.0])
    before = tx.copy()
    deal_sensitivity(tx)
    pd.testing.assert_frame_equal(tx, before)


@pytest.mark.slow
def test_deal_segments_recover_the_planted_deal_types() -> None:
    sim = make_campaign(3000, random_state=2)
    before = sim.transactions.loc[sim.transactions["timestamp"] < sim.contact_date]
    table = deal_sensitivity(before)
    segments = DealSegmenter().fit_transform(table)["deal_segment"]
    truth = sim.customers["deal_type"].reindex(segments.index)
    assert list(segments.cat.categories) == list(DEAL_SEGMENTS)
    # Customers with a few orders are told apart well; one-order customers cannot be.
    several = table["n_orders"] >= 4
    agreement = (segments[several].astype(str) == truth[several]).mean()
    assert agreement > 0.8, agreement
    # The deal-driven segment is mostly planted deal-driven customers.
    driven = segments == "deal-driven"
    assert (truth[driven & several] == "deal-driven").mean() > 0.8


def test_deal_segmenter_checks_its_thresholds() -> None:
    with pytest.raises(ValueError, match="must not exceed"):
        DealSegmenter(driven=0.3, responsive=0.5).fit(pd.DataFrame({"deal_order_share": [0.1]}))
    with pytest.raises(ValueError, match="share in"):
        DealSegmenter(driven=1.5).fit(pd.DataFrame({"deal_order_share": [0.1]}))
