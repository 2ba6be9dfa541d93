"""Read a raw transaction export: CSV (plain or compressed), Parquet or Excel.

Real exports come as the tool that wrote them left them: semicolons and
decimal commas from a European spreadsheet, tabs, a UTF-8 byte-order mark,
Windows code pages, day-first dates, an Excel workbook. :func:`read_transactions`
reads them into one pandas frame without guessing silently: the separator and
the decimal mark are sniffed from the first lines (and can be given), ids are
read as text, an undecodable byte is reported with its line and the encoding
to try, and CSV rows carry their file line number so that a bad value is
reported where it is in the file.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from custintel.exceptions import SchemaError

__all__ = [
    "EXCEL_SUFFIXES",
    "SEPARATORS",
    "csv_options",
    "read_transactions",
    "sniff_decimal",
    "sniff_separator",
]

#: Separators tried when none is given, in order of preference on a tie.
SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")
#: Suffixes read as Excel (or OpenDocument) workbooks.
EXCEL_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")
_OPENERS: dict[str, Any] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
#: Bytes read to sniff the separator and the decimal mark.
_SAMPLE_BYTES = 1 << 16
_COMMA_DECIMAL = re.compile(r"^\s*[-+]?\d*,\d+\s*$")
_POINT_DECIMAL = re.compile(r"^\s*[-+]?\d*\.\d+\s*$")
_EXCEL_HINT = "pip install 'custintel[excel]'"

# pandas 2's default CSV float parser can be one ulp off, enough to flip a tree split
# between a CSV and the in-memory frame it was written from; pandas 3 parses exactly by
# default and deprecates the option.
EXACT_FLOATS: dict[str, Any] = (
    {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
)


#: The C parser's message for a line with more fields than the first.
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _compression(file: Path) -> str | None:
    suffix = file.suffix.lower()
    return suffix if suffix in _OPENERS else None


def _format(file: Path) -> str:
    """``"csv"``, ``"parquet"``, ``"excel"`` or ``""`` (unknown) from the file name."""
    compressed = _compression(file) is not None
    inner = Path(file.stem).suffix.lower() if compressed else file.suffix.lower()
    if inner in _PARQUET_SUFFIXES and not compressed:
        return "parquet"
    if inner in EXCEL_SUFFIXES and not compressed:
        return "excel"
    if inner in _CSV_SUFFIXES or (compressed and inner not in _PARQUET_SUFFIXES + EXCEL_SUFFIXES):
        return "csv"
    return ""


def _open_binary(file: Path) -> IO[bytes]:
    opener = _OPENERS.get(_compression(file) or "", open)
    handle: IO[bytes] = opener(file, "rb")
    return handle


def _encoding(encoding: str | None) -> str:
    """Return the codec to read with; UTF-8 also accepts (and drops) a byte-order mark."""
    name = encoding or "utf-8"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise ValueError(
            f"encoding={name!r} is not a known text encoding; use e.g. encoding='utf-8', "
            "encoding='latin-1' or encoding='cp1252'"
        ) from None
    return "utf-8-sig" if codec == "utf-8" else name


def _separator(sep: str | None) -> str | None:
    if sep is None:
        return None
    sep = _SEPARATOR_NAMES.get(sep.lower(), sep)
    if len(sep) != 1 or sep in "\"'\r\n":
        raise ValueError(
            f"sep={sep!r} is not a one-character column separator; use e.g. sep=',', "
            "sep=';', sep='tab' or sep='|'"
        )
    return sep


def _decimal(decimal: str | None, sep: str) -> str | None:
    if decimal is None:
        return None
    if decimal not in (".", ","):
        raise ValueError(f"decimal={decimal!r} must be '.' or ','")
    if decimal == sep:
        raise ValueError(
            f"decimal={decimal!r} is also the column separator; pass another sep, e.g. sep=';'"
        )
    return decimal


def _undecodable(err: UnicodeDecodeError, line: int | None, encoding: str) -> str:
    shown = "utf-8" if encoding == "utf-8-sig" else encoding
    byte = err.object[err.start : err.start + 1].hex()
    where = f" on line {line:,}" if line is not None else ""
    return (
        f"it is not {shown} text: byte 0x{byte}{where} cannot be decoded; it was probably "
        "saved in another encoding: pass encoding='latin-1' (or encoding='cp1252' for files "
        "saved by Excel on Windows)"
    )


def _first_undecodable(file: Path, encoding: str) -> tuple[UnicodeDecodeError, int] | None:
    """Find the first byte that does not decode, with its line number (bounded memory)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 1
    with _open_binary(file) as handle:
        while True:
            block = handle.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:
                return err, lines + block[: err.start].count(b"\n")
            if not block:
                return None
            lines += block.count(b"\n")


