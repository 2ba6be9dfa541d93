"""ValueTierSegmenter: hand-computed pyramid, ties, playbook, CDNOW shares, bad input."""

from __future__ import annotations

import copy
import json
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import custintel as ci
from custintel.exceptions import SchemaError
from custintel.segmentation import ValueTierSegmenter, default_playbook


def _values(values, column="total_amount") -> pd.DataFrame:
    return pd.DataFrame(
        {column: values}, index=pd.Index([f"c{i}" for i in range(len(values))], name="customer_id")
    )


def test_pyramid_hand_computed() -> None:
    # Total 100. Value held by strictly richer customers: 0, 40, 70, 70, 90, 95, 100.
    # Cuts (0.5, 0.8, 0.95): 0 -> Platinum, 0.40 -> Platinum, 0.70 -> Gold (both tied 20s),
    # 0.90 -> Silver, 0.95 -> Bronze (at the cut), 1.00 -> Bronze.
    X = _values([40.0, 30.0, 10.0, 10.0, 5.0, 5.0, 0.0])
    seg = ValueTierSegmenter().fit(X)
    out = seg.transform(X)
    assert out["tier"].astype(str).tolist() == [
        "Platinum",
        "Platinum",
        "Gold",
        "Gold",
        "Silver",
        "Silver",
        "Bronze",
    ]
    assert seg.summary_["value_share"].tolist() == pytest.approx([0.7, 0.2, 0.1, 0.0])
    assert seg.summary_["customers"].tolist() == [2, 2, 2, 1]
    assert seg.thresholds_.tolist() == [30.0, 10.0, 5.0]
    assert out["tier"].cat.ordered


def test_configurable_cuts_and_margin_with_losses() -> None:
    X = _values([50.0, 30.0, 20.0, -10.0], column="total_margin")
    seg = ValueTierSegmenter(
        value="total_margin",
        cuts=(0.5,),
        tiers=("Top", "Rest"),
        playbook=pd.DataFrame({"offer": ["gift", "none"]}, index=["Top", "Rest"]),
    )
    out = seg.fit(X).treatments(X)
    # Positive total 100; shares above: 0, .5, .8, 1.0 -> Top, Rest, Rest, Rest (loss counts 0).
    assert out["tier"].astype(str).tolist() == ["Top", "Rest", "Rest", "Rest"]
    assert out["offer"].tolist() == ["gift", "none", "none", "none"]


def test_playbook_default_and_replaceable() -> None:
    X = _values([5.0, 3.0, 1.0, 1.0])
    seg = ValueTierSegmenter().fit(X)
    pd.testing.assert_frame_equal(seg.playbook_, default_playbook())
    assert "service_level" in seg.treatments(X).columns
    custom = default_playbook()
    # Total 10; value above the 1s is 8 -> share 0.8 -> Silver.
    custom.loc["Silver", "service_level"] = "chatbot"
    out = ValueTierSegmenter(playbook=custom).fit(X).treatments(X)
    assert out.loc["c3", "service_level"] == "chatbot"


def test_cdnow_pyramid(cdnow) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = ci.summarize_customers(cdnow, duplicates="keep")
    seg = ValueTierSegmenter().fit(summary)
    share = seg.summary_["customer_share"]
    # A steep pyramid: the customers making 50 % of CDNOW revenue are a small minority.
    assert share["Platinum"] < share["Gold"] < share["Bronze"]
    assert share["Platinum"] < 0.15
    # Each tier holds about the value share its cut allots (within one customer's value).
    assert seg.summary_["value_share"].iloc[:3].sum() == pytest.approx(0.95, abs=0.01)
    assert len(seg.transform(summary)) == len(summary)


def test_bad_input() -> None:
    with pytest.raises(SchemaError, match="not positive"):
        ValueTierSegmenter().fit(_values([0.0, 0.0, 0.0]))
    with pytest.raises(SchemaError, match="NaN"):
        ValueTierSegmenter().fit(_values([1.0, np.nan]))
    with pytest.raises(ValueError, match="cuts must be increasing"):
        ValueTierSegmenter(cuts=(0.8, 0.5, 0.9)).fit(_values([1.0, 2.0]))
    with pytest.raises(ValueError, match="tiers must be 4 distinct names"):
        ValueTierSegmenter(tiers=("a", "b")).fit(_values([1.0, 2.0]))
    with pytest.raises(ValueError, match="default playbook covers"):
        ValueTierSegmenter(cuts=(0.5,), tiers=("a", "b")).fit(_values([1.0, 2.0]))
    # Identical customers and a single customer: all Platinum (each holds the top of the pyramid).
    assert set(ValueTierSegmenter().fit_transform(_values([3.0] * 4))["tier"]) == {"Platinum"}
    assert ValueTierSegmenter().fit_transform(_values([3.0]))["tier"].tolist() == ["Platinum"]


def test_row_order_and_contract(tmp_path) -> None:
    rng = np.random.default_rng(1)
    X = _values(rng.integers(0, 5, 40).astype(float))
    seg = clone(ValueTierSegmenter()).set_output(transform="pandas")
    out = seg.fit_transform(X)
    shuffled = ValueTierSegmenter().fit_transform(X.sample(frac=1, random_state=2))
    pd.testing.assert_frame_equal(shuffled.loc[out.index], out)
    assert out.groupby("value", observed=True)["tier"].nunique().max() == 1
    joblib.dump(seg, tmp_path / "v.joblib")
    pd.testing.assert_frame_equal(joblib.load(tmp_path / "v.joblib").transform(X), out)


