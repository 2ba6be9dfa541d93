"""The early-life value of new customers in the main job: fit, notes, scores, bundles."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from custintel.datasets import make_transactions, plant_first_basket_effects
from custintel.exceptions import InvalidModelError
from custintel.pipeline import (
    CustomerIntelligence,
    EarlyLifeResult,
    early_life_step,
    load_bundle,
    validate_step,
)


def _fit(tx: pd.DataFrame, **params: object) -> CustomerIntelligence:
    params = {"horizon": 180, **params}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CustomerIntelligence(**params).fit(tx)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def new_tx() -> pd.DataFrame:
    """Three years of 1,500 customers acquired all along, first orders that say something."""
    sim = make_transactions(1500, start="2022-01-01", acquisition_days=1095, random_state=2)
    return plant_first_basket_effects(sim)


@pytest.fixture(scope="module")
def early(new_tx: pd.DataFrame) -> CustomerIntelligence:
    return _fit(new_tx)


def test_new_customers_get_an_early_life_value_and_the_job_says_why(
    early: CustomerIntelligence,
) -> None:
    scores = early.customers_
    assert scores.columns[-1] == "early_life_value"
    age = scores["T"]  # days from the first purchase to the observation end
    new = scores["early_life_value"].notna()
    assert new.sum() > 20
    assert (age[new] <= 90).all() and (age[~new] > 89).all()
    assert (scores.loc[new, "early_life_value"] > 0).all()
    result = early.early_life_
    assert result.active and result.max_age_days == 90 and result.horizon_days == 180
    assert early.early_life_horizon_ == 180 and early.result_.early_life is result
    (note,) = [n for n in early.data_quality_ if n.startswith("early_life_value:")]
    assert f"({new.sum():,} on {early.observation_end_.date()})" in note
    assert "BTYD forecast (expected_clv) knows almost nothing" in note
    assert "trained out of time" in note and "not replaced" in note
    assert "fit early-life value model" in early.timings_
    # the planted first baskets: the forecast tells new customers apart, BTYD barely can
    spread = scores.loc[new, "early_life_value"]
    assert spread.quantile(0.9) > 2 * spread.quantile(0.1)


def test_save_load_score_is_the_fitted_score_and_batch_independent(
    early: CustomerIntelligence, new_tx: pd.DataFrame, tmp_path: Path
) -> None:
    folder = early.save(tmp_path / "models")
    assert (folder / "early_life.json").is_file()
    loaded = load_bundle(folder)
    assert loaded.early_life_.active and loaded.early_life_horizon_ == 180
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scored = loaded.score(new_tx)
        pd.testing.assert_frame_equal(scored, early.customers_)
        pd.testing.assert_frame_equal(early.score(new_tx), early.customers_)
        # a few new customers and a few old ones, scored alone: the rows of the full file
        values = early.customers_["early_life_value"]
        some = [*values.dropna().index[:7], *values[values.isna()].index[:5]]
        part = loaded.score(new_tx.loc[new_tx["customer_id"].isin(some)])
    pd.testing.assert_frame_equal(part, early.customers_.loc[part.index])
    assert part["early_life_value"].notna().sum() == 7


def test_a_later_as_of_ages_customers_out_and_new_ones_in(
    early: CustomerIntelligence, new_tx: pd.DataFrame
) -> None:
    end = early.observation_end_
    later = end + pd.Timedelta(days=60)
    newcomer = new_tx.loc[new_tx["customer_id"] == new_tx["customer_id"].iloc[0]].copy()
    brand_new = new_tx["customer_id"].max() + 1
    newcomer["customer_id"] = brand_new
    orders = pd.factorize(newcomer["order_id"])[0]
    newcomer["order_id"] = (new_tx["order_id"].max() + 1 + orders).astype(new_tx["order_id"].dtype)
    newcomer["timestamp"] = (
        later - pd.Timedelta(days=3) + (newcomer["timestamp"] - newcomer["timestamp"].min())
    )
    newcomer = newcomer.loc[newcomer["timestamp"] <= later]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scored = early.score(pd.concat([new_tx, newcomer]), as_of=later)
    (row,) = np.flatnonzero(scored.index.astype(str) == str(brand_new))
    assert np.isfinite(scored["early_life_value"].iloc[row])
    assert scored.loc[scored["T"] > 90, "early_life_value"].isna().all()


def test_turned_off_there_is_no_model_and_the_column_is_empty(
    new_tx: pd.DataFrame, tmp_path: Path
) -> None:
    off = _fit(
        new_tx.loc[new_tx["customer_id"].isin(new_tx["customer_id"].unique()[:600])],
        early_life_days=None,
    )
    assert not off.early_life_.active and off.early_life_horizon_ is None
    assert off.customers_["early_life_value"].isna().all()
    assert not any("early" in n for n in off.data_quality_)
    folder = off.save(tmp_path / "off")
    assert not (folder / "early_life.json").exists()
    assert load_bundle(folder).score(new_tx.head(200))["early_life_value"].isna().all()
    with pytest.raises(ValueError, match="early_life_days must be None, 0"):
        CustomerIntelligence(early_life_days=-5).fit(new_tx)


def test_a_short_history_skips_the_model_with_a_note() -> None:
    # 700 customers acquired over the 200 days of data: fewer than 500 are older than
    # 90 days plus a 28-day label window, so no out-of-time training set exists.
    tx = make_transactions(
        700, start="2024-01-01", end="2024-07-18", acquisition_days=200, random_state=4
    ).transactions
    ci = _fit(tx, horizon=60)
    assert not ci.early_life_.active and ci.early_life_.max_age_days == 90
    (note,) = [n for n in ci.data_quality_ if n.startswith("early-life value skipped")]
    assert "early_life_value is empty (NaN)" in note
    assert ci.customers_["early_life_value"].isna().all()
    assert ci.customers_["expected_clv"].notna().all()  # the rest of the job ran


def test_the_step_on_its_own_shortens_its_horizon_to_what_the_history_allows() -> None:
    tx = make_transactions(
        1500, start="2024-01-01", end="2024-12-31", acquisition_days=365, random_state=5
    ).transactions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = validate_step(tx, horizon=365)
        result = early_life_step(log, max_age_days=30)
    assert isinstance(result, EarlyLifeResult) and result.active
    assert result.max_age_days == 30 and 28 <= result.horizon_days < 365  # type: ignore[operator]
    assert result.notes[0].startswith("early-life horizon shortened from 365 to")
    assert early_life_step(log, max_age_days=0).max_age_days is None  # 0 turns it off


def test_a_refund_only_customer_is_nobody_s_new_customer(new_tx: pd.DataFrame) -> None:
    # A return with no purchase (Online Retail has two in its last 90 days) makes no
    # customer row, so the step's count of new customers must leave it out too.
    end = new_tx["timestamp"].max()
    refund = new_tx.iloc[[0]].assign(
        customer_id=new_tx["customer_id"].max() + 1,
        order_id=new_tx["order_id"].max() + 1,
        timestamp=end,
        amount=-5.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = validate_step(pd.concat([new_tx, refund], ignore_index=True), horizon=180)
        result = early_life_step(log, max_age_days=90)
    first_day = new_tx.groupby("customer_id")["timestamp"].min().dt.floor("D")
    days = (log.observation_end.floor("D") - first_day).dt.days
    buyers = int((days <= 90).sum())
    (note,) = [n for n in result.notes if n.startswith("early_life_value:")]
    assert f"({buyers:,} on " in note


def _rewrite(folder: Path, name: str, data: object | None) -> None:
    """Replace (or with None remove) a bundle file, keeping the manifest's checksums true."""
    manifest = json.loads((folder / "manifest.json").read_text())
    if data is None:
        (folder / name).unlink()
        del manifest["files"][name]
        del manifest["params"]["early_life_days"]
    else:
        raw = json.dumps(data).encode()
        (folder / name).write_bytes(raw)
        manifest["files"][name] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_bundles_saved_before_the_early_life_value_load_and_score_nan(
    early: CustomerIntelligence, new_tx: pd.DataFrame, tmp_path: Path
) -> None:
    folder = early.save(tmp_path / "old")
    _rewrite(folder, "early_life.json", None)  # as a bundle of the previous release
    loaded = load_bundle(folder)
    assert not loaded.early_life_.active and loaded.early_life_days is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scored = loaded.score(new_tx)
    assert scored["early_life_value"].isna().all()
    pd.testing.assert_frame_equal(
        scored.drop(columns="early_life_value"),
        early.customers_.drop(columns="early_life_value"),
    )