def _sample(file: Path, encoding: str) -> str:
    """Return the first complete lines of a text file, decoded."""
    with _open_binary(file) as handle:
        raw = handle.read(_SAMPLE_BYTES)
        complete = len(raw) < _SAMPLE_BYTES
    if b"\x00" in raw and not encoding.lower().startswith(("utf-16", "utf-32", "utf16", "utf32")):
        raise SchemaError(
            f"cannot read {str(file)!r}: it holds binary data (NUL bytes), not text; check "
            "that it is a CSV file (or pass its encoding, e.g. encoding='utf-16')",
            reason="unreadable",
        )
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    text = decoder.decode(raw, final=complete)
    if not complete:
        text = text[: max(text.rfind("\n"), 0)]  # the last line may be cut
    return text


def _rows(text: str, sep: str) -> list[list[str]]:
    try:
        return [row for row in csv.reader(io.StringIO(text), delimiter=sep) if row]
    except csv.Error:
        return []


def sniff_separator(text: str) -> str:
    r"""Guess the column separator of CSV text: ``,``, ``;``, tab or ``|``.

    The separator that splits the header into the most columns, every line
    into the same number of fields, wins; a separator that splits the lines
    unevenly counts only when no other splits them evenly. Quoted fields
    are respected.

    Parameters
    ----------
    text : str
        The first lines of the file, header first.

    Returns
    -------
    str
        One of :data:`SEPARATORS`; ``","`` when nothing splits the header.

    Examples
    --------
    >>> sniff_separator("id;date;amount\n1;2024-01-02;1,5\n")
    ';'
    >>> sniff_separator('id,name\n1,"a; b"\n')
    ','
    """
    best: tuple[bool, int, int] | None = None
    chosen = ","
    for rank, sep in enumerate(SEPARATORS):
        rows = _rows(text, sep)
        if not rows or len(rows[0]) < 2:
            continue
        even = all(len(row) == len(rows[0]) for row in rows)
        score = (even, len(rows[0]), -rank)
        if best is None or score > best:
            best, chosen = score, sep
    return chosen


def sniff_decimal(text: str, sep: str) -> str:
    r"""Guess the decimal mark of CSV text: ``","`` when numbers look like ``1,5``.

    Only a file whose separator is not a comma can have a decimal comma. It
    is taken when some fields look like ``1,5`` and none like ``1.5``.

    Parameters
    ----------
    text : str
        The first lines of the file, header first.
    sep : str
        The column separator.

    Returns
    -------
    str
        ``","`` or ``"."``.

    Examples
    --------
    >>> sniff_decimal("id;amount\n1;2,50\n2;3\n", ";")
    ','
    >>> sniff_decimal("id;amount\n1;2.50\n", ";")
    '.'
    """
    if sep == ",":
        return "."
    fields = [field for row in _rows(text, sep)[1:] for field in row]
    commas = any(_COMMA_DECIMAL.match(field) for field in fields)
    points = any(_POINT_DECIMAL.match(field) for field in fields)
    return "," if commas and not points else "."


