"""The data-quality, trends, regions and action-list sections, currency, and action-list files."""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from custintel.report import (
    ACTION_COLUMNS,
    action_lists,
    render_report,
    write_action_lists,
)
from custintel.report import _format as fmt
from custintel.report._quality import quality_section, quality_table
from custintel.report._trends import (
    monthly_activity,
    partial_months,
    region_breakdown,
    regions_section,
    trends_section,
)

from . import _fixture as fx


def _text(blocks: list[str]) -> str:
    return re.sub(r"<[^>]+>", " ", " ".join(blocks))


# --- data quality ------------------------------------------------------------------------


def test_quality_section_renders_the_ledger(ci_full):
    q = ci_full.quality
    with fmt.currency("GBP"):
        section = quality_section(replace(ci_full, currency="GBP"))
    text = _text(section.blocks)
    # Lines read = kept + 120 guests + 7 excluded + 3 zero prices + 25 returns + 18 cancelled.
    assert q.lines_read == q.lines_kept + 173
    assert section.action.startswith(
        f"{q.lines_kept:,} of the {q.lines_read:,} lines read ({q.lines_kept / q.lines_read:.0%})"
    )
    share = fx.GUEST_AMOUNT / (q.revenue_kept + fx.GUEST_AMOUNT)
    assert f"120 guest lines without a customer id (£1,500, {fmt.percent(share)} of revenue)" in (
        section.action
    )
    for expected in (
        "guest lines (no customer id)",
        "codes POST, M",
        "£85.50",
        "18 purchase lines cancelled in full, 7 reduced",
        "£410",
        "returns with no matching purchase",
        "£60.00",
        "duplicate lines",
        "lines after the observation end",
        "GBP",
        fmt.date(q.first_date),
        fmt.date(q.last_date),
    ):
        assert expected in text, expected
    for sentence in q.notes():
        assert sentence.split("(")[0].strip() in text
    # The validation warnings are listed here too.
    assert ci_full.data_quality[0].split(";")[0] in text


def test_quality_table_hand_computed(ci_full):
    t = quality_table(ci_full.quality)
    assert t.loc["guest lines (no customer id)", "lines"] == 120
    assert t.loc["returns matched to a purchase", "amount"] == 410.0
    assert t.loc["price zero or negative", "share_of_lines"] == pytest.approx(
        3 / ci_full.quality.lines_read
    )
    assert np.isnan(t.loc["duplicate lines", "amount"])
    assert t.loc["guest lines (no customer id)", "action"] == "dropped"


def test_quality_without_a_ledger_says_so(ci_full):
    section = quality_section(
        replace(ci_full, quality=None, log=replace(ci_full.log, quality=None))
    )
    assert section.action.startswith("No cleaning ledger was recorded for this run")
    text = _text(section.blocks)
    assert "not available because this result was built without one" in text
    assert "lines read" not in text  # no number is made up


# --- over time ---------------------------------------------------------------------------


def test_monthly_activity_hand_computed():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c", "b"],
            "timestamp": pd.to_datetime(
                ["2024-01-31", "2024-01-02", "2024-03-01", "2024-03-05", "2024-03-30"]
            ),
            "amount": [1.0, 2.0, 4.0, 8.0, 16.0],
        }
    )
    m = monthly_activity(tx)
    assert [str(i) for i in m.index] == ["2024-01", "2024-02", "2024-03"]
    assert m["revenue"].tolist() == [3.0, 0.0, 28.0]
    assert m["active_customers"].tolist() == [2, 0, 3]
    assert m["new_customers"].tolist() == [2, 0, 1]
    assert partial_months(tx["timestamp"].min(), pd.Timestamp("2024-03-31")) == (
        pd.Period("2024-01", "M"),
    )


def test_trends_section_reads_the_last_full_month(ci_full):
    section = trends_section(ci_full)
    m = monthly_activity(ci_full.log.frame)
    # The observation end (2024-12-30) is not a month end: December is partial.
    last = m.loc[pd.Period("2024-11", "M")]
    assert section.action.startswith(
        f"The last full month, 2024-11, brought {fmt.money(last['revenue'])} from "
        f"{int(last['active_customers'])} customers"
    )
    assert "on 2023-11" in section.action
    text = " ".join(section.blocks)
    assert text.count("<img") == 2 and "Cohort retention" in text
    # December 2024 is partial: left out of the cohorts rather than read as a drop.
    assert "the last month, only partly observed, is left out" in text


def test_trends_without_transactions_say_why(ci_full):
    empty = replace(ci_full, log=replace(ci_full.log, frame=ci_full.log.frame.iloc[:0]))
    section = trends_section(empty)
    assert "not available because the result holds no transactions" in _text(section.blocks)


# --- regions -----------------------------------------------------------------------------


