"""Segmenters and 80/20 analyses: results do not depend on row order, ranges hold."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from custintel.profitability import ParetoAnalysis, WhaleCurve
from custintel.segmentation import LifecycleSegmenter, RFMSegmenter, ValueTierSegmenter

# 40 under the default profiles; see tests/properties/conftest.py.
EXAMPLES = max(1, settings.default.max_examples * 2 // 5)


@st.composite
def customer_tables(draw: Any, min_rows: int = 5) -> pd.DataFrame:
    n = draw(st.integers(min_rows, 30))
    orders = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    gaps = [draw(st.sampled_from([7.0, 30.0, 45.5])) if o > 1 else np.nan for o in orders]

    def column(*values: float) -> list[float]:
        return draw(st.lists(st.sampled_from(values), min_size=n, max_size=n))

    return pd.DataFrame(
        {
            "days_since_last": column(0, 3, 30, 90, 400),
            "n_orders": orders,
            "total_amount": column(0.0, 5.0, 20.0, 20.0, 150.5),
            "tenure_days": 500,
            "gap_mean_days": gaps,
            "profit": column(-10.0, 0.0, 5.0, 40.25),
        },
        index=pd.Index([f"c{i:03d}" for i in range(n)], name="customer_id"),
    )


def _fit_transform(make: Any, X: pd.DataFrame) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = make().fit(X)
        except ValueError as err:  # SchemaError included: e.g. all values zero
            return type(err)
    if hasattr(model, "transform"):
        return model.transform(X).sort_index()
    table = model.table_ if hasattr(model, "table_") else model.curve_
    scalars = {k: v for k, v in vars(model).items() if k.endswith("_") and np.isscalar(v)}
    return table, scalars


def _same(left: Any, right: Any) -> None:
    if isinstance(left, type):
        assert left is right
    elif isinstance(left, pd.DataFrame):
        pd.testing.assert_frame_equal(left, right, check_exact=True)
    else:
        pd.testing.assert_frame_equal(left[0], right[0], check_exact=False, rtol=1e-12)
        assert left[1].keys() == right[1].keys()
        for key, value in left[1].items():
            if isinstance(value, str):
                assert value == right[1][key], key
            else:
                np.testing.assert_allclose(value, right[1][key], rtol=1e-12, err_msg=key)


@settings(max_examples=EXAMPLES, deadline=3000)
@given(
    X=customer_tables(),
    seed=st.integers(0, 2**32 - 1),
    make=st.sampled_from(
        [
            lambda: RFMSegmenter(n_bins=3),
            ValueTierSegmenter,
            LifecycleSegmenter,
            ParetoAnalysis,
            lambda: ParetoAnalysis(negative="clip", column="profit"),
            WhaleCurve,
        ]
    ),
)
def test_results_do_not_depend_on_row_order(X: pd.DataFrame, seed: int, make: Any) -> None:
    _same(_fit_transform(make, X.sample(frac=1.0, random_state=seed)), _fit_transform(make, X))


@settings(max_examples=EXAMPLES, deadline=2000)
@given(X=customer_tables(min_rows=1))
def test_concentration_measures_hold_their_ranges(X: pd.DataFrame) -> None:
    n = len(X)
    try:
        pareto = ParetoAnalysis().fit(X)
    except ValueError:
        assert (X["total_amount"] == 0).all()
        return
    assert -1e-12 <= pareto.gini_ <= 1 - 1 / n + 1e-12
    assert 1 / n - 1e-12 <= pareto.hhi_ <= 1 + 1e-12
    shares = pareto.table_["cumulative_value_share"].to_numpy()
    assert (np.diff(shares) >= -1e-12).all() and abs(shares[-1] - 1) < 1e-12
    lorenz = pareto.lorenz_["value_share"].to_numpy()
    assert lorenz[0] == 0 and lorenz[-1] == 1 and (np.diff(lorenz) >= -1e-12).all()
    assert 0 <= pareto.share_of_top(0.2) <= 1
