"""JSON export of the segmenters: exact round trips, refusals by reason code, and a fuzz test.

``from_dict(json.loads(json.dumps(to_dict())))`` must rebuild a segmenter whose output
equals the original's exactly (values, dtypes, categories), on the fitted rows, a subset
and rows never seen in ``fit``; and a damaged export must raise ``InvalidModelError``
(never another exception, never a segmenter that then fails).
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from custintel import summarize_customers
from custintel.datasets import make_transactions
from custintel.exceptions import InvalidModelError
from custintel.segmentation import (
    LifecycleSegmenter,
    RFMSegmenter,
    ValueTierSegmenter,
    default_playbook,
    default_segment_map,
)

from .._json_fuzz import json_paths, json_values

# --- data ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """Simulated customers now and at an earlier cut-off, and customers never seen in fit."""
    tx = make_transactions(n_customers=500, random_state=11).transactions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows after the earlier cut-off are dropped, by design
        before = summarize_customers(tx, observation_end="2023-04-30")
    now = summarize_customers(tx)
    both = now.join(before.add_suffix("_prev"))
    unseen = pd.DataFrame(
        {
            "days_since_last": [0, 1, 5000, 30, 700],
            "n_orders": [1, 500, 1, 2, 40],
            "total_amount": [0.0, 1e7, -25.0, 12.5, 3000.0],
            "total_margin": [0.0, 2e6, -30.0, 1.0, 900.0],
            "tenure_days": [0, 900, 5000, 31, 730],
            "gap_mean_days": [np.nan, 1.8, np.nan, 31.0, 18.25],
        },
        index=pd.Index([10_001, 10_002, 10_003, 10_004, 10_005], name="customer_id"),
    )
    prev_unseen = unseen.add_suffix("_prev").assign(
        days_since_last_prev=[np.nan, 0, 4000, 300, 10],
        n_orders_prev=[np.nan, 400, 1, 1, 39],
        tenure_days_prev=[np.nan, 800, 4000, 0, 720],
        total_amount_prev=[np.nan, 9e6, -25.0, 5.0, 2900.0],
    )
    return {
        "now": now,
        "both": both,
        "unseen": unseen,
        "unseen_both": unseen.join(prev_unseen.drop(columns="total_margin_prev")),
    }


def _outputs(segmenter: Any, X: pd.DataFrame) -> dict[str, Any]:
    """Everything a fitted segmenter returns for X."""
    out: dict[str, Any] = {
        "transform": segmenter.transform(X),
        "names": segmenter.get_feature_names_out().tolist(),
    }
    if isinstance(segmenter, ValueTierSegmenter):
        out["treatments"] = segmenter.treatments(X)
    if isinstance(segmenter, LifecycleSegmenter):
        out["win_back"] = segmenter.win_back(X, include_lost=True)
    return out


def _assert_same_outputs(restored: Any, original: Any, X: pd.DataFrame) -> None:
    got, expected = _outputs(restored, X), _outputs(original, X)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, pd.DataFrame):
            # Exact: values, dtypes, index and categories (with their order).
            pd.testing.assert_frame_equal(got[key], value, check_exact=True)
        else:
            assert got[key] == value


def _round_trip(segmenter: Any, fit_on: pd.DataFrame, *score_on: pd.DataFrame) -> Any:
    data = segmenter.to_dict()
    text = json.dumps(data, allow_nan=False)  # the bundle writes strict JSON
    restored = type(segmenter).from_dict(json.loads(text))
    assert type(restored) is type(segmenter)
    assert restored.to_dict() == data  # nothing lost, nothing added
    assert type(segmenter).from_dict(text).to_dict() == data  # JSON text is accepted too
    for X in (fit_on, fit_on.iloc[::7], fit_on.iloc[::-3], *score_on):
        _assert_same_outputs(restored, segmenter, X)
    assert restored.n_features_in_ == segmenter.n_features_in_
    assert restored.feature_names_in_.tolist() == segmenter.feature_names_in_.tolist()
    return restored


# --- RFMSegmenter ----------------------------------------------------------------------------


def _frame_map() -> pd.DataFrame:
    grid = default_segment_map()
    grid.loc[5, 4] = "Champions"
    grid.loc[1, 5] = "Big Sleepers"  # a name outside SEGMENT_NAMES
    return grid


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"n_bins": 3},
        {"n_bins": 7, "monetary": "total_margin"},
        {"segment_map": _frame_map()},
        {
            "n_bins": 2,
            # A dict map, with a pair outside 1..n_bins that still names a category.
            "segment_map": {(1, 1): "Low", (1, 2): "Mixed", (2, 1): "Mixed", (2, 2): "High"}
            | {(9, 9): "Unused"},
        },
    ],
    ids=["default", "3 bins", "7 bins margin", "frame map", "dict map"],
)
def test_rfm_round_trip(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    X = tables["now"]
    original = RFMSegmenter(**params).fit(X.iloc[:400])
    restored = _round_trip(original, X.iloc[:400], X.iloc[400:], tables["unseen"])
    pd.testing.assert_frame_equal(restored.bin_edges_, original.bin_edges_, check_exact=True)
    assert restored.grid_ == original.grid_
    assert restored.segments_ == original.segments_
    assert restored.n_customers_ == original.n_customers_ == 400
    segment_map = restored.get_params()["segment_map"]
    if isinstance(original.segment_map, pd.DataFrame):
        pd.testing.assert_frame_equal(segment_map, original.segment_map)
    else:
        assert segment_map == original.segment_map


def test_rfm_round_trip_cdnow_ties(cdnow_calibration: pd.DataFrame) -> None:
    # 13,080 of 23,570 CDNOW customers bought once: F = 2 is never earned, yet its cut
    # point matters to transform, and bin_edges_ shows NaN for it.
    X = cdnow_calibration
    original = RFMSegmenter().fit(X)
    data = original.to_dict()
    assert data["score_earned"]["frequency"][0] is False
    assert math.isnan(original.bin_edges_.loc[2, "frequency"])
    restored = _round_trip(original, X)
    pd.testing.assert_frame_equal(restored.bin_edges_, original.bin_edges_, check_exact=True)


def test_rfm_scores_nobody_earns_are_written_as_infinity() -> None:
    # Scores that no value reaches have infinite cut points, written "inf" ("-inf" for
    # recency). Recency (days 3, 3, 3, 9): the 9 scores 1, the three 3s have 1 customer
    # below them and score 1 + 4 * 1 // 4 = 2; no one reaches 3 or 4. Monetary: all tied,
    # all score 1. Frequency (1, 1, 1, 2): the 2 scores 4, so scores 2 and 3 share its cut
    # point 2.0 but were not earned.
    X = pd.DataFrame(
        {
            "days_since_last": [3.0, 3, 3, 9],
            "n_orders": [1, 1, 1, 2],
            "total_amount": [5.0, 5, 5, 5],
        },
        index=pd.Index(list("abcd"), name="customer_id"),
    )
    original = RFMSegmenter(n_bins=4).fit(X)
    data = original.to_dict()
    assert data["cut_points"]["frequency"] == [2.0, 2.0, 2.0]
    assert data["cut_points"]["monetary"] == ["inf", "inf", "inf"]
    assert data["cut_points"]["recency"] == [3.0, "-inf", "-inf"]
    assert data["score_earned"] == {
        "recency": [True, False, False],
        "frequency": [False, False, True],
        "monetary": [False, False, False],
    }
    _round_trip(original, X, X.assign(total_amount=[1e300, -1e300, 0.0, 5.0]))
    flipped = copy.deepcopy(data)
    flipped["cut_points"]["recency"] = ["-inf"] * 3  # a valid export in which no one earns R > 1
    flipped["score_earned"]["recency"] = [False] * 3
    restored = RFMSegmenter.from_dict(flipped)
    assert (restored.transform(X)["r_score"] == 1).all()


# --- ValueTierSegmenter ----------------------------------------------------------------------


def _custom_playbook() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "owner": ["key accounts", "key accounts", "sales", None, "marketing", "nobody"],
            "discount_pct": [15, 10, 5, 0, 0, 0],
            "budget": [1000.5, 400.0, np.nan, 10.0, 0.0, -1.0],
            "call": [True, True, False, False, False, False],
        },
        # Extra row ("Spare") and tiers listed out of order: the fit keeps tier order.
        index=pd.Index(["Top", "High", "Mid", "Low", "Tail", "Spare"], name="segment"),
    ).iloc[[1, 0, 2, 5, 3, 4]]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"value": "total_margin"},
        {
            "cuts": (0.3, 0.6, 0.9, 0.99),
            "tiers": ("Top", "High", "Mid", "Low", "Tail"),
            "playbook": _custom_playbook(),
        },
        {"cuts": (), "tiers": ("Everyone",), "playbook": pd.DataFrame(index=["Everyone"])},
    ],
    ids=["default", "margin", "custom playbook", "one tier"],
)
def test_value_tier_round_trip(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    X = tables["now"]
    original = ValueTierSegmenter(**params).fit(X.iloc[:400])
    restored = _round_trip(original, X.iloc[:400], X.iloc[400:], tables["unseen"])
    pd.testing.assert_series_equal(restored.thresholds_, original.thresholds_, check_exact=True)
    pd.testing.assert_frame_equal(restored.summary_, original.summary_, check_exact=True)
    pd.testing.assert_frame_equal(restored.playbook_, original.playbook_, check_exact=True)
    assert restored.total_value_ == original.total_value_
    if original.playbook is not None:
        pd.testing.assert_frame_equal(restored.playbook, original.playbook)


# --- LifecycleSegmenter ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "table"),
    [
        ({}, "now"),
        ({}, "both"),
        (
            {
                "at_risk_after": 2,
                "lapsed_after": 4.5,
                "lost_after": math.inf,
                "fall_ratio": 0.25,
                "large_quantile": 0.5,
            },
            "both",
        ),
    ],
    ids=["current only", "with previous period", "custom, never lost"],
)
def test_lifecycle_round_trip(
    tables: dict[str, pd.DataFrame], params: dict[str, Any], table: str
) -> None:
    X = tables[table]
    unseen = tables["unseen_both" if table == "both" else "unseen"]
    original = LifecycleSegmenter(**params).fit(X.iloc[:400])
    assert original.uses_previous_ == (table == "both")
    restored = _round_trip(original, X.iloc[:400], X.iloc[400:], unseen)
    assert restored.typical_gap_ == original.typical_gap_
    assert restored.large_account_ == original.large_account_
    assert restored.get_params() == original.get_params()
    if params:
        assert original.to_dict()["hyperparameters"]["lost_after"] == "inf"
        stages = set(restored.transform(X)["stage"].astype(str))
        assert "lost" not in stages and "won back" in stages


def test_to_dict_needs_a_fitted_segmenter() -> None:
    for segmenter in (RFMSegmenter(), ValueTierSegmenter(), LifecycleSegmenter()):
        with pytest.raises(NotFittedError):
            segmenter.to_dict()


def test_value_tier_to_dict_refuses_a_playbook_without_json_form(
    tables: dict[str, pd.DataFrame],
) -> None:
    playbook = default_playbook().assign(start=pd.Timestamp("2024-01-01"))
    segmenter = ValueTierSegmenter(playbook=playbook).fit(tables["now"])
    with pytest.raises(ValueError, match=r"Timestamp.*astype\(str\)"):
        segmenter.to_dict()


# --- refusals --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exports(tables: dict[str, pd.DataFrame]) -> dict[str, tuple[type, dict[str, Any]]]:
    X = tables["both"]
    return {
        "rfm": (RFMSegmenter, RFMSegmenter(segment_map=_frame_map()).fit(X).to_dict()),
        "rfm_dict": (
            RFMSegmenter,
            RFMSegmenter(n_bins=2, segment_map={(1, 1): "a", (1, 2): "b", (2, 1): "b", (2, 2): "c"})
            .fit(X)
            .to_dict(),
        ),
        "tier": (
            ValueTierSegmenter,
            ValueTierSegmenter(
                cuts=(0.3, 0.6, 0.9, 0.99),
                tiers=("Top", "High", "Mid", "Low", "Tail"),
                playbook=_custom_playbook(),
            )
            .fit(X)
            .to_dict(),
        ),
        "lifecycle": (LifecycleSegmenter, LifecycleSegmenter().fit(X).to_dict()),
    }


FieldPath = tuple[str | int, ...]
_DELETE = object()


def _edit(data: Any, path: FieldPath, value: Any) -> Any:
    """Deep copy of ``data`` with the node at ``path`` replaced (or deleted with _DELETE)."""
    out = copy.deepcopy(data)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


_NOT_EXPORTS: list[tuple[Any, str]] = [
    ([1, 2], "got list"),
    (None, "got NoneType"),
    ("{not json", "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
    ('"just a string"', "got str"),
]


@pytest.mark.parametrize("name", ["rfm", "tier", "lifecycle"])
@pytest.mark.parametrize(("data", "match"), _NOT_EXPORTS)
def test_refuses_what_is_not_an_export(
    exports: dict[str, tuple[type, dict[str, Any]]], name: str, data: Any, match: str
) -> None:
    cls, _ = exports[name]
    with pytest.raises(InvalidModelError, match=match) as err:
        cls.from_dict(data)
    assert err.value.reason == "wrong_model"


_OTHER = {"rfm": "ValueTierSegmenter", "tier": "LifecycleSegmenter", "lifecycle": "RFMSegmenter"}

# (export, path, new value or _DELETE, reason, text the message must contain)
_CASES: list[tuple[str, FieldPath, Any, str, str]] = [
    # Envelope, the same for every segmenter.
    *[(n, ("model",), _OTHER[n], "wrong_model", f"{_OTHER[n]}.from_dict") for n in _OTHER],
    *[(n, ("model",), None, "wrong_model", "field 'model' is None") for n in _OTHER],
    *[(n, ("model",), _DELETE, "missing_field", "'model'") for n in _OTHER],
    *[(n, ("format_version",), 2, "bad_format_version", "is 2") for n in _OTHER],
    *[(n, ("format_version",), "1", "bad_format_version", "is '1'") for n in _OTHER],
    *[(n, ("format_version",), True, "bad_format_version", "is True") for n in _OTHER],
    *[(n, ("format_version",), 1.0, "bad_format_version", "is 1.0") for n in _OTHER],
    *[(n, ("format_version",), _DELETE, "missing_field", "format_version") for n in _OTHER],
    *[(n, ("hyperparameters",), _DELETE, "missing_field", "'hyperparameters'") for n in _OTHER],
    *[(n, ("feature_names_in",), _DELETE, "missing_field", "feature_names_in") for n in _OTHER],
    *[(n, ("shiny",), 1, "unknown_field", "'shiny'") for n in _OTHER],
    *[
        (n, ("hyperparameters", "shiny"), 1, "unknown_field", "hyperparameters.shiny")
        for n in _OTHER
    ],
    *[(n, ("hyperparameters",), [], "bad_parameter", "hyperparameters") for n in _OTHER],
    *[(n, ("feature_names_in", 0), 7, "bad_parameter", "feature_names_in[0]") for n in _OTHER],
    # RFMSegmenter.
    ("rfm", ("hyperparameters", "n_bins"), _DELETE, "missing_field", "hyperparameters.n_bins"),
    ("rfm", ("hyperparameters", "n_bins"), 1, "bad_parameter", "integer >= 2"),
    ("rfm", ("hyperparameters", "n_bins"), True, "bad_parameter", "n_bins' is True"),
    ("rfm", ("hyperparameters", "n_bins"), 5.0, "bad_parameter", "n_bins' is 5.0"),
    ("rfm", ("hyperparameters", "n_bins"), "5", "bad_parameter", "n_bins' is '5'"),
    ("rfm", ("hyperparameters", "n_bins"), 6, "bad_parameter", "has 4 entries; it must have 5"),
    ("rfm", ("hyperparameters", "n_bins"), 10**400, "bad_parameter", "cut_points.recency"),
    ("rfm", ("hyperparameters", "recency"), None, "bad_parameter", "a string"),
    ("rfm", ("hyperparameters", "monetary"), "avg_basket", "bad_parameter", "total_amount"),
    ("rfm", ("cut_points", "frequency", 2), -1.0, "bad_parameter", "non-decreasing"),
    ("rfm", ("cut_points", "recency", 0), 0.0, "bad_parameter", "non-increasing"),
    ("rfm", ("cut_points", "monetary", 1), math.nan, "bad_parameter", "monetary[1]' is nan"),
    ("rfm", ("cut_points", "monetary", 3), math.inf, "bad_parameter", "monetary[3]' is inf"),
    ("rfm", ("cut_points", "monetary", 3), "inf", "bad_parameter", "earned score 5"),
    ("rfm", ("cut_points", "monetary", 3), None, "bad_parameter", "monetary[3]' is None"),
    ("rfm", ("cut_points", "monetary", 3), "1.5", "bad_parameter", "'inf' for a score"),
    ("rfm", ("cut_points", "recency", 3), "inf", "bad_parameter", "'-inf' for a score"),
    ("rfm", ("cut_points", "monetary"), [1.0, 2.0], "bad_parameter", "2 entries; it must have 4"),
    ("rfm", ("cut_points", "tenure"), [1.0], "unknown_field", "cut_points.tenure"),
    ("rfm", ("score_earned", "monetary", 0), 1, "bad_parameter", "true or false"),
    ("rfm", ("score_earned", "recency"), _DELETE, "missing_field", "score_earned.recency"),
    ("rfm", ("grid", 4, 4), "Lost!", "bad_parameter", "'Champions'"),
    ("rfm", ("grid", 0), ["Lost"], "bad_parameter", "grid[0]"),
    ("rfm", ("segments",), ["Lost", "Champions"], "bad_parameter", "category order"),
    ("rfm", ("n_customers",), 4, "bad_parameter", "integer >= 5"),
    ("rfm", ("n_customers",), 500.0, "bad_parameter", "n_customers' is 500.0"),
    ("rfm", ("feature_names_in",), ["n_orders"], "bad_parameter", "days_since_last"),
    ("rfm", ("hyperparameters", "segment_map", "form"), "table", "bad_parameter", "'frame'"),
    (
        "rfm",
        ("hyperparameters", "segment_map", "records"),
        [{"r_score": 1, "fm_score": 1, "segment": "x"}],
        "bad_parameter",
        "lacks 24 of the 25",
    ),
    (
        "rfm",
        ("hyperparameters", "segment_map", "records", 3),
        {"r_score": 5, "fm_score": 1, "segment": "New"},
        "bad_parameter",
        "each (r_score, fm_score) pair once",
    ),
    (
        "rfm",
        ("hyperparameters", "segment_map", "records", 3, "fm_score"),
        "4",
        "bad_parameter",
        "records[3].fm_score",
    ),
    (
        "rfm",
        ("hyperparameters", "segment_map", "records", 3, "segment"),
        "Renamed",
        "bad_parameter",
        "grid[4][3]",
    ),
    (
        "rfm",
        ("hyperparameters", "segment_map", "records", 3, "rank"),
        1,
        "unknown_field",
        "records[3].rank",
    ),
    (
        "rfm_dict",
        ("hyperparameters", "segment_map", "records", 3),
        {"r_score": 3, "fm_score": 3, "segment": "c"},
        "bad_parameter",
        "lacks 1 of the 4",
    ),
    # ValueTierSegmenter.
    ("tier", ("hyperparameters", "cuts", 1), 0.2, "bad_parameter", "increasing shares"),
    ("tier", ("hyperparameters", "cuts", 3), 1.0, "bad_parameter", "strictly between 0 and 1"),
    ("tier", ("hyperparameters", "cuts", 3), "0.99", "bad_parameter", "cuts[3]"),
    ("tier", ("hyperparameters", "tiers"), ["A", "B"], "bad_parameter", "5 distinct names"),
    ("tier", ("hyperparameters", "tiers", 1), "Top", "bad_parameter", "5 distinct names"),
    ("tier", ("hyperparameters", "tiers", 1), 2, "bad_parameter", "tiers[1]' is 2"),
    ("tier", ("hyperparameters", "playbook"), None, "bad_parameter", "default playbook"),
    (
        "tier",
        ("hyperparameters", "playbook", "index", 1),
        "Lower",
        "bad_parameter",
        "no row for tiers ['Top']",
    ),
    (
        "tier",
        ("hyperparameters", "playbook", "index", 3),
        "High",
        "bad_parameter",
        "more than one row for tiers ['High']",
    ),
    (
        "tier",
        ("hyperparameters", "playbook", "records", 0, "owner"),
        ["x"],
        "bad_parameter",
        "records[0].owner",
    ),
    (
        "tier",
        ("hyperparameters", "playbook", "records", 0, "budget"),
        math.inf,
        "bad_parameter",
        "records[0].budget' is inf",
    ),
    (
        "tier",
        ("hyperparameters", "playbook", "records", 0, "colour"),
        "red",
        "unknown_field",
        "records[0].colour",
    ),
    ("tier", ("hyperparameters", "playbook", "columns"), ["a", "a"], "bad_parameter", "distinct"),
    ("tier", ("playbook", "records", 0, "owner"), "me", "bad_parameter", "field 'playbook'"),
    ("tier", ("playbook", "index_name"), 3, "bad_parameter", "playbook.index_name"),
    ("tier", ("thresholds", 3), 1e9, "bad_parameter", "non-increasing"),
    ("tier", ("thresholds", 0), -1.0, "bad_parameter", ">= 0"),
    ("tier", ("thresholds",), [1.0], "bad_parameter", "1 entry; it must have 4"),
    ("tier", ("total_value",), 0.0, "bad_parameter", "> 0"),
    ("tier", ("total_value",), "inf", "bad_parameter", "total_value' is 'inf'"),
    ("tier", ("summary", "customers", 0), -1, "bad_parameter", "integer >= 0"),
    ("tier", ("summary", "customers", 0), 2**64, "bad_parameter", "<= 9223372036854775807"),
    ("tier", ("summary", "customers", 0), 1.5, "bad_parameter", "customers[0]' is 1.5"),
    ("tier", ("summary", "value_share", 0), 1.5, "bad_parameter", "[0, 1]"),
    ("tier", ("summary", "customer_share", 0), -0.1, "bad_parameter", "[0, 1]"),
    ("tier", ("summary", "value", 0), -5.0, "bad_parameter", ">= 0"),
    ("tier", ("summary", "value"), _DELETE, "missing_field", "summary.value"),
    ("tier", ("feature_names_in",), ["n_orders"], "bad_parameter", "total_amount"),
    # LifecycleSegmenter.
    ("lifecycle", ("hyperparameters", "at_risk_after"), 4.0, "bad_parameter", "at_risk_after <"),
    ("lifecycle", ("hyperparameters", "at_risk_after"), -1, "bad_parameter", "need 0 <"),
    ("lifecycle", ("hyperparameters", "lapsed_after"), "inf", "bad_parameter", "a finite number"),
    ("lifecycle", ("hyperparameters", "lost_after"), "-inf", "bad_parameter", "or 'inf'"),
    ("lifecycle", ("hyperparameters", "fall_ratio"), 1.0, "bad_parameter", "(0, 1)"),
    ("lifecycle", ("hyperparameters", "large_quantile"), None, "bad_parameter", "is None"),
    ("lifecycle", ("hyperparameters", "previous_suffix"), 3, "bad_parameter", "a string"),
    ("lifecycle", ("hyperparameters", "previous_suffix"), "_old", "bad_parameter", "_old"),
    ("lifecycle", ("typical_gap",), 0.0, "bad_parameter", "> 0"),
    ("lifecycle", ("typical_gap",), "inf", "bad_parameter", "typical_gap' is 'inf'"),
    ("lifecycle", ("typical_gap",), 1e400, "bad_parameter", "typical_gap' is inf"),
    ("lifecycle", ("large_account",), math.nan, "bad_parameter", "large_account' is nan"),
    ("lifecycle", ("uses_previous",), "yes", "bad_parameter", "true or false"),
    ("lifecycle", ("uses_previous",), False, "bad_parameter", "previous-period columns"),
    ("lifecycle", ("feature_names_in",), ["n_orders"], "bad_parameter", "tenure_days"),
]


@pytest.mark.parametrize(
    ("name", "path", "value", "reason", "match"),
    _CASES,
    ids=[f"{c[0]}-{'.'.join(map(str, c[1]))}-{c[3]}" for c in _CASES],
)
def test_refusals(
    exports: dict[str, tuple[type, dict[str, Any]]],
    name: str,
    path: FieldPath,
    value: Any,
    reason: str,
    match: str,
) -> None:
    cls, data = exports[name]
    bad = _edit(data, path, value)
    with pytest.raises(InvalidModelError) as err:
        cls.from_dict(bad)
    assert err.value.reason == reason, str(err.value)
    message = str(err.value)
    assert match in message
    assert message.startswith(f"{cls.__name__}.from_dict")
    # What is allowed and how to fix it are always stated.
    allowed = ("it must", f"not {cls.__name__}", "(expected ", "reads format_version", "own check")
    assert any(words in message for words in allowed), message
    fixes = ("re-export", "load it with", "load this export", "remove the unknown", "load the")
    assert any(fix in message for fix in fixes), message
    json.dumps(bad)  # every case can arrive as JSON text (NaN as the literal NaN)


def test_refusal_messages_name_field_value_and_fix(
    exports: dict[str, tuple[type, dict[str, Any]]],
) -> None:
    cls, data = exports["rfm"]
    with pytest.raises(InvalidModelError) as err:
        cls.from_dict(_edit(data, ("cut_points", "frequency", 2), -1.0))
    message = str(err.value)
    assert "field 'cut_points.frequency[2]' is -1.0" in message
    assert "the values are non-decreasing" in message
    assert "re-export the fitted segmenter with to_dict()" in message
    with pytest.raises(InvalidModelError, match="load this export with the class it names"):
        cls.from_dict(_edit(data, ("model",), "LifecycleSegmenter"))


# --- fuzz ------------------------------------------------------------------------------------


_SPECIAL = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        2,
        10**30,
        2**63,
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        1e-300,
        1e308,
        -1e308,
        math.nan,
        math.inf,
        -math.inf,
        "",
        "inf",
        "-inf",
        "nan",
        "1",
        "Lost",
        "Platinum",
        "days_since_last",
        "total_amount_prev",
        [],
        {},
        [None],
        {"r_score": 1, "fm_score": 1, "segment": "Lost"},
    ]
)
_JSON = json_values()


def _near(value: Any) -> st.SearchStrategy[Any]:
    """Values close to the original: the likeliest way to slip past a check."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return st.just(value)
    x = float(value)
    return st.sampled_from([-x, x * 2, x / 2, x + 1, x - 1, math.nextafter(x, -math.inf)])