def test_region_breakdown_pools_the_rest():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "d", "e"],
            "amount": [10.0, 1.0, 5.0, 2.0, 1.5, 1.0],
            "region": ["UK", "FR", "UK", "DE", "ES", None],
        }
    )
    clv = pd.Series({"a": 100.0, "b": 10.0, "c": 3.0, "d": 2.0, "e": 1.0})
    t = region_breakdown(tx, clv, top=2)
    # UK 15, DE 2, then ES 1.5 + FR 1 + (unknown) 1 = 3.5 pooled; a's main region is UK.
    assert t.index.tolist() == ["UK", "DE", "other (3 regions)"]
    assert t["revenue"].tolist() == [15.0, 2.0, 3.5]
    assert t["customers"].tolist() == [2, 1, 3]
    assert t["expected_clv"].tolist() == [110.0, 3.0, 3.0]
    assert t["revenue_share"].sum() == pytest.approx(1.0)


def _reference_breakdown(tx, clv, top):
    """The first, pandas-groupby implementation of region_breakdown (the definition)."""
    region = tx["region"].astype("string").fillna("(unknown)")
    frame = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy(),
            "region": region.to_numpy(),
            "amount": tx["amount"].to_numpy(dtype=np.float64),
        }
    )
    revenue = frame.groupby("region")["amount"].sum().sort_values(ascending=False, kind="stable")
    shown = list(revenue.index[:top])
    rest = len(revenue) - len(shown)
    other = f"other ({rest} region{'s' if rest > 1 else ''})"
    frame["group"] = frame["region"].where(frame["region"].isin(shown), other)
    grouped = frame.groupby("group")
    out = pd.DataFrame(
        {"revenue": grouped["amount"].sum(), "customers": grouped["customer_id"].nunique()}
    )
    order = shown + ([other] if rest else [])
    out = out.reindex(order)
    total = float(out["revenue"].sum())
    out.insert(1, "revenue_share", out["revenue"] / total if total else np.nan)
    out["customers"] = out["customers"].astype(np.int64)
    spend = frame.groupby(["customer_id", "group"])["amount"].sum().reset_index()
    spend = spend.sort_values(["customer_id", "amount"], ascending=[True, False], kind="stable")
    main = spend.drop_duplicates("customer_id").set_index("customer_id")["group"]
    values = pd.Series(clv, dtype="float64").reindex(main.index)
    by = values.groupby(main.to_numpy())
    out["expected_clv"] = by.sum().reindex(order)
    out["mean_clv"] = by.mean().reindex(order)
    out.index = pd.Index(order, name="region")
    return out


@pytest.mark.parametrize("seed", range(6))
def test_region_breakdown_equals_its_groupby_definition(seed):
    rng = np.random.default_rng(seed)
    n = 3_000
    regions = np.array(["UK", "FR", "DE", "ES", "NL", "BE", "IT", None], dtype=object)
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 400, n),
            # whole amounts: sums are exact, so ties (equal revenue) really happen
            "amount": rng.integers(-2, 6, n).astype(float),
            "region": regions[rng.integers(0, len(regions), n)],
        }
    )
    if seed % 2:
        tx["region"] = tx["region"].astype("category")
    clv = pd.Series(rng.gamma(2.0, 10.0, 400), index=range(400))
    clv.iloc[rng.integers(0, 400, 40)] = np.nan  # some customers without a CLV
    for top in (1, 3, 10):
        got = region_breakdown(tx, clv.iloc[: 300 + seed], top=top)
        want = _reference_breakdown(tx, clv.iloc[: 300 + seed], top)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)


def test_regions_section_and_its_absence(ci_full, ci_minimal):
    section = regions_section(ci_full)
    table = region_breakdown(ci_full.log.frame, ci_full.scores["expected_clv"])
    assert section.action.startswith(f"{table.index[0]} brings ")
    assert "<img" in " ".join(section.blocks)
    absent = regions_section(ci_minimal)
    assert "not available because the data has no region column" in _text(absent.blocks)


# --- currency ----------------------------------------------------------------------------


def test_money_is_in_the_result_currency(ci_full):
    text = render_report(replace(ci_full, currency="GBP"))
    assert "amounts in GBP" in text
    total = ci_full.scores["expected_clv"].sum()
    assert f"Customers are expected to bring £{total:,.0f} over the next 180 days" in text
    plain = render_report(ci_full)
    assert "£" not in plain
    with fmt.currency("CHF"):
        assert fmt.money(1234.0) == "1,234 CHF"
    assert fmt.money(1234.0) == "1,234"  # the block restored the default


# --- action lists ------------------------------------------------------------------------


