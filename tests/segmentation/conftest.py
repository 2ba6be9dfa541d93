"""CDNOW calibration table and its fitted clusters, shared by the segmentation tests."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from custintel.features import calibration_holdout_split
from custintel.segmentation import CustomerSegmenter


@pytest.fixture(scope="session")
def cdnow_calibration(cdnow) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Calibration to 1997-12-31 with holdout counts to 1998-06-30."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CDNOW's 255 genuine duplicate rows are kept
        return calibration_holdout_split(cdnow, calibration_end="1997-12-31", duplicates="keep")


@pytest.fixture(scope="session")
def cdnow_clusters(cdnow_calibration: pd.DataFrame) -> CustomerSegmenter:
    return CustomerSegmenter().fit(cdnow_calibration)