def test_default_names_read_as_value_tiers_and_can_be_renamed() -> None:
    X = _values([40.0, 30.0, 10.0, 10.0, 5.0, 5.0, 0.0])
    seg = ValueTierSegmenter().fit(X)
    assert list(seg.summary_.index) == ["Platinum", "Gold", "Silver", "Bronze"]
    assert list(seg.playbook_.index) == ["Platinum", "Gold", "Silver", "Bronze"]
    # Four custom names keep the default treatments, best tier first.
    named = ValueTierSegmenter(tiers=("A", "B", "C", "D")).fit(X)
    assert named.transform(X)["tier"].astype(str).tolist() == ["A", "A", "B", "B", "C", "C", "D"]
    assert named.playbook_.to_numpy().tolist() == default_playbook().to_numpy().tolist()
    assert named.treatments(X).loc["c6", "service_level"] == "self-service"
    with pytest.raises(ValueError, match="4 distinct tier names"):
        default_playbook(("A", "B", "C"))


# A bundle's segments.json entry as written before the tiers were renamed (Iron and Lead).
_OLD_EXPORT = {
    "model": "ValueTierSegmenter",
    "format_version": 1,
    "hyperparameters": {
        "cuts": [0.5, 0.8, 0.95],
        "playbook": None,
        "tiers": ["Platinum", "Gold", "Iron", "Lead"],
        "value": "total_amount",
    },
    "thresholds": [60.0, 25.0, 10.0],
    "total_value": 100.0,
    "summary": {
        "customers": [1, 1, 1, 2],
        "customer_share": [0.2, 0.2, 0.2, 0.4],
        "value": [60.0, 25.0, 10.0, 5.0],
        "value_share": [0.6, 0.25, 0.1, 0.05],
    },
    "playbook": {
        "index_name": "tier",
        "index": ["Platinum", "Gold", "Iron", "Lead"],
        "columns": ["service_level", "benefits", "after_sales"],
        "records": [
            {
                "service_level": "dedicated account manager",
                "benefits": "early access, free express shipping, personal offers",
                "after_sales": "proactive check-in within 7 days",
            },
            {
                "service_level": "priority support line",
                "benefits": "loyalty points x2, free shipping",
                "after_sales": "satisfaction survey and follow-up",
            },
            {
                "service_level": "standard support",
                "benefits": "loyalty points, seasonal offers",
                "after_sales": "satisfaction survey",
            },
            {
                "service_level": "self-service",
                "benefits": "automated offers that raise basket size",
                "after_sales": "none beyond standard returns",
            },
        ],
    },
    "feature_names_in": ["total_amount"],
}


def test_a_bundle_with_the_old_tier_names_still_loads() -> None:
    X = pd.DataFrame(
        {"total_amount": [60.0, 25.0, 10.0, 5.0, 0.0]},
        index=pd.Index(list("abcde"), name="customer_id"),
    )
    old = ValueTierSegmenter.from_dict(copy.deepcopy(_OLD_EXPORT))
    # It keeps the names it was saved with, and round-trips as it was written.
    assert old.transform(X)["tier"].astype(str).tolist() == [
        "Platinum",
        "Gold",
        "Iron",
        "Lead",
        "Lead",
    ]
    assert old.treatments(X).loc["e", "service_level"] == "self-service"
    assert json.loads(json.dumps(old.to_dict())) == _OLD_EXPORT
    # A new fit on the same data: the same tiers under the new names, same treatments.
    new = ValueTierSegmenter().fit(X)
    assert (
        new.transform(X)["tier"].cat.codes.tolist() == old.transform(X)["tier"].cat.codes.tolist()
    )
    assert new.to_dict()["hyperparameters"]["tiers"] == ["Platinum", "Gold", "Silver", "Bronze"]
    restored = ValueTierSegmenter.from_dict(json.loads(json.dumps(new.to_dict())))
    pd.testing.assert_frame_equal(restored.treatments(X), new.treatments(X))


def test_a_total_added_in_another_order_keeps_its_tier() -> None:
    # The customer whose total is a cut keeps the tier when the total is recomputed in
    # another order (Spark, another batch) and comes out one bit lower.

    table = pd.DataFrame(
        {"total_amount": [100.0, 60.751437, 30.0, 20.0, 5.0, 1.0]},
        index=pd.Index(list("abcdef"), name="customer_id"),
    )
    seg = ValueTierSegmenter().fit(table)
    fitted = seg.transform(table)["tier"]
    nudged = table.assign(total_amount=np.nextafter(table["total_amount"].to_numpy(), 0.0))
    assert seg.transform(nudged)["tier"].tolist() == fitted.tolist()
    # a real difference (a cent) still moves a customer at the cut down a tier
    cut = float(seg.thresholds_.iloc[0])
    below = pd.DataFrame({"total_amount": [cut - 0.01]}, index=pd.Index(["z"], name="customer_id"))
    assert seg.transform(below)["tier"].iloc[0] != fitted.iloc[0]