def _small_result(ci_full):
    """Five customers whose lists are known by hand."""
    index = pd.Index(["c1", "c2", "c3", "c4", "c5"], name="customer_id")
    tiers = pd.Categorical(
        ["Platinum", "Gold", "Bronze", "Platinum", "Silver"],
        categories=["Platinum", "Gold", "Silver", "Bronze"],
        ordered=True,
    )
    scores = pd.DataFrame(
        {
            "total_amount": [900.0, 400.0, 50.0, 1200.0, 30.0],
            "rfm_segment": ["At Risk", "Can't Lose", "Lost", "Champions", "New"],
            "value_tier": tiers,
            "lifecycle_stage": ["lapsed", "at-risk", "lost", "active", "new"],
            "churn_probability": [0.8, 0.5, 0.9, 0.05, 0.2],
            "expected_clv": [12.0, 30.0, 0.5, 400.0, 25.0],
            "value_at_risk": [9.6, 15.0, 0.45, 20.0, 5.0],
            "churn_reason": [
                "no purchase for 200 days, 4× their usual gap of 50 days",
                None,
                "never bought twice",
                None,
                None,
            ],
            "recommendation_1": [None, "P7", None, "P9", None],
        },
        index=index,
    )
    summary = pd.DataFrame(
        {"days_since_last": [200, 120, 400, 3, 10], "n_orders": [9, 4, 1, 30, 1]}, index=index
    )
    return replace(
        ci_full,
        scores=scores,
        customers=replace(ci_full.customers, summary=summary),
    )


def test_action_lists_hand_computed(ci_full):
    lists = {a.key: a for a in action_lists(_small_result(ci_full))}
    assert list(lists) == [
        "call-at-risk-high-value",
        "win-back-lapsed",
        "onboard-new",
        "reward-champions",
        "cross-sell-loyal",
    ]
    call = lists["call-at-risk-high-value"].customers
    # Platinum or Gold with churn probability >= 50%: c1 (0.8) and c2 (0.5); c3 is Bronze,
    # c4 is safe. Largest expected loss first: c2 (0.5 x 30 = 15) before c1 (0.8 x 12 = 9.6).
    assert call["customer_id"].tolist() == ["c2", "c1"]
    assert call["value_at_stake"].tolist() == [15.0, 9.6]
    assert call["value_at_risk"].tolist() == [15.0, 9.6]
    assert call["value_basis"].str.startswith("expected loss: churn probability").all()
    assert call.loc[1, "reason"] == (
        "Platinum tier; 80% churn risk; no purchase for 200 days, 4× their usual gap of 50 days"
    )
    # without a reason from the model: how long they have been silent
    assert call.loc[0, "reason"] == "Gold tier; 50% churn risk; last purchase 120 days ago"
    assert call.loc[1, "action"] == "call"
    # A result scored before value at risk existed ranks the list by revenue to date.
    old = _small_result(ci_full)
    old = replace(old, scores=old.scores.drop(columns=["value_at_risk", "churn_reason"]))
    old_call = action_lists(old)[0].customers
    assert old_call["customer_id"].tolist() == ["c1", "c2"]
    assert old_call["value_at_stake"].tolist() == [900.0, 400.0]
    assert (old_call["value_basis"] == "revenue to date").all()
    assert old_call.loc[0, "reason"] == "Platinum tier; 80% churn risk; last purchase 200 days ago"
    assert "Platinum or Gold" in lists["call-at-risk-high-value"].rule
    assert "50%" in lists["call-at-risk-high-value"].rule
    assert lists["win-back-lapsed"].customers["customer_id"].tolist() == ["c1"]
    new = lists["onboard-new"].customers
    assert new["customer_id"].tolist() == ["c5"]
    assert new.loc[0, "value_at_stake"] == 25.0
    assert new.loc[0, "value_basis"] == "expected CLV over the next 180 days"
    assert new.loc[0, "reason"] == "first purchase 10 days ago; expected CLV 25.00"
    # a customer young enough for the early-life model has its forecast in the reason too
    young = _small_result(ci_full)
    young.scores["early_life_value"] = [np.nan, np.nan, np.nan, np.nan, 61.5]
    onboard = {a.key: a for a in action_lists(young)}["onboard-new"].customers
    assert onboard.loc[0, "reason"] == (
        "first purchase 10 days ago; expected CLV 25.00; early-life value 61.50"
    )
    champions = lists["reward-champions"].customers
    assert champions["customer_id"].tolist() == ["c4"]
    assert champions.loc[0, "reason"] == "30 orders; 1,200 to date; last purchase 3 days ago"
    # No Loyal customer: an empty list with every column.
    assert lists["cross-sell-loyal"].customers.empty
    assert tuple(lists["cross-sell-loyal"].customers.columns) == ACTION_COLUMNS


