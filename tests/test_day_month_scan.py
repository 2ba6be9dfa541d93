"""The day/month ambiguity check stops at the first value that is not dd/mm/yyyy text.

Text dates warn only when every distinct value is dd/mm/yyyy-style with no part
above 12 and some day differs from its month. The check now stops at a first
value of another style; it must warn exactly when the full scan (written out
here as it was) warns.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from custintel._validation import _SLASH_DATE, _warn_if_day_month_ambiguous
from custintel.exceptions import DataQualityWarning


def _full_scan_warns(values: pd.Series) -> bool:
    distinct = pd.Series(pd.unique(values.dropna().astype(str)))
    parts = distinct.str.extract(_SLASH_DATE)
    if distinct.empty or parts[0].isna().any():
        return False
    first, second = parts[0].astype(int), parts[1].astype(int)
    return bool((first <= 12).all() and (second <= 12).all() and (first != second).any())


def _warns(values: pd.Series) -> bool:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _warn_if_day_month_ambiguous(values)
    return any(issubclass(w.category, DataQualityWarning) for w in caught)


_AMBIGUOUS = [d.strftime("%m/%d/%Y") for d in pd.date_range("2024-01-01", "2024-12-12")]
_AMBIGUOUS = [d for d in _AMBIGUOUS if int(d[3:5]) <= 12]


@pytest.mark.parametrize(
    "dates",
    [
        ["2024-03-04 10:00:00", "03/04/2024", "05/06/2024"],  # ISO first
        ["03/04/2024", "05/06/2024", "2024-03-04 10:00:00"],  # ISO last
        ["Mar 4 2024", "05/06/2024", "01/02/2024"],  # words first
        [" 03/04/2024", "05.06.24", "01-02-2024 08:00"],  # other separators, a time
        ["03/04/2024", "13/04/2024"],  # a day above 12
        ["01/01/2024", "02/02/2024"],  # day == month
        ["2024-03-04", "2024-05-06"],  # ISO only
        _AMBIGUOUS,
        [],
    ],
)
def test_warns_exactly_when_the_full_scan_warns(dates: list[str]) -> None:
    values = pd.Series(dates, dtype=object, name="timestamp")
    assert _warns(values) == _full_scan_warns(values)
    assert _warns(values.astype("str")) == _full_scan_warns(values)


def test_ambiguous_dates_warn() -> None:
    assert _warns(pd.Series(_AMBIGUOUS, name="timestamp"))
    assert not _warns(pd.Series(["2024-01-01", *_AMBIGUOUS], name="timestamp"))