def csv_options(
    path: str | Path,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> dict[str, str]:
    r"""Choose the ``sep``, ``decimal`` and ``encoding`` of a CSV file, sniffed where not given.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV file, optionally compressed (``.gz``, ``.bz2``, ``.xz``).
    sep : str, optional
        Column separator; default: sniffed (:func:`sniff_separator`). ``"tab"``
        and ``"\t"`` name the tab.
    decimal : {".", ","}, optional
        Decimal mark; default: sniffed (:func:`sniff_decimal`).
    encoding : str, optional
        Text encoding; default UTF-8, with or without a byte-order mark.

    Returns
    -------
    dict
        Keyword arguments for :func:`pandas.read_csv`.

    Raises
    ------
    SchemaError
        ``reason="bad_encoding"`` when the first lines do not decode, with the
        line and the encoding to try.
    """
    file = Path(path)
    codec = _encoding(encoding)
    given = _separator(sep)
    if given is not None and decimal is not None:
        return {"sep": given, "decimal": _decimal(decimal, given) or ".", "encoding": codec}
    try:
        text = _sample(file, codec)
    except UnicodeDecodeError as err:
        found = _first_undecodable(file, codec)
        line = found[1] if found else None
        raise SchemaError(
            f"cannot read {str(file)!r}: {_undecodable(err, line, codec)}", reason="bad_encoding"
        ) from err
    chosen = given or sniff_separator(text)
    mark = _decimal(decimal, chosen) or sniff_decimal(text, chosen)
    return {"sep": chosen, "decimal": mark, "encoding": codec}


def _count_lines(file: Path) -> int:
    """Count the lines of a (compressed) text file in bounded memory."""
    lines, last = 0, b"\n"
    with _open_binary(file) as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _record_lines(file: Path, options: dict[str, str]) -> np.ndarray | None:
    """Return the file line each CSV record starts on (header excluded), quoted newlines too."""
    starts: list[int] = []
    with _open_binary(file) as raw:
        text = io.TextIOWrapper(raw, encoding=options["encoding"], newline="")
        reader = csv.reader(text, delimiter=options["sep"])
        try:
            next(reader)  # the header
            previous = reader.line_num
            for _ in reader:
                starts.append(previous + 1)
                previous = reader.line_num
        except (csv.Error, UnicodeDecodeError, StopIteration):
            return None
    return np.asarray(starts, dtype=np.int64)


def _line_index(file: Path, n_rows: int, options: dict[str, str]) -> pd.Index | None:
    """Index rows by their file line (header = line 1); None when they cannot be matched."""
    if _count_lines(file) == n_rows + 1:  # one line per record: the common case
        return pd.RangeIndex(2, n_rows + 2, name="line")
    starts = _record_lines(file, options)
    if starts is None or len(starts) != n_rows:
        return None
    return pd.Index(starts, name="line")


def _drop_empty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop blank lines (or sheet rows): rows with no value at all."""
    empty = frame.isna().all(axis=1).to_numpy()
    return frame[~empty] if empty.any() else frame


def _read_csv(
    file: Path,
    text_columns: Sequence[str],
    sep: str | None,
    decimal: str | None,
    encoding: str | None,
) -> pd.DataFrame:
    options = csv_options(file, sep=sep, decimal=decimal, encoding=encoding)
    dtype = dict.fromkeys(text_columns, str)
    try:
        # Blank lines are kept while reading so that row i is still line i + 2.
        frame = pd.read_csv(
            file,
            dtype=dtype or None,
            keep_default_na=True,
            skip_blank_lines=False,
            **options,
            **EXACT_FLOATS,
        )
    except UnicodeDecodeError as err:
        found = _first_undecodable(file, options["encoding"])
        bad, line = found if found else (err, None)
        raise SchemaError(
            f"cannot read {str(file)!r}: {_undecodable(bad, line, options['encoding'])}",
            reason="bad_encoding",
        ) from err
    index = _line_index(file, len(frame), options)
    if index is not None:
        frame.index = index
    if options["decimal"] == ",":
        frame = _comma_numbers_as_points(frame, text_columns)
    return _drop_empty_rows(frame)


_COMMA_NUMBER = r"^\s*[-+]?\d+(?:,\d+)?\s*$"


def _comma_numbers_as_points(frame: pd.DataFrame, text_columns: Sequence[str]) -> pd.DataFrame:
    """Write ``1,5`` as ``1.5`` in number columns that pandas left as text.

    One bad value (``abc``) makes pandas read a whole column as text, and then
    ``1,5`` would be reported as bad too; with the comma turned into a point
    validation reports only the values that are really no number. Only
    columns whose values are mostly such numbers are touched.
    """
    text = set(text_columns)
    for column in frame.columns:
        values = frame[column]
        if column in text or not (
            ptypes.is_object_dtype(values.dtype) or ptypes.is_string_dtype(values.dtype)
        ):
            continue
        present = values.dropna().astype(str)
        numbers = present.str.match(_COMMA_NUMBER)
        if len(present) and numbers.mean() >= 0.5:
            fixed = present.where(~numbers, present.str.replace(",", ".", regex=False))
            frame[column] = values.astype(object).where(values.isna(), fixed)
    return frame


def _excel_engine(file: Path) -> str | None:
    """Choose the engine for this workbook: calamine when installed, else pandas' default."""
    import importlib.util

    major, minor = (int(part) for part in pd.__version__.split(".")[:2])
    if (major, minor) >= (2, 2) and importlib.util.find_spec("python_calamine") is not None:
        return "calamine"  # pandas reads through calamine from 2.2 on
    default = {
        ".xls": "xlrd",
        ".xlsb": "pyxlsb",
        ".ods": "odf",
    }.get(file.suffix.lower(), "openpyxl")
    if importlib.util.find_spec(default) is None:
        raise ImportError(
            f"reading the Excel file {str(file)!r} needs python-calamine: {_EXCEL_HINT}, "
            "or save the sheet as CSV"
        )
    return None


def _read_excel(file: Path, text_columns: Sequence[str], sheet: str | int | None) -> pd.DataFrame:
    engine = _excel_engine(file)
    try:
        workbook = pd.ExcelFile(file, engine=engine)
    except ImportError as err:
        raise ImportError(
            f"reading the Excel file {str(file)!r} needs python-calamine: {_EXCEL_HINT} ({err})"
        ) from err
    with workbook:
        names = [str(name) for name in workbook.sheet_names]
        if sheet is None:
            chosen: str | int = 0
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not -len(names) <= sheet < len(names):
                raise SchemaError(
                    f"{str(file)!r} has {len(names)} sheets, so there is no sheet {sheet} "
                    f"(counting from 0); its sheets are {names}; pass sheet={names[0]!r}",
                    reason="no_sheet",
                )
            chosen = sheet
        elif str(sheet) in names:
            chosen = str(sheet)
        else:
            raise SchemaError(
                f"{str(file)!r} has no sheet {str(sheet)!r}; its sheets are {names}; pass "
                f"sheet={names[0]!r}",
                reason="no_sheet",
            )
        frame = pd.read_excel(
            workbook, sheet_name=chosen, dtype=dict.fromkeys(text_columns, str) or None
        )
    # Both engines start at the sheet's first row: data row i is sheet row i + 2.
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    return _drop_empty_rows(frame)


_DAY_MONTH = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?:\D|$)"