_FUZZED = ["rfm", "rfm_dict", "tier", "lifecycle"]
# 150 with hypothesis' default of 100 examples; scales with any profile a conftest loads.
EXAMPLES = max(1, settings.default.max_examples * 3 // 2)


@pytest.mark.parametrize("name", _FUZZED)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_exports_are_refused_or_work(
    exports: dict[str, tuple[type, dict[str, Any]]],
    tables: dict[str, pd.DataFrame],
    name: str,
    data: st.DataObject,
) -> None:
    cls, export = exports[name]
    path = data.draw(st.sampled_from(json_paths(export)), label="path")
    old = _get(export, path)
    action = data.draw(
        st.sampled_from(["replace", "replace", "near", "delete", "add"]), label="action"
    )
    if action == "add":  # a new key beside the node, when its parent is an object
        parent = _get(export, path[:-1])
        if not isinstance(parent, dict):
            return
        path = (*path[:-1], data.draw(st.text(max_size=6), label="key"))
        value = data.draw(st.one_of(_SPECIAL, _JSON), label="value")
    elif action == "delete":
        value = _DELETE
    elif action == "near":
        value = data.draw(_near(old), label="value")
    else:
        value = data.draw(st.one_of(_SPECIAL, _JSON), label="value")
    mutated = _edit(export, path, value)
    try:
        restored = cls.from_dict(mutated)
    except InvalidModelError as err:
        event(f"refused: {err.reason}")
        assert err.reason in {
            "wrong_model",
            "bad_format_version",
            "missing_field",
            "unknown_field",
            "bad_parameter",
        }
        return
    event("accepted")
    # A mutated column name may point at any fitted column, so score on tables where every
    # column is numeric and finite (but for the NaN that the lifecycle stages expect).
    for X in (tables["both"].iloc[::9], tables["unseen_both"]):
        X = X.apply(lambda c: c.astype("int64") if c.dtype.kind == "M" else c)
        if not isinstance(restored, LifecycleSegmenter):
            X = X.fillna(0.0)
        for run in _public_methods(restored):
            run(X)


def _get(data: Any, path: FieldPath) -> Any:
    for key in path:
        data = data[key]
    return data


def _public_methods(segmenter: Any) -> list[Callable[[pd.DataFrame], Any]]:
    runs: list[Callable[[pd.DataFrame], Any]] = [
        segmenter.transform,
        lambda X: segmenter.get_feature_names_out(),
    ]
    if isinstance(segmenter, ValueTierSegmenter):
        runs.append(segmenter.treatments)
    if isinstance(segmenter, LifecycleSegmenter):
        runs.append(lambda X: segmenter.win_back(X, include_lost=True))
    return runs
