"""The CDNOW transaction log, bundled with the package."""

from __future__ import annotations

from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["load_cdnow", "load_cdnow_summary"]

_COLUMNS = ["customer_id", "timestamp", "quantity", "amount"]


def load_cdnow(sample: bool = False) -> pd.DataFrame:
    """Load the CDNOW transaction log in custintel's transaction schema.

    CDNOW holds every purchase, up to 30 June 1998, of the 23,570 customers
    who first bought at the online CD retailer CDNOW in the first quarter
    of 1997. It is the standard benchmark of the BTYD literature.

    Parameters
    ----------
    sample : bool, default=False
        ``False`` gives the full log (23,570 customers, 69,659 rows);
        ``True`` gives the 1/10 sample of 2,357 customers (6,919 rows) used by
        Fader, Hardie and Lee (2005) and the published parameter estimates.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (int, the master-file id in both versions),
        ``timestamp`` (datetime, day resolution), ``quantity`` (CDs bought)
        and ``amount`` (US dollars), in file order.

    Notes
    -----
    The full log has 255 rows that repeat an earlier row exactly: several
    orders of the same value on one day. They are genuine separate orders,
    so :func:`~custintel.validate_transactions` warns about them; pass
    ``duplicates="keep"`` to acknowledge them. Dollar values of 0 (80 rows)
    are free items and count as purchases, as in the literature.

    Data: Fader and Hardie (brucehardie.com), as distributed with the
    Lifetimes package (MIT licence, (c) 2015 Cameron Davidson-Pilon); see
    ``custintel/datasets/data/README.md``.

    References
    ----------
    .. [1] Fader, P. S. and Hardie, B. G. S. (2001), "Forecasting Repeat Sales
       at CDNOW: A Case Study", Interfaces, 31 (3), S94-S107.
    .. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting
       Your Customers' the Easy Way: An Alternative to the Pareto/NBD Model",
       Marketing Science, 24 (2), 275-284.

    Examples
    --------
    >>> from custintel.datasets import load_cdnow
    >>> tx = load_cdnow(sample=True)
    >>> tx.shape, tx["customer_id"].nunique()
    ((6919, 4), 2357)
    >>> tx.head(3)
       customer_id  timestamp  quantity  amount
    0            4 1997-01-01         2   29.33
    1            4 1997-01-18         2   29.73
    2            4 1997-08-02         1   14.96
    """
    if sample:
        names = ["customer_id", "sample_id", "date", "quantity", "amount"]
        frame = _read("CDNOW_sample.txt.gz", names=names, header=None)
        frame = frame.drop(columns="sample_id")
    else:
        names = ["customer_id", "date", "quantity", "amount"]
        frame = _read("CDNOW_master.txt.gz", names=names, header=0)
    frame["timestamp"] = pd.to_datetime(frame.pop("date").astype(str), format="%Y%m%d")
    return frame[_COLUMNS]


def load_cdnow_summary(*, time_unit: Literal["D", "W"] = "W") -> pd.DataFrame:
    """Load the customer table of the CDNOW sample as Fader, Hardie and Lee (2005) split it.

    The 2,357 customers of ``load_cdnow(sample=True)``, summarised over the
    calibration period 1997-01-01 to 1997-09-30 (39 weeks) with the holdout
    period to 1998-06-30: the table on which the BTYD literature reports its
    CDNOW estimates, and which the examples of :mod:`custintel.clv` fit.

    Parameters
    ----------
    time_unit : {"W", "D"}, default="W"
        Unit of ``recency``, ``T`` and the holdout length: weeks, as in the
        papers, or days.

    Returns
    -------
    pandas.DataFrame
        One row per customer, indexed by ``customer_id``: the columns of
        :func:`~custintel.calibration_holdout_split` (``frequency``,
        ``recency``, ``T``, ``monetary_value``... and the holdout
        ``frequency_holdout``, ``monetary_value_holdout`` and
        ``duration_holdout``).

    See Also
    --------
    load_cdnow : The transaction log itself.

    Examples
    --------
    >>> from custintel.datasets import load_cdnow_summary
    >>> X = load_cdnow_summary()
    >>> len(X), float(X["T"].max()), float(X["duration_holdout"].iloc[0])
    (2357, 38.86, 39.0)
    """
    from custintel.features import calibration_holdout_split

    return calibration_holdout_split(
        load_cdnow(sample=True),
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit=time_unit,
        duplicates="keep",
    )


def _read(filename: str, *, names: list[str], header: int | None) -> pd.DataFrame:
    source = resources.files("custintel.datasets").joinpath("data", filename)
    with resources.as_file(source) as path:
        return pd.read_csv(
            path,
            sep=r"\s+",
            names=names,
            header=header,
            compression="gzip",
            dtype={"customer_id": np.int64, "date": np.int64, "quantity": np.int64},
        )