def _parse_dayfirst(values: pd.Series) -> pd.Series:
    """Parse text dates day first; raise for values that are no day-first date.

    The format is inferred from the values (``"%d/%m/%Y %H:%M"`` and the like);
    values of another format are parsed one by one, day first, and kept only
    when their day and month are where ``dd/mm`` puts them, so that
    ``12/13/2010`` is refused rather than read month first.
    """
    if ptypes.is_datetime64_any_dtype(values.dtype) or not (
        ptypes.is_object_dtype(values.dtype) or ptypes.is_string_dtype(values.dtype)
    ):
        return values
    text = values.astype(object).where(values.notna(), None)
    # Parse each distinct text once: an export repeats its timestamps on every line.
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques.astype(object))
    try:
        with warnings.catch_warnings():
            # "could not infer format": the one-by-one parse below handles those values
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.to_datetime(distinct, dayfirst=True, errors="coerce")
            failed = stamps.isna().to_numpy()
            if failed.any():
                retry = pd.to_datetime(
                    distinct[failed], dayfirst=True, format="mixed", errors="coerce"
                )
                merged = stamps.astype(object)
                merged[failed] = retry.astype(object)
                stamps = pd.to_datetime(merged)
    except (ValueError, TypeError):
        return values  # mixed UTC offsets and the like: validation explains them
    # pandas and dateutil read 12/13/2010 month first although dayfirst=True: refuse it
    parts = distinct.astype(str).str.extract(_DAY_MONTH)
    swapped = parts[0].notna() & (
        (parts[0].astype(float) != stamps.dt.day) | (parts[1].astype(float) != stamps.dt.month)
    )
    stamps[swapped.to_numpy()] = pd.NaT
    taken = np.where(codes >= 0, codes, 0)
    parsed = pd.Series(stamps.to_numpy()[taken], index=values.index, name=values.name)
    parsed[codes < 0] = pd.NaT
    bad = (parsed.isna() & text.notna()).to_numpy()
    if bad.any():
        where = values.index.name or "row"
        examples = ", ".join(
            f"{where} {label}: {value!r}" for label, value in text[bad].head(5).items()
        )
        raise SchemaError(
            f"column {values.name!r} has {int(bad.sum()):,} of {int(text.notna().sum()):,} "
            f"values that are not day-first dates ({examples}); fix them, or leave out "
            "dayfirst=True if the dates are month first",
            reason="unparseable_timestamp",
            failure_cases=pd.DataFrame(
                {where: text.index[bad], "column": values.name, "value": text[bad].to_numpy()}
            ),
        )
    return parsed


