"""``RFMSegmenter``: tie-robust recency, frequency and monetary scores and named segments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from custintel._validation import as_customer_table
from custintel.export import Domain, ExportReader, json_float
from custintel.segmentation._checks import ExportedSegmenter, customer_columns
from custintel.typing import CustomerTable

__all__ = ["SEGMENT_NAMES", "RFMSegmenter", "default_segment_map", "tie_robust_scores"]

#: The default segment names, best first.
SEGMENT_NAMES = (
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose",
    "Hibernating",
    "Lost",
)

# Rows: R score 5 (most recent) down to 1; columns: FM score 1 to 5. Customers' value and
# churn change along the diagonals R + FM (iso-value curves, Fader, Hardie and Lee 2005), so
# the recent and the middle names each cover cells of one or two neighbouring diagonals;
# the lapsed high-FM corner keeps the names of its own action (At Risk, Can't Lose).
_GRID = (
    ("New", "Promising", "Potential Loyalist", "Loyal", "Champions"),
    ("Promising", "Promising", "Need Attention", "Potential Loyalist", "Loyal"),
    ("About to Sleep", "About to Sleep", "Need Attention", "Need Attention", "At Risk"),
    ("Hibernating", "Hibernating", "About to Sleep", "At Risk", "Can't Lose"),
    ("Lost", "Lost", "Hibernating", "At Risk", "Can't Lose"),
)


def default_segment_map() -> pd.DataFrame:
    """Return the default grid from (R score, FM score) to segment name.

    The FM score is the mean of the F and M scores rounded half up,
    ``(F + M + 1) // 2``. Copy the frame, edit cells and pass it as
    ``RFMSegmenter(segment_map=...)`` to rename or regroup segments.

    Returns
    -------
    pandas.DataFrame
        Index ``r_score`` 5..1, columns ``fm_score`` 1..5, cells segment names.

    Examples
    --------
    >>> grid = default_segment_map()
    >>> grid.loc[5, 5], grid.loc[1, 1], grid.loc[2, 5]
    ('Champions', 'Lost', "Can't Lose")
    """
    return pd.DataFrame(
        [list(row) for row in _GRID],
        index=pd.Index([5, 4, 3, 2, 1], name="r_score"),
        columns=pd.Index([1, 2, 3, 4, 5], name="fm_score"),
    )


def tie_robust_scores(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Score values 1..``n_bins`` by the share of customers strictly below them.

    A customer's score is ``1 + floor(n_bins * b / n)`` where ``b`` counts the
    customers with a strictly smaller value. Tied customers share ``b`` and so
    always share a score, whatever the row order.

    Parameters
    ----------
    values : numpy.ndarray
        One finite value per customer; higher is better.
    n_bins : int
        Number of scores.

    Returns
    -------
    numpy.ndarray
        ``int64`` scores.

    Examples
    --------
    >>> tie_robust_scores(np.array([1.0, 1.0, 1.0, 2.0, 5.0]), 5).tolist()
    [1, 1, 1, 4, 5]
    """
    return _sorted_scores(values, n_bins)[0]


