"""Line-level cleaning in validate_transactions: returns matched to purchases, guest lines,
excluded items, zero prices, and the DataQuality ledger that counts every line.

Each small case works out its expected numbers in a comment. The last part runs on the
real UCI Online Retail file (541,909 lines), read once per module.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custintel import DataQuality as TopLevelDataQuality
from custintel.exceptions import SchemaError
from custintel.schema import (
    DataQuality,
    TransactionSchema,
    validate_transactions,
    validated_transactions,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ONLINE_RETAIL = DATA / "online_retail.csv.gz"

#: Every DataQuality count of lines that leaves the log (for the ledger identity).
_LEFT_OUT = (
    "missing_id_lines",
    "excluded_item_lines",
    "nonpositive_price_lines",
    "late_lines",
    "returns_matched_lines",
    "purchases_cancelled_lines",
)


def lines(*rows: tuple[object, ...]) -> pd.DataFrame:
    """(customer, day of January 2024 or timestamp text, item, quantity, unit price) rows."""
    frame = pd.DataFrame(
        rows, columns=["customer_id", "timestamp", "item_id", "quantity", "unit_price"]
    )
    frame["timestamp"] = [
        t if isinstance(t, str) else f"2024-01-{int(t):02d}" for t in frame["timestamp"]
    ]
    return frame


def clean(frame: pd.DataFrame, **kwargs: object) -> tuple[pd.DataFrame, DataQuality]:
    validated = validated_transactions(frame, **kwargs)  # type: ignore[arg-type]
    return validated.frame, validated.quality


def left_out(quality: DataQuality) -> int:
    """Lines the ledger says were left out, by policy."""
    total = sum(getattr(quality, name) for name in _LEFT_OUT)
    if quality.unmatched_policy == "drop":
        total += quality.returns_unmatched_lines
    if quality.duplicates_policy == "drop":
        total += quality.duplicate_lines
    return total


def assert_ledger_adds_up(quality: DataQuality, out: pd.DataFrame) -> None:
    assert quality.lines_kept == len(out)
    assert quality.lines_read == quality.lines_kept + left_out(quality)
    assert quality.revenue_kept == pytest.approx(out["amount"].sum())


# --- returns matched to purchases -------------------------------------------------------------


def test_full_cancellation_removes_the_purchase() -> None:
    # c1 buys 2 mugs at 4.50 (9.00) and 1 tea at 3.00 on Jan 5; cancels the 2 mugs on Jan 9.
    # The mug line and its cancellation both go; only the tea line (3.00) is left.
    frame = lines(("c1", 5, "mug", 2, 4.5), ("c1", 5, "tea", 1, 3.0), ("c1", 9, "mug", -2, 4.5))
    out, quality = clean(frame)
    assert out[["item_id", "quantity", "amount"]].values.tolist() == [["tea", 1, 3.0]]
    assert quality.refunds_policy == "match"  # "auto" with an item column
    assert (quality.returns_matched_lines, quality.returns_matched_amount) == (1, 9.0)
    assert (quality.purchases_cancelled_lines, quality.purchases_reduced_lines) == (1, 0)
    assert quality.returns_unmatched_lines == 0
    assert quality.revenue_kept == 3.0
    assert_ledger_adds_up(quality, out)


def test_partial_return_reduces_quantity_and_amount() -> None:
    # 5 units at 2.00 (10.00), 2 returned at 2.00 (4.00): the purchase keeps 3 units, 6.00.
    frame = lines(("c1", 2, "pen", 5, 2.0), ("c1", 4, "pen", -2, 2.0))
    out, quality = clean(frame)
    assert out[["quantity", "amount"]].values.tolist() == [[3, 6.0]]
    assert out["quantity"].dtype == np.int64  # integer quantities stay integers
    assert (quality.purchases_cancelled_lines, quality.purchases_reduced_lines) == (0, 1)
    assert (quality.returns_matched_lines, quality.returns_matched_amount) == (1, 4.0)
    assert_ledger_adds_up(quality, out)


def test_partial_return_at_a_higher_price_never_goes_below_zero() -> None:
    # 3 units at 1.00 (3.00); 2 returned at a price of 2.00 (4.00): 1 unit left, amount
    # 3.00 - 4.00 = -1.00, floored at 0.
    frame = lines(("c1", 2, "pen", 3, 1.0), ("c1", 4, "pen", -2, 2.0))
    out, _ = clean(frame)
    assert out[["quantity", "amount"]].values.tolist() == [[1, 0.0]]


def test_return_larger_than_any_single_purchase_is_unmatched() -> None:
    # Two purchases of 2 mugs; a return of 3 fits neither alone, so nothing is paired.
    # Under unmatched_refunds="net" it stays as a refund of -3 x 4.50 = -13.50:
    # revenue 9.00 + 9.00 - 13.50 = 4.50.
    frame = lines(("c1", 1, "mug", 2, 4.5), ("c1", 2, "mug", 2, 4.5), ("c1", 3, "mug", -3, 4.5))
    out, quality = clean(frame)
    assert len(out) == 3
    assert quality.returns_matched_lines == 0
    assert (quality.returns_unmatched_lines, quality.returns_unmatched_amount) == (1, 13.5)
    assert quality.unmatched_policy == "net"
    assert quality.revenue_kept == pytest.approx(4.5)
    assert_ledger_adds_up(quality, out)

    out, quality = clean(frame, unmatched_refunds="drop")
    assert out["quantity"].tolist() == [2, 2]
    assert quality.unmatched_policy == "drop"
    assert_ledger_adds_up(quality, out)

    with pytest.raises(SchemaError, match="match no earlier purchase") as err:
        clean(frame, unmatched_refunds="raise")
    # the amount is shown as written (quantity and unit price), never as a float product
    assert "quantity=-3, unit_price=4.5" in str(err.value)
    assert "row 2" in str(err.value)


def test_return_before_any_purchase_is_unmatched() -> None:
    # The return (Jan 1) comes before the only purchase (Jan 2): bought before the data starts.
    frame = lines(("c1", 1, "mug", -1, 4.5), ("c1", 2, "mug", 1, 4.5))
    out, quality = clean(frame)
    assert out["quantity"].tolist() == [-1, 1]
    assert (quality.returns_unmatched_lines, quality.returns_matched_lines) == (1, 0)


def test_return_goes_to_the_earliest_purchase_with_enough_left() -> None:
    # Purchases of 1 (Jan 1), 5 (Jan 2) and 5 (Jan 3); a return of 2 on Jan 4 skips the
    # Jan 1 line (only 1 left) and reduces the Jan 2 line to 3. A second return of 3 on
    # Jan 5 takes the rest of the Jan 2 line, which is then cancelled in full.
    frame = lines(
        ("c1", 1, "cup", 1, 1.0),
        ("c1", 2, "cup", 5, 1.0),
        ("c1", 3, "cup", 5, 1.0),
        ("c1", 4, "cup", -2, 1.0),
        ("c1", 5, "cup", -3, 1.0),
    )
    out, quality = clean(frame)
    assert out["timestamp"].dt.day.tolist() == [1, 3]
    assert out["quantity"].tolist() == [1, 5]
    assert quality.returns_matched_lines == 2
    # the Jan 2 line was reduced, then emptied: it counts once, as cancelled
    assert (quality.purchases_cancelled_lines, quality.purchases_reduced_lines) == (1, 0)
    assert_ledger_adds_up(quality, out)


def test_two_equal_purchases_the_earliest_is_cancelled() -> None:
    frame = lines(("c1", 1, "cup", 4, 1.0), ("c1", 2, "cup", 4, 1.0), ("c1", 3, "cup", -4, 1.0))
    out, _ = clean(frame)
    assert out["timestamp"].dt.day.tolist() == [2]


def test_cancellation_at_the_same_timestamp_matches() -> None:
    # "at or before the return's time": a purchase and its cancellation in the same minute.
    frame = lines(
        ("c1", "2024-01-05 10:00", "mug", 2, 4.5),
        ("c1", "2024-01-05 10:00", "mug", -2, 4.5),
        ("c1", "2024-01-06 10:00", "tea", 1, 3.0),
    )
    out, quality = clean(frame)
    assert out["item_id"].tolist() == ["tea"]
    assert quality.purchases_cancelled_lines == 1


def test_returns_only_match_the_same_customer_and_item() -> None:
    # c2's return of a mug cannot cancel c1's mug, nor c2's own tea.
    frame = lines(("c1", 1, "mug", 2, 4.5), ("c2", 1, "tea", 2, 4.5), ("c2", 2, "mug", -2, 4.5))
    out, quality = clean(frame)
    assert len(out) == 3
    assert quality.returns_unmatched_lines == 1


def test_order_id_is_the_key_without_an_item_column() -> None:
    # No item column: a return pairs with a purchase of the same customer and order.
    # o1: 3 units bought, 1 returned in o1 -> 2 left at 2.00 = 4.00; the return in o2 has
    # no purchase in o2 and stays as a refund (-2.00). Revenue 4.00 - 2.00 = 2.00.
    frame = pd.DataFrame(
        {
            "customer_id": ["c1"] * 3,
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "order_id": ["o1", "o1", "o2"],
            "quantity": [3, -1, -1],
            "unit_price": [2.0, 2.0, 2.0],
        }
    )
    out, quality = clean(frame)
    assert quality.refunds_policy == "match"
    assert out[["order_id", "quantity", "amount"]].values.tolist() == [
        ["o1", 2, 4.0],
        ["o2", -1, -2.0],
    ]
    assert (quality.returns_matched_lines, quality.returns_unmatched_lines) == (1, 1)
    assert quality.revenue_kept == 2.0


def test_without_a_quantity_column_the_amount_is_the_quantity() -> None:
    # Amounts only: a refund of 4.00 reduces the earliest purchase with at least 4.00 left
    # (the 10.00 line, to 6.00; the 3.00 line is too small); a refund of 3.00 cancels... the
    # 3.00 line? No: the earliest with enough is the 3.00 line of Jan 1 (3.00 >= 3.00).
    frame = pd.DataFrame(
        {
            "customer_id": ["c1"] * 4,
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
            "item_id": ["mug"] * 4,
            "amount": [3.0, 10.0, -4.0, -3.0],
        }
    )
    out, quality = clean(frame)
    assert out["amount"].tolist() == [6.0]
    assert (quality.purchases_cancelled_lines, quality.purchases_reduced_lines) == (1, 1)
    assert quality.returns_matched_amount == 7.0
    assert_ledger_adds_up(quality, out)


def test_cost_of_a_partial_return_shrinks_with_its_quantity() -> None:
    # 4 units costing 8.00 in all; 1 returned: 3 units left, cost 8.00 x 3/4 = 6.00.
    frame = lines(("c1", 1, "pen", 4, 5.0), ("c1", 2, "pen", -1, 5.0))
    frame["cost"] = [8.0, 2.0]
    out, _ = clean(frame)
    assert out[["quantity", "amount", "cost"]].values.tolist() == [[3, 15.0, 6.0]]


def test_auto_without_item_or_order_columns_behaves_as_net() -> None:
    frame = pd.DataFrame(
        {"customer_id": [1, 1], "timestamp": ["2024-01-01", "2024-01-02"], "amount": [5.0, -5.0]}
    )
    auto, quality = clean(frame)
    net = validate_transactions(frame, refunds="net")
    pd.testing.assert_frame_equal(auto, net)
    assert quality.refunds_policy == "net"
    assert (quality.returns_unmatched_lines, quality.returns_unmatched_amount) == (1, 5.0)
    assert quality.returns_matched_lines == 0


def test_match_needs_an_item_or_order_column() -> None:
    frame = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "amount": [5.0]})
    with pytest.raises(SchemaError, match="neither item_id nor order_id") as err:
        validate_transactions(frame, refunds="match")
    assert err.value.reason == "refunds_match_needs_key"


@pytest.mark.parametrize(("refunds", "kept"), [("net", 2), ("drop", 1)])
def test_net_and_drop_ignore_items(refunds: str, kept: int) -> None:
    frame = lines(("c1", 1, "mug", 2, 4.5), ("c1", 2, "mug", -2, 4.5))
    out, quality = clean(frame, refunds=refunds)
    assert len(out) == kept
    assert quality.returns_matched_lines == 0
    assert (quality.returns_unmatched_lines, quality.unmatched_policy) == (1, refunds)
    assert_ledger_adds_up(quality, out)


# --- amounts from quantity x unit price ---------------------------------------------------------


def test_amount_is_quantity_times_unit_price() -> None:
    frame = lines(("c1", 1, "mug", 3, 0.1), ("c1", 2, "tea", 1, 2.5))
    out = validate_transactions(frame)
    assert list(out.columns[:3]) == ["customer_id", "timestamp", "amount"]
    assert out["amount"].tolist() == [3 * 0.1, 2.5]  # the exact float product, not rounded


def test_mapped_line_columns_and_item_names_are_carried() -> None:
    raw = pd.DataFrame(
        {
            "CustomerID": ["12346"],
            "InvoiceDate": ["12/13/2010 8:26"],
            "StockCode": ["85123A"],
            "Description": ["WHITE HANGING HEART T-LIGHT HOLDER"],
            "Quantity": [6],
            "UnitPrice": [2.55],
        }
    )
    schema = TransactionSchema(
        customer_id="CustomerID",
        timestamp="InvoiceDate",
        item_id="StockCode",
        item_name="Description",
        quantity="Quantity",
        unit_price="UnitPrice",
    )
    out = validate_transactions(raw, schema)
    assert out.loc[0, "item_name"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert out.loc[0, "amount"] == 6 * 2.55


@pytest.mark.parametrize("mapped", [{"quantity": "qty"}, {"unit_price": "price"}])
def test_without_amount_both_quantity_and_unit_price_are_needed(mapped: dict[str, str]) -> None:
    frame = pd.DataFrame(
        {"customer_id": [1], "timestamp": ["2024-01-01"], "qty": [1], "price": [2.0]}
    )
    with pytest.raises(SchemaError, match="map both quantity and unit_price") as err:
        validate_transactions(frame, TransactionSchema(**mapped))
    assert err.value.reason == "missing_column"
    missing = "unit_price" if "quantity" in mapped else "quantity"
    assert f"still to map: {missing}=..." in str(err.value)


def test_messages_show_amounts_as_written() -> None:
    # -2 x 9.9 is -19.799999999999997 in floating point; the message shows the cells.
    frame = lines(("c1", 1, "mug", -2, 9.9))
    with pytest.raises(SchemaError) as err:
        validate_transactions(frame, refunds="raise")
    assert "quantity=-2, unit_price=9.9" in str(err.value)
    assert "19.79999" not in str(err.value)

    as_read = pd.DataFrame(
        {"customer_id": ["c1"], "timestamp": ["2024-01-01"], "amount": ["-19.80"]}
    )
    with pytest.raises(SchemaError, match=re.escape("row 0: '-19.80'")):
        validate_transactions(as_read, refunds="raise")


# --- guest lines, excluded items, zero prices --------------------------------------------


def guest_frame() -> pd.DataFrame:
    return lines(
        ("c1", 1, "mug", 1, 4.0),
        (None, 1, "mug", 2, 4.0),
        ("  ", 2, "tea", 1, 3.0),
        ("c2", 2, "tea", 1, 3.0),
    )


def test_missing_ids_raise_is_the_default() -> None:
    with pytest.raises(SchemaError, match="missing_ids='drop'") as err:
        validate_transactions(guest_frame())
    assert err.value.reasons == ("null_customer_id",)


def test_missing_ids_drop_counts_guest_lines() -> None:
    # Two guest lines (None and blank): 2 x 4.00 + 1 x 3.00 = 11.00 left out.
    out, quality = clean(guest_frame(), missing_ids="drop")
    assert out["customer_id"].tolist() == ["c1", "c2"]
    assert (quality.missing_id_lines, quality.missing_id_amount) == (2, 11.0)
    assert quality.missing_ids_policy == "drop"
    assert_ledger_adds_up(quality, out)


def test_problems_only_on_guest_lines_do_not_stop_validation() -> None:
    # An export's totals line: no customer, no date, no price. It is a guest line, so it goes.
    frame = guest_frame()
    frame.loc[len(frame)] = [None, None, None, 99, None]
    out, quality = clean(frame, missing_ids="drop")
    assert len(out) == 2
    assert quality.missing_id_lines == 3
    # the same problem on a customer's line is still an error
    frame.loc[len(frame)] = ["c3", None, "mug", 1, 2.0]
    with pytest.raises(SchemaError, match="have no timestamp"):
        clean(frame, missing_ids="drop")


def test_only_guest_lines_is_an_error() -> None:
    frame = guest_frame().iloc[[1, 2]]
    with pytest.raises(SchemaError, match="none of the 2 lines has a customer id"):
        validate_transactions(frame, missing_ids="drop")


@pytest.mark.parametrize(
    "exclude",
    [["POST", "M"], ("POST", "M"), "POST|M", r"[A-Z]+"],
    ids=["list", "tuple", "alt", "re"],
)
def test_excluded_items(exclude: object) -> None:
    # POST twice (10.00 + 10.00) and M once (-5.00, a manual credit): 3 lines, net 15.00.
    # "MUG" would match [A-Z]+ too, so that pattern also takes the mug (4.00).
    frame = lines(
        ("c1", 1, "POST", 1, 10.0),
        ("c1", 1, "mug", 1, 4.0),
        ("c2", 2, "POST", 1, 10.0),
        ("c2", 2, "M", -1, 5.0),
        ("c2", 2, "22423", 2, 12.75),
    )
    if exclude == r"[A-Z]+":
        frame.loc[1, "item_id"] = "MUG"
    out, quality = clean(frame, exclude_items=exclude)
    expected_codes = ("POST", "M", "MUG") if exclude == r"[A-Z]+" else ("POST", "M")
    assert set(quality.excluded_item_codes) == set(expected_codes)
    assert quality.excluded_item_codes[0] == "POST"  # most lines first
    extra = 1 if exclude == r"[A-Z]+" else 0
    assert quality.excluded_item_lines == 3 + extra
    assert quality.excluded_item_amount == 15.0 + 4.0 * extra
    assert "22423" in out["item_id"].tolist()
    assert not out["item_id"].isin(expected_codes).any()
    assert_ledger_adds_up(quality, out)


def test_excluded_items_compare_as_text_and_match_whole_ids() -> None:
    frame = lines(("c1", 1, 22423, 1, 1.0), ("c1", 1, 122423, 1, 1.0))
    out, _ = clean(frame, exclude_items=[22423])
    assert out["item_id"].tolist() == [122423]
    out, _ = clean(frame, exclude_items="22423")  # a pattern matches the whole id only
    assert out["item_id"].tolist() == [122423]


def test_exclusions_need_an_item_column() -> None:
    frame = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "amount": [1.0]})
    with pytest.raises(SchemaError, match="needs the item id column") as err:
        validate_transactions(frame, exclude_items=["POST"])
    assert err.value.reason == "exclude_items_needs_item_id"


def test_lines_with_zero_or_negative_unit_price_are_left_out() -> None:
    frame = lines(
        ("c1", 1, "mug", 1, 4.0),
        ("c1", 1, "sample", 5, 0.0),
        ("c1", 2, "B", 1, -11062.06),  # "adjust bad debt"
    )
    out, quality = clean(frame)
    assert out["item_id"].tolist() == ["mug"]
    assert quality.nonpositive_price_lines == 2
    assert_ledger_adds_up(quality, out)


# --- policies, messages, the caller's frame -------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"refunds": "pair"}, "refunds must be 'auto', 'match', 'net', 'drop' or 'raise'"),
        ({"unmatched_refunds": "keep"}, "unmatched_refunds must be 'net', 'drop' or 'raise'"),
        ({"missing_ids": "fill"}, "missing_ids must be 'raise' or 'drop'"),
        ({"exclude_items": "POST("}, "not a valid regular expression"),
        ({"exclude_items": 42}, "exclude_items must be None, a regular expression"),
    ],
)
def test_bad_policies_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_transactions(lines(("c1", 1, "mug", 1, 4.0)), **kwargs)  # type: ignore[arg-type]


def test_messages_say_line_when_the_index_holds_line_numbers() -> None:
    frame = guest_frame()
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="line")  # header is line 1
    with pytest.raises(SchemaError) as err:
        validate_transactions(frame)
    assert "line 3: (empty)" in str(err.value)
    assert "1 of 4 lines have no customer id" in str(err.value)
    frame.index.name = None
    with pytest.raises(SchemaError, match="row 3: \\(empty\\)"):
        validate_transactions(frame)


def test_duplicate_message_names_lines() -> None:
    frame = lines(("c1", 1, "mug", 1, 4.0), ("c1", 1, "mug", 1, 4.0))
    frame.index = pd.RangeIndex(2, 4, name="line")
    with pytest.raises(SchemaError, match=r"\(lines 3\)"):
        validate_transactions(frame, duplicates="raise")
    out, quality = clean(frame, duplicates="drop")
    assert (len(out), quality.duplicate_lines, quality.duplicates_policy) == (1, 1, "drop")
    assert_ledger_adds_up(quality, out)


def test_the_callers_frame_is_not_changed() -> None:
    frame = lines(
        ("c1", 2, "pen", 5, 2.0),
        ("c1", 4, "pen", -2, 2.0),
        (None, 4, "pen", 1, 2.0),
        ("c1", 5, "POST", 1, 2.0),
    )
    before = frame.copy(deep=True)
    out, _ = clean(frame, missing_ids="drop", exclude_items=["POST"])
    pd.testing.assert_frame_equal(frame, before)
    assert out["quantity"].tolist() == [3]


def test_ledger_adds_up_when_every_policy_takes_lines() -> None:
    # 9 lines: 1 guest, 1 excluded, 1 zero price, 1 after the end, a cancelled pair (2),
    # 1 unmatched return (dropped), 1 duplicate (dropped) -> 1 line kept.
    frame = lines(
        ("c1", 1, "mug", 2, 4.0),
        ("c1", 2, "mug", -2, 4.0),
        (None, 2, "mug", 1, 4.0),
        ("c1", 3, "POST", 1, 5.0),
        ("c1", 3, "free", 1, 0.0),
        ("c1", 31, "tea", 1, 3.0),
        ("c1", 4, "tea", -1, 3.0),
        ("c2", 4, "tea", 1, 3.0),
        ("c2", 4, "tea", 1, 3.0),
    )
    with pytest.warns(Warning, match="after observation_end"):
        out, quality = clean(
            frame,
            missing_ids="drop",
            exclude_items="POST",
            observation_end="2024-01-30",
            unmatched_refunds="drop",
            duplicates="drop",
        )
    assert len(out) == 1
    counts = {name: getattr(quality, name) for name in _LEFT_OUT}
    assert counts == {
        "missing_id_lines": 1,
        "excluded_item_lines": 1,
        "nonpositive_price_lines": 1,
        "late_lines": 1,
        "returns_matched_lines": 1,
        "purchases_cancelled_lines": 1,
    }
    assert (quality.returns_unmatched_lines, quality.duplicate_lines) == (1, 1)
    assert quality.lines_read == 9
    assert_ledger_adds_up(quality, out)
    assert quality.lines_left_out() == 8
    frame_view = quality.to_frame()
    assert list(frame_view.columns) == ["check", "lines", "amount", "share_of_lines", "action"]
    assert frame_view["lines"].sum() == 8  # each line counted once
    assert frame_view["share_of_lines"].iloc[0] == pytest.approx(1 / 9)
    notes = quality.notes()
    assert len(notes) == 7  # one per check that found something (cancelled within matched)
    assert all(note.endswith(".") for note in notes)


def test_data_quality_is_exported_and_frozen() -> None:
    assert TopLevelDataQuality is DataQuality
    quality = DataQuality(lines_read=3, lines_kept=3)
    with pytest.raises(AttributeError):
        quality.lines_kept = 2  # type: ignore[misc]
    assert quality.notes() == []
    assert (quality.to_frame()["lines"] == 0).all()


def test_dates_of_the_kept_lines() -> None:
    frame = lines(("c1", 3, "mug", 1, 4.0), ("c1", 9, "mug", 1, 4.0), (None, 20, "mug", 1, 4.0))
    _, quality = clean(frame, missing_ids="drop")
    assert quality.first_date == pd.Timestamp("2024-01-03")
    assert quality.last_date == pd.Timestamp("2024-01-09")


# --- the real Online Retail file ----------------------------------------------------------------

RETAIL_SCHEMA = TransactionSchema(
    customer_id="CustomerID",
    timestamp="InvoiceDate",
    order_id="InvoiceNo",
    item_id="StockCode",
    item_name="Description",
    quantity="Quantity",
    unit_price="UnitPrice",
)


@pytest.fixture(scope="module")
def retail() -> pd.DataFrame:
    """The Online Retail lines, indexed by file line (header = line 1)."""
    if not ONLINE_RETAIL.exists():
        if os.environ.get("CI") == "true":
            raise FileNotFoundError(f"{ONLINE_RETAIL} is missing, but CI must have the shared data")
        pytest.skip(f"shared data absent ({ONLINE_RETAIL}); it is present in CI")
    frame = pd.read_csv(
        ONLINE_RETAIL, dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str}
    )
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="line")
    return frame


@pytest.fixture(scope="module")
def retail_clean(retail: pd.DataFrame) -> tuple[pd.DataFrame, DataQuality]:
    with pytest.warns(Warning, match="exact duplicates"):
        validated = validated_transactions(retail, RETAIL_SCHEMA, missing_ids="drop")
    return validated.frame, validated.quality


def _lines_of(out: pd.DataFrame, customer: str, order: str, item: str) -> pd.DataFrame:
    pick = (out["customer_id"] == customer) & (out["order_id"] == order) & (out["item_id"] == item)
    return out[pick]


@pytest.mark.slow
def test_retail_guest_lines_raise_by_default(retail: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="135,080 of 541,909 lines have no customer id") as err:
        validate_transactions(retail, RETAIL_SCHEMA)
    assert "line 624" in str(err.value)  # the first guest line of the file


@pytest.mark.slow
def test_retail_full_cancellation(retail_clean: tuple[pd.DataFrame, DataQuality]) -> None:
    # Line 8775: customer 15880 buys 24 x 35953 on invoice 537144 (12/5/2010 13:00);
    # line 8954: C537157 cancels the 24 nine minutes later. Both go.
    out, _ = retail_clean
    assert _lines_of(out, "15880", "537144", "35953").empty
    assert _lines_of(out, "15880", "C537157", "35953").empty


@pytest.mark.slow
def test_retail_partial_return(retail_clean: tuple[pd.DataFrame, DataQuality]) -> None:
    # Line 886: customer 17897 buys 8 x 22960 at 4.25 on 536488 (12/1/2010 12:31); line 941:
    # C536506 returns 6 at 4.25 at 12:38. The purchase keeps 2 units: 34.00 - 25.50 = 8.50.
    out, _ = retail_clean
    kept = _lines_of(out, "17897", "536488", "22960")
    assert kept[["quantity", "amount"]].values.tolist() == [[2, pytest.approx(8.5)]]
    assert _lines_of(out, "17897", "C536506", "22960").empty


@pytest.mark.slow
def test_retail_unmatched_return(retail_clean: tuple[pd.DataFrame, DataQuality]) -> None:
    # Line 237: C536391 (12/1/2010 10:24) returns 12 x 22556 that customer 17548 never bought
    # in the file: it stays as a refund of -12 x 1.65.
    out, _ = retail_clean
    kept = _lines_of(out, "17548", "C536391", "22556")
    assert kept["amount"].tolist() == [pytest.approx(-19.8)]


@pytest.mark.slow
def test_retail_ledger(retail_clean: tuple[pd.DataFrame, DataQuality]) -> None:
    out, quality = retail_clean
    assert quality.lines_read == 541_909
    assert quality.missing_id_lines == 135_080
    assert quality.nonpositive_price_lines == 40  # the other zero prices are guest lines
    # Every return line with a customer id (8,905, all on C invoices) is matched or not.
    assert quality.returns_matched_lines + quality.returns_unmatched_lines == 8_905
    assert quality.returns_matched_lines == 7_471
    assert quality.purchases_cancelled_lines == 2_683
    assert quality.purchases_reduced_lines == 4_193
    assert quality.returns_unmatched_lines == 1_434
    assert quality.returns_matched_amount == pytest.approx(467_407.52)
    assert quality.returns_unmatched_amount == pytest.approx(143_934.57)
    assert quality.duplicate_lines == 5_158
    assert quality.lines_kept == 396_635
    assert_ledger_adds_up(quality, out)
    assert quality.first_date == pd.Timestamp("2010-12-01 08:26")
    assert quality.last_date == pd.Timestamp("2011-12-09 12:50")
    assert out["quantity"].gt(0).sum() == quality.lines_kept - quality.returns_unmatched_lines


@pytest.mark.slow
def test_retail_exclusions(retail: pd.DataFrame) -> None:
    with pytest.warns(Warning, match="exact duplicates"):
        quality = validated_transactions(
            retail,
            RETAIL_SCHEMA,
            missing_ids="drop",
            exclude_items="POST|DOT|M|D|C2|CRUK|PADS|BANK CHARGES|AMAZONFEE",
        ).quality
    assert quality.excluded_item_lines == 1_920
    assert quality.excluded_item_codes[:3] == ("POST", "M", "C2")
    assert quality.lines_read == quality.lines_kept + quality.lines_left_out()