def read_transactions(
    path: str | Path,
    *,
    text_columns: Sequence[str] = (),
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    dayfirst: bool = False,
    date_columns: Sequence[str] = (),
    sheet: str | int | None = None,
) -> pd.DataFrame:
    r"""Read a CSV, Parquet or Excel transaction file, with a clear error for a bad file.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.csv`` (also ``.txt``, ``.tsv``; optionally compressed as ``.gz``,
        ``.bz2`` or ``.xz``), ``.parquet``, or an Excel workbook (``.xlsx``,
        ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``; needs the ``excel`` extra,
        ``pip install 'custintel[excel]'``).
    text_columns : sequence of str, default=()
        CSV and Excel columns read as text rather than guessed, typically the
        id columns (:func:`id_columns`), so that the customer ids ``007`` and
        ``7`` stay two customers and are written back as read. Empty fields
        stay missing. Names that are not in the file are ignored. Parquet
        files keep their own column types.
    sep : str, optional
        CSV column separator; default: sniffed from the first lines among
        ``,``, ``;``, tab and ``|``. ``"tab"`` names the tab.
    decimal : {".", ","}, optional
        CSV decimal mark; default ``","`` when the separator is not a comma
        and the numbers look like ``1,5``, else ``"."``.
    encoding : str, optional
        CSV text encoding; default UTF-8 (a byte-order mark is dropped). A file
        that is not UTF-8 is refused with the line of the first bad byte and
        the encoding to try, e.g. ``encoding="latin-1"``.
    dayfirst : bool, default=False
        Parse the ``date_columns`` day first (``03/04/2011`` is 3 April); a
        value that is no day-first date (``12/13/2010``, ``soon``) is refused
        with its line. With ``False`` text dates are left as text for
        validation to parse (month first when ambiguous, with a warning).
    date_columns : sequence of str, default=()
        The columns ``dayfirst`` applies to, typically the timestamp column.
    sheet : str or int, optional
        Excel sheet, by name or by position counting from 0; default: the
        first sheet.

    Returns
    -------
    pandas.DataFrame
        For a CSV file the index is the file line of each row (the header is
        line 1, the first data row line 2), named ``"line"``, so that errors
        point into the file (a file whose quoted fields hold line breaks that
        cannot be matched keeps a plain row number). For an Excel sheet the
        index is the sheet row, named ``"row"``. Blank lines and rows are
        left out. Parquet files keep a plain row number.

    Raises
    ------
    SchemaError
        When the file does not exist, is a folder, is empty, cannot be decoded
        (``reason="bad_encoding"``), read or parsed, has no such sheet, is not
        CSV, Parquet or Excel, or (with ``dayfirst``) has dates that are not
        day first (``reason="unparseable_timestamp"``).
    ImportError
        When pyarrow (Parquet) or the Excel reader is not installed; the
        message names the extra to install.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "sales.csv").write_text(
    ...     "cust;date;amount\n007;03/04/2011;1,5\n7;13/04/2011;2\n", encoding="utf-8"
    ... )
    >>> read_transactions(
    ...     folder / "sales.csv", text_columns=["cust"], dayfirst=True, date_columns=["date"]
    ... )
          cust       date  amount
    line
    2      007 2011-04-03     1.5
    3        7 2011-04-13     2.0
    """
    file = Path(path)
    if not file.exists():
        raise SchemaError(f"input file {str(file)!r} does not exist", reason="no_input")
    if file.is_dir():
        raise SchemaError(
            f"input {str(file)!r} is a folder; pass a .csv, .parquet or .xlsx file",
            reason="no_input",
        )
    kind = _format(file)
    try:
        if kind == "parquet":
            _require_pyarrow()
            frame = pd.read_parquet(file)
        elif kind == "csv":
            frame = _read_csv(file, text_columns, sep, decimal, encoding)
        elif kind == "excel":
            frame = _read_excel(file, text_columns, sheet)
        else:
            raise SchemaError(
                f"cannot read {str(file)!r}: use a .csv (or .csv.gz), .parquet or .xlsx file",
                reason="unsupported_format",
            )
    except pd.errors.EmptyDataError as err:
        raise SchemaError(
            f"input file {str(file)!r} is empty: it has no header and no rows", reason="empty"
        ) from err
    except pd.errors.ParserError as err:
        detail = " ".join(str(err).split())  # the C parser's message ends in a newline
        ragged = _RAGGED.search(detail)
        if ragged is not None:
            expected, line, seen = ragged.groups()
            raise SchemaError(
                f"cannot read {str(file)!r}: its rows have different numbers of fields (line "
                f"{line} has {seen}, the first line {expected}). A basket list (one basket per "
                "line, as Groceries) is not a transaction log: custintel needs one row per "
                "purchase line with a customer id and a date, and mines basket lists with "
                "custintel.basket.frequent_itemsets. Otherwise the separator may be wrong "
                "(pass sep=...) or a field may hold an unquoted separator",
                reason="unreadable",
            ) from err
        raise SchemaError(
            f"cannot read {str(file)!r}: {detail}; check that it is a valid {kind or 'data'} file",
            reason="unreadable",
        ) from err
    except (UnicodeDecodeError, OSError, EOFError) as err:
        detail = " ".join(str(err).split())
        raise SchemaError(
            f"cannot read {str(file)!r}: {detail}; check that it is a valid {kind or 'data'} file",
            reason="unreadable",
        ) from err
    except (SchemaError, ImportError, ValueError):
        raise
    except Exception as err:
        # pyarrow (ArrowInvalid), calamine (CalamineError), openpyxl, zipfile (BadZipFile)
        # raise their own errors for a corrupt file.
        module = type(err).__module__
        if module.startswith(("pyarrow", "python_calamine", "openpyxl", "xlrd", "zipfile")):
            raise SchemaError(
                f"cannot read {str(file)!r}: {err}; check that it is a valid "
                f"{'Parquet' if kind == 'parquet' else 'Excel'} file",
                reason="unreadable",
            ) from err
        raise
    if dayfirst:
        present = [c for c in date_columns if c in frame.columns]
        if present:
            frame = frame.copy() if kind == "parquet" else frame
            for column in present:
                frame[column] = _parse_dayfirst(frame[column])
    return frame


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "reading and writing Parquet files needs pyarrow: pip install 'custintel[parquet]'"
        ) from err