def _sorted_scores(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, plus the sorted values and their scores (one stable sort)."""
    n = len(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    run_start = np.ones(n, dtype=bool)
    run_start[1:] = ordered[1:] != ordered[:-1]
    # Customers strictly below = position of the first member of the tied run.
    first = np.maximum.accumulate(np.where(run_start, np.arange(n), 0))
    sorted_scores = np.minimum(1 + (n_bins * first) // n, n_bins).astype(np.int64)
    scores = np.empty(n, dtype=np.int64)
    scores[order] = sorted_scores
    return scores, ordered, sorted_scores


def _segment_order(grid: Mapping[tuple[int, int], str]) -> tuple[str, ...]:
    """Return segment names in category order: default names first (best first), then others."""
    names = list(grid.values())
    return tuple(dict.fromkeys([name for name in SEGMENT_NAMES if name in names] + names))


_FEATURES = ("recency", "frequency", "monetary")
_MAP_FIELDS = ("r_score", "fm_score", "segment")


def _edges(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Smallest training value earning each score 2..n_bins (inf if none), and the scores earned."""
    _, ordered, sorted_scores = _sorted_scores(values, n_bins)
    edges = np.full(n_bins - 1, np.inf)
    first_at_least = np.searchsorted(sorted_scores, np.arange(2, n_bins + 1), side="left")
    found = first_at_least < len(ordered)
    edges[found] = ordered[first_at_least[found]]
    return edges, np.unique(sorted_scores)


@dataclass(kw_only=True, repr=False, eq=False)
class RFMSegmenter(ExportedSegmenter):
    r"""Score recency, frequency and monetary value and name each customer's segment.

    Parameters
    ----------
    n_bins : int, default=5
        Scores run from 1 (worst) to ``n_bins`` (best).
    recency : str, default="days_since_last"
        Column of days since the last purchase (smaller is better).
    frequency : str, default="n_orders"
        Column of purchase counts.
    monetary : str, default="total_amount"
        Column of spend (``"monetary_value"`` for spend per repeat purchase,
        ``"total_margin"`` for margin).
    segment_map : pandas.DataFrame, dict or None, default=None
        Grid from (R score, FM score) to a segment name: a frame indexed by
        R score with FM-score columns, or a dict ``{(r, fm): name}``; it must
        cover every pair in ``1..n_bins``. ``None`` uses
        :func:`default_segment_map`, on scores rescaled to 1..5 when
        ``n_bins != 5``.

    Attributes
    ----------
    bin_edges_ : pandas.DataFrame
        Index score 2..``n_bins``; for each feature, the training value from
        which the score is earned (for recency: the most days since the last
        purchase that still earns it). ``NaN`` when no customer earned it.
    segments_ : tuple of str
        Segment names, in grid order.
    n_customers_ : int
        Customers seen in ``fit``.

    Notes
    -----
    Quantile cuts collapse when many customers share a value (13,080 of
    CDNOW's 23,570 customers bought once), which makes ``pd.qcut`` fail with
    "bin edges must be unique" and rank-based scripts split identical
    customers by row order. Here a customer with value :math:`v` scores

    .. math:: s = \min\left(n_{bins},\; 1 + \lfloor n_{bins}\, b(v) / n \rfloor\right)

    where :math:`b(v)` counts the training customers with a strictly worse
    value. Ties share :math:`b(v)`, so they share a score, and a tied block
    takes the score of its worst position: all one-time buyers get F = 1.
    A large block therefore leaves some scores unused (on CDNOW, F = 2 is
    never earned) rather than splitting identical customers. ``transform``
    applies the training cut points, so a later period is scored on the same
    scale. A monetary value of 0 (or a negative net after refunds) is a valid
    value and scores at the bottom. Identical customers all score 1.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame(
    ...     {"days_since_last": [5, 40, 200, 300], "n_orders": [6, 3, 1, 1],
    ...      "total_amount": [300.0, 90.0, 20.0, 10.0]},
    ...     index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    >>> RFMSegmenter(n_bins=4).fit_transform(X)
                 r_score  f_score  m_score  rfm_sum             segment
    customer_id
    a                  4        4        4       12           Champions
    b                  3        3        3        9  Potential Loyalist
    c                  2        1        2        5      Need Attention
    d                  1        1        1        3         Hibernating
    """

    output_columns: ClassVar[tuple[str, ...]] = (
        "r_score",
        "f_score",
        "m_score",
        "rfm_sum",
        "segment",
    )
    export_fields: ClassVar[tuple[str, ...]] = (
        "cut_points",
        "score_earned",
        "grid",
        "segments",
        "n_customers",
    )

    n_bins: int = 5
    recency: str = "days_since_last"
    frequency: str = "n_orders"
    monetary: str = "total_amount"
    segment_map: Any = None

    def _oriented(self, X: Any, min_rows: int) -> tuple[np.ndarray, pd.Index]:
        values, index = customer_columns(
            X,
            [self.recency, self.frequency, self.monetary],
            owner="RFMSegmenter",
            min_rows=min_rows,
        )
        values[:, 0] = -values[:, 0]  # fewer days since the last purchase is better
        return values, index

    def _check_n_bins(self) -> None:
        if (
            isinstance(self.n_bins, bool)
            or not isinstance(self.n_bins, (int, np.integer))
            or self.n_bins < 2
        ):
            raise ValueError(f"n_bins must be an integer >= 2, got {self.n_bins!r}")

    def _grid(self) -> dict[tuple[int, int], str]:
        n = self.n_bins
        if self.segment_map is None:
            grid = default_segment_map()
            return {
                (r, fm): str(grid.loc[-(-r * 5 // n), -(-fm * 5 // n)])
                for r in range(1, n + 1)
                for fm in range(1, n + 1)
            }
        mapping = self._custom_map()
        missing = [
            (r, fm) for r in range(1, n + 1) for fm in range(1, n + 1) if (r, fm) not in mapping
        ]
        if missing:
            raise ValueError(
                f"segment_map lacks {len(missing)} of the {n * n} (R, FM) score pairs, e.g. "
                f"{missing[:5]}; give a name for every pair with scores 1..{n}"
            )
        return mapping

    def _custom_map(self) -> dict[tuple[int, int], str]:
        """Return the user's ``segment_map`` as ``{(r, fm): name}`` (no coverage check)."""
        if isinstance(self.segment_map, pd.DataFrame):
            mapping = {
                (int(r), int(fm)): str(self.segment_map.loc[r, fm])
                for r in self.segment_map.index
                for fm in self.segment_map.columns
            }
        elif isinstance(self.segment_map, Mapping):
            mapping = {(int(k[0]), int(k[1])): str(v) for k, v in self.segment_map.items()}
        else:
            raise ValueError(
                "segment_map must be None, a DataFrame (index R score, columns FM score) or a "
                f"dict {{(r, fm): name}}, got {type(self.segment_map).__name__}"
            )
        return mapping

    def fit(self, X: CustomerTable, y: Any = None) -> RFMSegmenter:
        """Learn the score cut points from a customer table.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table with the columns that ``recency``, ``frequency``
            and ``monetary`` name, e.g. from
            :func:`~custintel.features.summarize_customers`.
        y : None
            Ignored.

        Returns
        -------
        RFMSegmenter
            The fitted segmenter.

        Raises
        ------
        ValueError
            For ``n_bins`` below 2 or an incomplete ``segment_map``.
        SchemaError
            For fewer customers than bins, missing columns or NaN values.
        """
        self._check_n_bins()
        grid = self._grid()
        X = as_customer_table(X, owner="RFMSegmenter")
        values, _ = self._oriented(X, min_rows=self.n_bins)
        fitted = [_edges(values[:, j], self.n_bins) for j in range(3)]
        edges = np.column_stack([e for e, _ in fitted])
        self._edges = edges
        table = edges.copy()
        table[:, 0] = -table[:, 0]
        for j, (_, earned) in enumerate(fitted):
            table[~np.isin(np.arange(2, self.n_bins + 1), earned), j] = np.nan
        self.bin_edges_ = pd.DataFrame(
            table,
            index=pd.Index(range(2, self.n_bins + 1), name="score"),
            columns=["recency", "frequency", "monetary"],
        )
        self.grid_ = grid
        self.segments_ = _segment_order(grid)
        self.n_customers_ = len(values)
        self._remember_columns(X)
        return self

    def transform(self, X: CustomerTable) -> pd.DataFrame:
        """Score customers on the fitted scale and name their segments.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table with the fitted columns.

        Returns
        -------
        pandas.DataFrame
            Indexed by customer id: ``r_score``, ``f_score``, ``m_score``,
            ``rfm_sum`` and ``segment`` (categorical, in :attr:`segments_` order).
        """
        check_is_fitted(self, "bin_edges_")
        values, index = self._oriented(X, min_rows=1)
        scores = np.column_stack(
            [1 + np.searchsorted(self._edges[:, j], values[:, j], side="right") for j in range(3)]
        ).astype(np.int64)
        fm = (scores[:, 1] + scores[:, 2] + 1) // 2
        # Grid lookup by array indexing: one category code per (R, FM) cell.
        position = {name: i for i, name in enumerate(self.segments_)}
        cells = np.empty((self.n_bins, self.n_bins), dtype=np.int64)
        for (r, m), name in self.grid_.items():
            if 1 <= r <= self.n_bins and 1 <= m <= self.n_bins:
                cells[r - 1, m - 1] = position[name]
        codes = cells[scores[:, 0] - 1, fm - 1]
        return pd.DataFrame(
            {
                "r_score": scores[:, 0],
                "f_score": scores[:, 1],
                "m_score": scores[:, 2],
                "rfm_sum": scores.sum(axis=1),
                "segment": pd.Categorical.from_codes(codes, categories=list(self.segments_)),
            },
            index=index,
        )

    # --- JSON export ---------------------------------------------------------------------

    def _segment_map_json(self) -> dict[str, Any] | None:
        if self.segment_map is None:
            return None
        return {
            "form": "frame" if isinstance(self.segment_map, pd.DataFrame) else "mapping",
            "records": [
                {"r_score": r, "fm_score": fm, "segment": name}
                for (r, fm), name in self._custom_map().items()
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted segmenter as plain JSON data.

        Returns
        -------
        dict
            ``model``, ``format_version`` (1) and ``hyperparameters``
            (``segment_map`` as ``{"form": "frame" | "mapping", "records":
            [{"r_score", "fm_score", "segment"}, ...]}`` or ``None``), then:

            - ``cut_points``: for ``recency``, ``frequency`` and ``monetary``,
              the value from which each score 2..``n_bins`` is earned (a
              customer scores 1 plus the number of cut points reached:
              frequency and monetary at or above the cut point, days since
              the last purchase at or below it). ``"inf"`` (``"-inf"`` for
              recency) when no value earns the score.
            - ``score_earned``: per feature and score, whether a customer in
              ``fit`` earned it (:attr:`bin_edges_` is NaN otherwise).
            - ``grid``: segment name of each (R, FM) score pair,
              ``grid[r - 1][fm - 1]``.
            - ``segments``: :attr:`segments_`, the category order.
            - ``n_customers`` and ``feature_names_in``.

            :meth:`from_dict` checks ``n_bins`` (an integer >= 2), one cut
            point per score 2..``n_bins``, non-decreasing for frequency and
            monetary and non-increasing for recency, finite where a score was
            earned, and a grid and segments that match ``segment_map``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> X = pd.DataFrame(
        ...     {"days_since_last": [5, 40, 200, 300], "n_orders": [6, 3, 1, 1],
        ...      "total_amount": [300.0, 90.0, 20.0, 10.0]},
        ...     index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
        >>> seg = RFMSegmenter(n_bins=4).fit(X)
        >>> data = seg.to_dict()
        >>> data["cut_points"]["frequency"], data["score_earned"]["frequency"]
        ([3.0, 3.0, 6.0], [False, True, True])
        >>> restored = RFMSegmenter.from_dict(json.dumps(data))
        >>> restored.transform(X).equals(seg.transform(X))
        True
        """
        check_is_fitted(self, "bin_edges_")
        n = int(self.n_bins)
        cuts = self._edges.copy()
        cuts[:, 0] = -cuts[:, 0]
        earned = self.bin_edges_.notna().to_numpy()
        return self._export(
            {
                "cut_points": {
                    name: [json_float(v) for v in cuts[:, j]] for j, name in enumerate(_FEATURES)
                },
                "score_earned": {
                    name: [bool(v) for v in earned[:, j]] for j, name in enumerate(_FEATURES)
                },
                "grid": [[self.grid_[(r, fm)] for fm in range(1, n + 1)] for r in range(1, n + 1)],
                "segments": list(self.segments_),
                "n_customers": int(self.n_customers_),
            },
            segment_map=self._segment_map_json(),
        )

    @classmethod
    def _from_export(
        cls, read: ExportReader, export: Mapping[str, Any], hyper: Mapping[str, Any]
    ) -> RFMSegmenter:
        n_bins = read.integer(hyper["n_bins"], "hyperparameters.n_bins", Domain(2))
        columns = {name: read.string(hyper[name], f"hyperparameters.{name}") for name in _FEATURES}
        segmenter = cls(
            n_bins=n_bins,
            **columns,
            segment_map=_read_segment_map(read, hyper["segment_map"]),
        )
        read.checked("hyperparameters.n_bins", segmenter._check_n_bins)

        # Sizes first: nothing below loops over n_bins**2 cells unless the export holds them.
        cut_spec = read.keys(export["cut_points"], "cut_points", required=_FEATURES)
        earned_spec = read.keys(export["score_earned"], "score_earned", required=_FEATURES)
        columns_read, flags_read = [], []
        for j, name in enumerate(_FEATURES):
            field = f"cut_points.{name}"
            infinity, sense = ("-inf", "at or below") if j == 0 else ("inf", "at or above")
            values = read.numbers(
                cut_spec[name],
                field,
                length=n_bins - 1,
                allowed=f"a number (or {infinity!r} for a score nobody earns); a customer earns "
                f"a score with a value {sense} its cut point",
                infinity=infinity,
            )
            read.monotone(values, field, decreasing=j == 0)
            flags = read.array(earned_spec[name], f"score_earned.{name}", length=n_bins - 1)
            for i, flag in enumerate(flags):
                if read.boolean(flag, f"score_earned.{name}[{i}]") and not np.isfinite(values[i]):
                    read.reject(
                        f"{field}[{i}]",
                        cut_spec[name][i],
                        f"a finite number, since score_earned.{name}[{i}] says a customer "
                        f"earned score {i + 2}",
                    )
            columns_read.append(values)
            flags_read.append(flags)
        cuts = np.column_stack(columns_read)
        earned = np.column_stack(flags_read).astype(bool)
        rows = read.array(export["grid"], "grid", length=n_bins)
        for r, row in enumerate(rows):
            read.strings(row, f"grid[{r}]", length=n_bins)
        segments = read.strings(export["segments"], "segments")

        grid = read.checked("hyperparameters.segment_map", segmenter._grid)
        for r in range(1, n_bins + 1):
            for fm in range(1, n_bins + 1):
                if rows[r - 1][fm - 1] != grid[(r, fm)]:
                    read.reject(
                        f"grid[{r - 1}][{fm - 1}]",
                        rows[r - 1][fm - 1],
                        f"the segment that hyperparameters.segment_map gives to R = {r}, "
                        f"FM = {fm}: {grid[(r, fm)]!r}",
                    )
        order = _segment_order(grid)
        if tuple(segments) != order:
            read.reject("segments", segments, f"the grid's segments in category order, {order}")
        n_customers = read.integer(export["n_customers"], "n_customers", Domain(n_bins))
        segmenter._read_columns(read, export["feature_names_in"], list(columns.values()))

        edges = cuts.copy()
        edges[:, 0] = -edges[:, 0]
        segmenter._edges = edges
        segmenter.bin_edges_ = pd.DataFrame(
            np.where(earned, cuts, np.nan),
            index=pd.Index(range(2, n_bins + 1), name="score"),
            columns=list(_FEATURES),
        )
        segmenter.grid_ = grid
        segmenter.segments_ = order
        segmenter.n_customers_ = n_customers
        return segmenter


def _read_segment_map(read: ExportReader, value: Any) -> Any:
    """Rebuild a ``segment_map`` hyperparameter: None, a frame or a dict ``{(r, fm): name}``."""
    if value is None:
        return None
    field = "hyperparameters.segment_map"
    spec = read.keys(value, field, required=("form", "records"))
    form = spec["form"]
    if form not in ("frame", "mapping"):
        read.reject(f"{field}.form", form, "'frame' or 'mapping'")
    mapping: dict[tuple[int, int], str] = {}
    for i, record in enumerate(read.array(spec["records"], f"{field}.records")):
        where = f"{field}.records[{i}]"
        read.keys(record, where, required=_MAP_FIELDS)
        key = (
            read.integer(record["r_score"], f"{where}.r_score"),
            read.integer(record["fm_score"], f"{where}.fm_score"),
        )
        if key in mapping:
            read.reject(
                where, record, "unique: the records list each (r_score, fm_score) pair once"
            )
        mapping[key] = read.string(record["segment"], f"{where}.segment")
    if form == "mapping":
        return mapping
    r_scores = list(dict.fromkeys(r for r, _ in mapping))
    fm_scores = list(dict.fromkeys(fm for _, fm in mapping))
    if list(mapping) != [(r, fm) for r in r_scores for fm in fm_scores]:
        read.reject(
            f"{field}.records",
            spec["records"],
            "for a frame, every (r_score, fm_score) cell once, row by row",
        )
    return pd.DataFrame(
        [[mapping[(r, fm)] for fm in fm_scores] for r in r_scores],
        index=pd.Index(r_scores, name="r_score"),
        columns=pd.Index(fm_scores, name="fm_score"),
    )
