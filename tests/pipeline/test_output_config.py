"""The main job reads its segmenters' output as pandas, whatever sklearn's global setting says."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import sklearn
from threadpoolctl import threadpool_limits

from custintel.pipeline import CustomerIntelligence

pytest.importorskip("polars")


@pytest.mark.slow
def test_polars_transform_output_set_globally_changes_nothing(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, tmp_path: Path
) -> None:
    expected = fitted.score(pipeline_tx)
    with sklearn.config_context(transform_output="polars"), threadpool_limits(limits=1):
        pd.testing.assert_frame_equal(fitted.score(pipeline_tx), expected)
        refit = CustomerIntelligence(horizon=180, verbose=False).fit(pipeline_tx)
        scored = refit.score(pipeline_tx)
        if importlib.util.find_spec("matplotlib") is not None:
            from custintel.report import write_report

            assert write_report(refit, tmp_path / "report.html").is_file()
    assert isinstance(scored, pd.DataFrame)
    assert list(scored.columns) == list(expected.columns)
    assert scored.index.equals(expected.index)
