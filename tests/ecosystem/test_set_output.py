"""scikit-learn's ``set_output(transform="polars")`` on every transformer of custintel.

The Polars output must hold what the pandas output holds: the same values in
the same row order (Polars has no index, so the customer ids are not in it), and
each categorical column (segment, tier, stage) as a ``polars.Enum`` with all
the pandas categories in their order, so that unused segments are still known
and tiers still sort best first.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.pipeline import make_pipeline

from custintel.datasets import make_campaign, make_transactions
from custintel.features import deal_sensitivity, summarize_customers
from custintel.segmentation import (
    CustomerSegmenter,
    DealSegmenter,
    LifecycleSegmenter,
    RFMSegmenter,
    ValueTierSegmenter,
)

pl = pytest.importorskip("polars")


@cache
def _summary() -> pd.DataFrame:
    return summarize_customers(make_transactions(300, random_state=0).transactions)


@cache
def _deals() -> pd.DataFrame:
    sim = make_campaign(400, random_state=0)
    before = sim.transactions.loc[sim.transactions["timestamp"] < sim.contact_date]
    return deal_sensitivity(before, duplicates="keep")


#: Each transformer with the customer table it segments.
TRANSFORMERS: dict[str, tuple[Callable[[], Any], Callable[[], pd.DataFrame]]] = {
    "RFMSegmenter": (RFMSegmenter, _summary),
    "ValueTierSegmenter": (ValueTierSegmenter, _summary),
    "CustomerSegmenter": (lambda: CustomerSegmenter(n_clusters=3, random_state=0), _summary),
    "LifecycleSegmenter": (LifecycleSegmenter, _summary),
    "DealSegmenter": (DealSegmenter, _deals),
}


def _public_transformers() -> set[str]:
    """Names of the public classes of custintel with ``transform`` and ``set_output``."""
    found = set()
    for package in ("acquisition", "basket", "churn", "clv", "features", "pipeline",
                    "profitability", "promotions", "segmentation"):  # fmt: skip
        module = importlib.import_module(f"custintel.{package}")
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value) and hasattr(value, "transform"):
                assert hasattr(value, "set_output"), f"{name} has transform but no set_output"
                found.add(name)
    return found


def test_every_public_transformer_is_covered() -> None:
    assert _public_transformers() == set(TRANSFORMERS)


def _assert_same(polars_out: Any, pandas_out: pd.DataFrame) -> None:
    assert isinstance(polars_out, pl.DataFrame)
    assert polars_out.columns == [str(c) for c in pandas_out.columns]
    assert polars_out.height == len(pandas_out)
    for column in pandas_out.columns:
        expected = pandas_out[column]
        got = polars_out[str(column)]
        if isinstance(expected.dtype, pd.CategoricalDtype):
            assert got.dtype == pl.Enum(list(expected.cat.categories)), column
            assert got.to_list() == [None if pd.isna(v) else v for v in expected], column
        else:
            np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy(), err_msg=column)


@pytest.mark.parametrize("name", sorted(TRANSFORMERS))
def test_polars_output_equals_the_pandas_output(name: str) -> None:
    make, table = TRANSFORMERS[name]
    X = table()
    expected = make().fit(X).transform(X)
    assert isinstance(expected, pd.DataFrame)
    model = make().set_output(transform="polars")
    _assert_same(model.fit_transform(X), expected)
    _assert_same(model.transform(X), expected)
    # A Polars customer table in, Polars out: the same.
    _assert_same(model.transform(pl.from_pandas(X.reset_index())), expected)
    # The global setting, and inside a Pipeline.
    with sklearn.config_context(transform_output="polars"):
        _assert_same(make().fit(X).transform(X), expected)
    _assert_same(make_pipeline(make()).set_output(transform="polars").fit_transform(X), expected)
    # Back to pandas, and to the default (the segmenters' own pandas frame).
    pd.testing.assert_frame_equal(model.set_output(transform="pandas").transform(X), expected)
    pd.testing.assert_frame_equal(model.set_output(transform="default").transform(X), expected)


def test_methods_that_read_their_own_segments_ignore_the_output_setting() -> None:
    X = _summary()
    tiers = ValueTierSegmenter().fit(X)
    stages = LifecycleSegmenter().fit(X)
    expected = (tiers.treatments(X), stages.win_back(X, include_lost=True))
    tiers.set_output(transform="polars")
    stages.set_output(transform="polars")
    pd.testing.assert_frame_equal(tiers.treatments(X), expected[0])
    pd.testing.assert_frame_equal(stages.win_back(X, include_lost=True), expected[1])