def test_write_action_lists_files_and_overwrite(ci_full, tmp_path):
    result = _small_result(ci_full)
    folder = tmp_path / "out" / "actions"
    mine = tmp_path / "out" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")
    paths = write_action_lists(result, folder)
    assert [p.name for p in paths] == [
        "call-at-risk-high-value.csv",
        "win-back-lapsed.csv",
        "onboard-new.csv",
        "reward-champions.csv",
        "cross-sell-loyal.csv",
    ]
    with paths[0].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(ACTION_COLUMNS)
    assert [r["customer_id"] for r in rows] == ["c2", "c1"]
    assert rows[0]["value_at_stake"] == "15.0"
    assert rows[1]["reason"].startswith("Platinum tier; 80% churn risk")
    assert rows[1]["churn_reason"].startswith("no purchase for 200 days")
    assert paths[-1].read_text(encoding="utf-8").strip() == ",".join(ACTION_COLUMNS)
    # the mode a plain write gives (a temporary file's 0600 would hide the lists from the team)
    assert {p.stat().st_mode & 0o777 for p in paths} == {mine.stat().st_mode & 0o777}
    # A second write is refused (nothing changed) unless told to overwrite.
    before = paths[0].read_bytes()
    paths[0].write_text("edited by hand")
    with pytest.raises(FileExistsError, match=r"overwrite=True .*--force"):
        write_action_lists(result, folder)
    assert paths[0].read_text() == "edited by hand"
    assert write_action_lists(result, folder, overwrite=True) == paths
    assert paths[0].read_bytes() == before
    assert mine.read_text() == "keep me"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)
    with pytest.raises(FileExistsError, match="is a file, not a folder"):
        write_action_lists(result, mine)


def test_action_lists_need_a_fitted_run():
    with pytest.raises(ValueError, match=r"call \.fit"):
        action_lists(SimpleNamespace())


def test_actions_section_names_the_first_calls(ci_full):
    text = render_report(ci_full)
    lists = action_lists(ci_full)
    first = lists[0].customers
    assert f"Call the {len(first):,} high-value customers at risk first" in text
    for a in lists:
        assert a.filename in text


def test_action_lists_built_once_inside_the_context(ci_full, monkeypatch):
    import custintel.report._actions as actions
    from custintel.report import building_action_lists_once

    result = _small_result(ci_full)
    builds = []
    real = actions._build_lists
    monkeypatch.setattr(actions, "_build_lists", lambda res: builds.append(1) or real(res))
    with building_action_lists_once():
        first = action_lists(result)
        first[0].customers.loc[0, "reason"] = "edited"  # an edit stays in the caller's copy
        again = action_lists(result)
    assert len(builds) == 1
    assert again[0].customers.loc[0, "reason"].startswith("Gold tier")
    assert [a.key for a in again] == [a.key for a in first]
    # outside the context every call builds afresh
    action_lists(result)
    action_lists(result)
    assert len(builds) == 3


def test_report_carries_value_at_risk_budget_and_survival(ci_full):
    text = render_report(ci_full)
    # the survival curves were drawn (not replaced by a "could not be computed" note)
    assert 'alt="survival curves of the customers with the largest expected loss"' in text
    assert "The survival curves is not available" not in text
    # the budget table: the top 100 by value at risk, and what 10 % / 25 % response keep
    var = ci_full.scores["value_at_risk"].astype(float)
    var = var[var > 0].sort_values(ascending=False)
    top = var.head(100).sum()
    assert "kept at 10% response" in text and "kept at 25% response" in text
    assert fmt.money(top) in text
    assert fmt.money(0.25 * top) in text
    # the first action list is ranked by expected loss and says why
    call = action_lists(ci_full)[0].customers
    assert call["value_at_stake"].is_monotonic_decreasing
    assert call["value_at_risk"].equals(call["value_at_stake"])
    if len(call):
        assert "stand to lose you" in text
        assert call["churn_reason"].notna().all()  # every one of them is at >= 50 % risk


def test_the_call_list_speaks_of_the_churn_window(ci_full):
    # A churn window shortened to 90 days (a history too short to test the 180-day
    # horizon): the rule, the basis and the headline all say 90 days, not the horizon.
    result = _small_result(ci_full)
    result = replace(result, churn=replace(result.churn, horizon=90))
    call = action_lists(result)[0]
    assert "probably no purchase in the next 90 days" in call.rule
    assert call.customers["value_basis"].str.endswith("over the next 90 days").all()
    assert "in the next 90 days. Every list" in render_report(result)


def test_a_failed_mining_run_leaves_cross_sell_out_with_the_reason(ci_full):
    from custintel.pipeline import CrossSellResult

    reason = "cross-sell skipped: mining the baskets failed (out of memory; raise min_support)"
    failed = replace(ci_full, cross_sell=CrossSellResult(None, 0.001, [reason], skipped=reason))
    text = render_report(failed)
    assert "Mining the baskets failed" in text
    assert "Cross-sell skipped: mining the baskets failed (out of memory" in text
    # The rest of the report is still there.
    assert "Customers are expected to bring" in text