def test_a_hostile_early_life_file_is_refused(early: CustomerIntelligence, tmp_path: Path) -> None:
    folder = early.save(tmp_path / "bad")
    original = (folder / "early_life.json").read_text()
    data = json.loads(original)
    data["model"]["booster"]["nodes"]["left"][0] = 10**9  # the root points outside its tree
    _rewrite(folder, "early_life.json", data)
    with pytest.raises(InvalidModelError, match=r"EarlyLifeValueModel export: nodes\.left"):
        load_bundle(folder)
    data = json.loads(original)
    data["max_age_days"] = "ninety"
    _rewrite(folder, "early_life.json", data)
    with pytest.raises(InvalidModelError, match="max_age_days"):
        load_bundle(folder)


def test_scoring_needs_the_columns_the_early_life_model_reads(
    early: CustomerIntelligence, new_tx: pd.DataFrame
) -> None:
    from custintel.exceptions import SchemaError

    assert "first_quantity" in early.early_life_.model.columns_used_
    with pytest.raises(SchemaError, match="'quantity'") as err:
        early.score(new_tx.drop(columns="quantity"))
    assert err.value.reason == "missing_column"


def test_chunked_file_scoring_with_a_bundle_carries_the_column(
    early: CustomerIntelligence, new_tx: pd.DataFrame, tmp_path: Path
) -> None:
    from custintel.pipeline import output_frame, score_file

    folder = early.save(tmp_path / "models")
    source = tmp_path / "tx.parquet"
    new_tx.to_parquet(source)
    out = tmp_path / "scored.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = score_file(folder, source, out, rows_per_bucket=8000, batch_size=5000)
    assert n == len(early.customers_)
    scored = pd.read_parquet(out).sort_index()
    expected = output_frame(early.customers_)
    np.testing.assert_array_equal(
        scored["early_life_value"].to_numpy(), expected["early_life_value"].to_numpy()
    )
    assert scored["early_life_value"].notna().sum() == expected["early_life_value"].notna().sum()
