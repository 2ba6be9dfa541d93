"""Campaign response: treatment against control, with intervals, overall and per segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from custintel.exceptions import DataQualityWarning, SchemaError, warn

__all__ = ["RESPONSE_COLUMNS", "campaign_response", "newcombe_interval"]

#: Columns of :func:`campaign_response`, in this order.
RESPONSE_COLUMNS: tuple[str, ...] = (
    "n_treatment",
    "n_control",
    "response_treatment",
    "response_control",
    "lift",
    "lift_lower",
    "lift_upper",
    "relative_lift",
    "p_value",
    "revenue_treatment",
    "revenue_control",
    "revenue_lift",
    "revenue_lift_lower",
    "revenue_lift_upper",
)


def _wilson(successes: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval of one proportion."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe_interval(
    successes_1: float, n_1: float, successes_2: float, n_2: float, *, level: float = 0.95
) -> tuple[float, float]:
    """Confidence interval of a difference of two proportions, ``p1 - p2`` (Newcombe's method 10).

    The hybrid score interval built from the two Wilson intervals (Newcombe
    1998, *Statistics in Medicine* 17, 873-890, method 10): it keeps its
    coverage near the nominal level for small samples and rates near 0 or
    1, where the plain Wald interval does not.

    Parameters
    ----------
    successes_1, n_1 : float
        Successes and trials of the first group (e.g. treatment).
    successes_2, n_2 : float
        Successes and trials of the second group (e.g. control).
    level : float, default=0.95
        Confidence level.

    Returns
    -------
    tuple of float
        Lower and upper bounds.

    Examples
    --------
    Newcombe's own example (56/70 against 48/80; his Table II gives
    0.0524 to 0.3339):

    >>> lower, upper = newcombe_interval(56, 70, 48, 80)
    >>> round(lower, 4), round(upper, 4)
    (0.0524, 0.3339)
    """
    z = float(stats.norm.ppf(0.5 + level / 2))
    p1, p2 = successes_1 / n_1, successes_2 / n_2
    l1, u1 = _wilson(successes_1, n_1, z)
    l2, u2 = _wilson(successes_2, n_2, z)
    difference = p1 - p2
    lower = difference - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return float(lower), float(upper)


def _two_proportion_p(successes_1: float, n_1: float, successes_2: float, n_2: float) -> float:
    """Two-sided p-value of the pooled two-proportion z-test."""
    pooled = (successes_1 + successes_2) / (n_1 + n_2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_1 + 1 / n_2))
    if se == 0:
        return 1.0
    z = (successes_1 / n_1 - successes_2 / n_2) / se
    return float(2 * stats.norm.sf(abs(z)))


def _revenue_interval(
    treated: np.ndarray, held_out: np.ndarray, level: float
) -> tuple[float, float]:
    """Welch interval of the difference of mean revenue per contact."""
    if len(treated) < 2 or len(held_out) < 2:
        return np.nan, np.nan
    if np.var(treated) == 0 and np.var(held_out) == 0:
        difference = float(treated.mean() - held_out.mean())
        return difference, difference
    test = stats.ttest_ind(treated, held_out, equal_var=False)
    interval = test.confidence_interval(confidence_level=level)
    return float(interval.low), float(interval.high)


def _one_group(frame: pd.DataFrame, level: float) -> dict[str, float]:
    treated = frame.loc[frame["group"] == "treatment"]
    held_out = frame.loc[frame["group"] == "control"]
    n_t, n_c = len(treated), len(held_out)
    row: dict[str, float] = dict.fromkeys(RESPONSE_COLUMNS, np.nan)
    row["n_treatment"], row["n_control"] = n_t, n_c
    if n_t:
        row["response_treatment"] = float(treated["responded"].mean())
        row["revenue_treatment"] = float(treated["revenue"].mean())
    if n_c:
        row["response_control"] = float(held_out["responded"].mean())
        row["revenue_control"] = float(held_out["revenue"].mean())
    if not (n_t and n_c):
        return row
    s_t, s_c = float(treated["responded"].sum()), float(held_out["responded"].sum())
    row["lift"] = row["response_treatment"] - row["response_control"]
    row["lift_lower"], row["lift_upper"] = newcombe_interval(s_t, n_t, s_c, n_c, level=level)
    if row["response_control"] > 0:
        row["relative_lift"] = row["response_treatment"] / row["response_control"] - 1
    row["p_value"] = _two_proportion_p(s_t, n_t, s_c, n_c)
    row["revenue_lift"] = row["revenue_treatment"] - row["revenue_control"]
    revenue_t = treated["revenue"].to_numpy(dtype=np.float64)
    revenue_c = held_out["revenue"].to_numpy(dtype=np.float64)
    row["revenue_lift_lower"], row["revenue_lift_upper"] = _revenue_interval(
        revenue_t, revenue_c, level
    )
    return row


def campaign_response(
    outcomes: pd.DataFrame, *, by: str | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Measure a campaign: response and revenue of the treatment group against control.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        One row per contact with ``group`` (``"treatment"`` or ``"control"``),
        ``responded`` (bool) and ``revenue``, as
        :func:`~custintel.features.campaign_outcomes` returns.
    by : str or None, default=None
        A column of ``outcomes`` (a segment, a region) to measure each value
        of separately, after the overall row.
    level : float, default=0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row ``"all"`` and, with ``by``, one per value, with the columns
        in :data:`RESPONSE_COLUMNS`: group sizes, response rates, the
        ``lift`` (treatment minus control rate, in rate points) with
        Newcombe's interval (:func:`newcombe_interval`), the relative lift,
        the two-proportion z-test's p-value, and mean revenue per contact
        with the revenue lift and its Welch interval.

    Raises
    ------
    SchemaError
        When columns are missing, or the treatment or control group is empty.
    ValueError
        For a level outside (0, 1).

    Warns
    -----
    DataQualityWarning
        When a ``by`` value has no control (or no treatment) contacts: its
        lift is NaN.

    Examples
    --------
    >>> outcomes = pd.DataFrame({
    ...     "group": ["treatment"] * 70 + ["control"] * 80,
    ...     "responded": [True] * 56 + [False] * 14 + [True] * 48 + [False] * 32,
    ...     "revenue": [10.0] * 56 + [0.0] * 14 + [10.0] * 48 + [0.0] * 32})
    >>> result = campaign_response(outcomes)
    >>> result[["response_treatment", "response_control", "lift", "lift_lower"]].round(4)
         response_treatment  response_control  lift  lift_lower
    all                 0.8               0.6   0.2      0.0524
    """
    if not isinstance(outcomes, pd.DataFrame):
        raise SchemaError(
            f"outcomes must be a pandas DataFrame, got {type(outcomes).__name__}; build it with "
            "custintel.features.campaign_outcomes(transactions, contacts)",
            reason="not_a_dataframe",
        )
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, e.g. 0.95, got {level!r}")
    needed = ["group", "responded", "revenue", *([by] if by is not None else [])]
    missing = [c for c in needed if c not in outcomes.columns]
    if missing:
        raise SchemaError(
            f"outcomes lacks columns {missing}; columns present: "
            f"{[str(c) for c in outcomes.columns]}; build it with "
            "custintel.features.campaign_outcomes(transactions, contacts)",
            reason="missing_column",
        )
    groups = outcomes["group"].astype(str).str.lower()
    for name in ("treatment", "control"):
        if not (groups == name).any():
            raise SchemaError(
                f"the {name} group is empty ({len(outcomes):,} contacts, none in {name!r}): "
                "a lift needs contacted customers and a held-out control group; keep a random "
                "share of the customers out of the campaign as control",
                reason=f"empty_{name}",
            )
    frame = pd.DataFrame(
        {
            "group": groups.to_numpy(),
            "responded": outcomes["responded"].astype(bool).to_numpy(),
            "revenue": outcomes["revenue"].to_numpy(dtype=np.float64),
        }
    )
    rows = {"all": _one_group(frame, level)}
    if by is not None:
        values = outcomes[by]
        lacking: list[str] = []
        if isinstance(values.dtype, pd.CategoricalDtype):  # in category order
            present = set(values.dropna().unique())
            levels = [v for v in values.cat.categories if v in present]
        else:
            levels = list(pd.unique(values.dropna()))
        for value in levels:
            part = frame.loc[(values == value).to_numpy()]
            row = _one_group(part, level)
            if not (row["n_treatment"] and row["n_control"]):
                lacking.append(str(value))
            rows[value] = row
        if lacking:
            warn(
                f"campaign_response: no control or no treatment contacts in {by} "
                f"{lacking[:5]}, so their lift is NaN; assign control contacts within every "
                f"{by}",
                DataQualityWarning,
            )
    table = pd.DataFrame.from_dict(rows, orient="index")[list(RESPONSE_COLUMNS)]
    table.index.name = by if by is not None else None
    return table.astype({"n_treatment": np.int64, "n_control": np.int64})
