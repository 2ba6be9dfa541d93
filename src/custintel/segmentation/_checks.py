"""What the segmenters share: input checks on one customer table, and their JSON export envelope."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from custintel._validation import as_customer_table
from custintel.backends import keep_categories
from custintel.exceptions import SchemaError, plain
from custintel.export import ExportReader, export_header

__all__ = [
    "EXPORT_FORMAT",
    "ExportedSegmenter",
    "Segmenter",
    "customer_columns",
    "one_row_per_customer",
    "open_export",
]

#: The export layout the segmenters write; their ``from_dict`` reads exactly this one.
EXPORT_FORMAT = 1
_FIX = "re-export the fitted segmenter with to_dict() rather than editing its JSON by hand"

_HINT = "build the table with custintel.summarize_customers(transactions)"


def one_row_per_customer(index: pd.Index, owner: str, *, fix: str = "") -> None:
    """Raise ``SchemaError`` if a customer id appears more than once in ``index``.

    Parameters
    ----------
    index : pandas.Index
        Customer ids.
    owner : str
        Name of the caller (or of the input), for messages.
    fix : str, default=""
        How to fix it, ending the message.
    """
    if index.has_duplicates:
        dupes = index[index.duplicated()].unique()
        raise SchemaError(
            f"{owner}: {len(dupes):,} customer ids appear more than once, e.g. "
            f"{dupes[:5].tolist()}" + (f"; {fix}" if fix else ""),
            reason="duplicate_customer_id",
        )


def customer_columns(
    X: Any,
    columns: Sequence[str],
    *,
    owner: str,
    min_rows: int = 1,
    allow_nan: Sequence[str] = (),
) -> tuple[np.ndarray, pd.Index]:
    """Check ``columns`` of a customer table and return them as a float matrix.

    Parameters
    ----------
    X : pandas.DataFrame
        One row per customer, indexed by customer id.
    columns : sequence of str
        Columns to read, in order.
    owner : str
        Name of the caller, for messages.
    min_rows : int, default=1
        Fewest customers accepted.
    allow_nan : sequence of str, default=()
        Columns where NaN is legitimate (e.g. ``gap_mean_days`` of one-time buyers).

    Returns
    -------
    values : numpy.ndarray
        ``float64`` matrix of shape ``(n_customers, len(columns))``.
    index : pandas.Index
        Customer ids, named ``customer_id`` when unnamed.

    Raises
    ------
    SchemaError
        For a non-DataFrame, missing or non-numeric columns, duplicated
        customer ids, NaN or infinite values, or fewer than ``min_rows`` rows.
    """
    X = as_customer_table(X, owner=owner)
    if not isinstance(X, pd.DataFrame):
        raise SchemaError(
            f"{owner} expects a customer table (pandas, polars or pyarrow frame, one row per "
            "customer), got "
            f"{type(X).__name__}; {_HINT}",
            reason="not_a_dataframe",
        )
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise SchemaError(
            f"{owner} reads columns {missing}, which the customer table lacks; columns present: "
            f"{[str(c) for c in X.columns]}; {_HINT}, or rename your columns",
            reason="missing_column",
        )
    if len(X) < min_rows:
        raise SchemaError(
            f"{owner} needs at least {min_rows} customers, got {len(X)}; use fewer bins or "
            "clusters, or more customers",
            reason="too_few_customers",
        )
    one_row_per_customer(X.index, owner, fix=f"the table must have one row per customer; {_HINT}")
    out = np.empty((len(X), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        series = X[col]
        if isinstance(series, pd.DataFrame):
            raise SchemaError(
                f"{owner}: column {col!r} appears more than once; rename the duplicates",
                reason="duplicate_column_names",
            )
        if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            raise SchemaError(
                f"{owner}: column {col!r} must be numeric, got dtype {series.dtype}; convert it, "
                f"e.g. pd.to_numeric(X[{col!r}])",
                reason="non_numeric_value",
            )
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values) if col in allow_nan else ~np.isfinite(values)
        if bad.any():
            where = np.flatnonzero(bad)[:5]
            examples = ", ".join(f"{plain(X.index[i])!r}: {plain(values[i])!r}" for i in where)
            raise SchemaError(
                f"{owner}: {int(bad.sum()):,} of {len(values):,} values in column {col!r} are "
                f"NaN or infinite (e.g. {examples}); drop or fill those customers first",
                reason="non_finite_value",
            )
        out[:, j] = values
    index = X.index if X.index.name is not None else X.index.rename("customer_id")
    return out, index


#: The dtypes of the pandas frame a segmenter's ``transform`` returned, for the wrapper
#: around scikit-learn's ``set_output`` (which sees only the converted frame).
_RETURNED_DTYPES: ContextVar[pd.Series | None] = ContextVar(
    "custintel_segment_dtypes", default=None
)


def _recording_dtypes(transform: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a segmenter's own ``transform``: note the dtypes of the frame it returns."""

    @functools.wraps(transform)
    def recorded(self: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
        out = transform(self, X, *args, **kwargs)
        if isinstance(out, pd.DataFrame):
            _RETURNED_DTYPES.set(out.dtypes)
        return out

    return recorded


def _keeping_categories(transform: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap scikit-learn's ``set_output`` wrapper: Polars output keeps pandas categories."""

    @functools.wraps(transform)
    def kept(self: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
        token = _RETURNED_DTYPES.set(None)
        try:
            out = transform(self, X, *args, **kwargs)
            dtypes = _RETURNED_DTYPES.get()
        finally:
            _RETURNED_DTYPES.reset(token)
        if dtypes is None or isinstance(out, pd.DataFrame):
            return out
        return keep_categories(out, dtypes)

    return kept


class Segmenter(TransformerMixin, BaseEstimator):
    """Base class of the segmenters: a transformer whose output columns are fixed.

    A subclass names its output columns in :attr:`output_columns` and calls
    :meth:`_remember_columns` at the end of ``fit``.

    ``set_output(transform="polars")`` returns each categorical column
    (segment, tier, stage) as a ``polars.Enum`` of all its categories, in
    their order, as the pandas output has them; scikit-learn's own conversion
    would keep only the categories present, in order of appearance. Methods
    that read their own ``transform`` output call the subclass's
    ``_transform``, which returns pandas whatever the output setting.
    """

    #: The columns ``transform`` returns, in order.
    output_columns: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        own = "transform" in cls.__dict__
        if own:
            cls.transform = _recording_dtypes(cls.__dict__["transform"])
        super().__init_subclass__(**kwargs)  # scikit-learn wraps transform for set_output
        if own:
            cls.transform = _keeping_categories(cls.__dict__["transform"])

    def _remember_columns(self, X: pd.DataFrame) -> None:
        """Record the fitted table's columns, as scikit-learn's ``feature_names_in_``."""
        self.n_features_in_ = len(X.columns)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return the names of the columns ``transform`` returns.

        Parameters
        ----------
        input_features : None
            Ignored: the output columns do not depend on the input's.

        Returns
        -------
        numpy.ndarray
            :attr:`output_columns`, ``object`` dtype.
        """
        return np.asarray(self.output_columns, dtype=object)


class ExportedSegmenter(Segmenter):
    """A segmenter with a plain-JSON export: :meth:`to_dict` and :meth:`from_dict`.

    A subclass lists its fitted fields in :attr:`export_fields`, writes them
    with :meth:`_export` and reads them back in :meth:`_from_export`.
    """

    #: The fitted fields of the export, between ``hyperparameters`` and ``feature_names_in``.
    export_fields: ClassVar[tuple[str, ...]] = ()

    def _export(self, fields: Mapping[str, Any], **hyperparameters: Any) -> dict[str, Any]:
        """Return the export: the header, the fitted ``fields``, then the fitted columns.

        ``hyperparameters`` are those already turned into JSON data (see
        :func:`custintel.export.export_header`).
        """
        return {
            **export_header(self, EXPORT_FORMAT, **hyperparameters),
            **fields,
            "feature_names_in": [str(c) for c in self.feature_names_in_],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> Self:
        """Rebuild a fitted segmenter from :meth:`to_dict` output (or its JSON text).

        Every field is checked before use, as :meth:`to_dict` describes: its
        presence, its type and its domain; nothing in the export is looked up
        by name or executed.

        Parameters
        ----------
        data : mapping or str
            The export, or its JSON text.

        Returns
        -------
        segmenter
            A fitted segmenter of this class whose output equals the exported one's.

        Raises
        ------
        InvalidModelError
            With a ``reason`` of :mod:`custintel.export`: ``"wrong_model"``,
            ``"bad_format_version"``, ``"missing_field"``, ``"unknown_field"``
            or ``"bad_parameter"``.
        """
        reader, export, hyperparameters = open_export(cls, data, cls.export_fields)
        return cls._from_export(reader, export, hyperparameters)

    @classmethod
    def _from_export(
        cls, read: ExportReader, export: Mapping[str, Any], hyper: Mapping[str, Any]
    ) -> Self:
        """Build the fitted segmenter from an export whose envelope is checked."""
        raise NotImplementedError

    def _read_columns(self, read: ExportReader, value: Any, required: Sequence[str]) -> np.ndarray:
        """Read and set the fitted columns, ``feature_names_in``, which hold ``required``."""
        names = read.feature_names(value, "feature_names_in", required)
        self.n_features_in_ = len(names)
        self.feature_names_in_ = names
        return names


def open_export(
    cls: type, data: Any, fields: Sequence[str]
) -> tuple[ExportReader, Mapping[str, Any], Mapping[str, Any]]:
    """Check a segmenter export's envelope and the names of its hyperparameters.

    Parameters
    ----------
    cls : type
        The segmenter class (its name is the export's ``model``).
    data : mapping or str
        The export, or its JSON text.
    fields : sequence of str
        The fitted fields between ``hyperparameters`` and ``feature_names_in``.

    Returns
    -------
    reader : ExportReader
        The reader, for the fields' values.
    export : mapping
        The export.
    hyperparameters : mapping
        Its ``hyperparameters``, exactly the segmenter's parameters (values unchecked).

    Raises
    ------
    InvalidModelError
        As :meth:`custintel.export.ExportReader.envelope`.
    """
    reader = ExportReader(f"{cls.__name__}.from_dict", fix=_FIX)
    export = reader.envelope(
        data,
        model=cls.__name__,
        versions=(EXPORT_FORMAT,),
        required=("hyperparameters", *fields, "feature_names_in"),
    )
    hyperparameters = reader.keys(
        export["hyperparameters"], "hyperparameters", required=list(cls().get_params(deep=False))
    )
    return reader, export, hyperparameters
