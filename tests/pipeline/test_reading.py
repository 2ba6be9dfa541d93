"""read_transactions on raw exports: separators, decimal commas, encodings, dates, Excel."""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import os
from pathlib import Path

import pandas as pd
import pytest

from custintel.exceptions import SchemaError
from custintel.pipeline import read_transactions
from custintel.pipeline._reading import csv_options, sniff_decimal, sniff_separator

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ONLINE_RETAIL = DATA / "online_retail.csv.gz"
HAS_EXCEL_WRITER = importlib.util.find_spec("openpyxl") is not None
needs_excel = pytest.mark.skipif(
    not HAS_EXCEL_WRITER, reason="openpyxl (the test extra) writes the test workbooks"
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- separators and decimal marks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        # the commas are inside quotes; only the semicolon splits every line evenly
        ('a;b\n"x, y";1\n"z, w";2\n', ";"),
        # one column: nothing splits the header
        ("amount\n1\n2\n", ","),
        # a decimal comma in a semicolon file does not make it comma-separated:
        # 2 fields per line with ';', but 3 then 2 with ','
        ("id;amount\n1;2,5\n2;3\n", ";"),
    ],
)
def test_sniff_separator(text: str, expected: str) -> None:
    assert sniff_separator(text) == expected


def test_sniff_decimal() -> None:
    assert sniff_decimal("id;amount\n1;2,5\n2;-0,75\n", ";") == ","
    assert sniff_decimal("id;amount\n1;2.5\n2;0,75\n", ";") == "."  # mixed: not sure, keep "."
    assert sniff_decimal("id;amount\n1;2\n", ";") == "."  # no fractions at all
    assert sniff_decimal('id,amount\n1,"2,5"\n', ",") == "."  # a comma file: never
    assert sniff_decimal("id\tamount\n1\t2,5\n", "\t") == ","


def test_semicolon_and_decimal_comma(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "export.csv",
        "Kunde;Datum;Umsatz;Menge\n007;2024-01-02;12,50;1\n8;2024-01-03;-3,25;2\n",
    )
    frame = read_transactions(source, text_columns=["Kunde"])
    assert list(frame.columns) == ["Kunde", "Datum", "Umsatz", "Menge"]
    assert frame["Kunde"].tolist() == ["007", "8"]  # ids are text: the leading zero stays
    assert frame["Umsatz"].tolist() == [12.5, -3.25]
    assert frame["Menge"].tolist() == [1, 2]
    # an explicit decimal wins over the sniffing: with '.' the amounts stay text
    as_text = read_transactions(source, decimal=".")
    assert as_text["Umsatz"].tolist() == ["12,50", "-3,25"]


def test_tab_and_pipe_and_explicit_separator(tmp_path: Path) -> None:
    tab = _write(tmp_path / "export.tsv", "cust\tdate\tamount\na\t2024-01-02\t1.5\n")
    assert read_transactions(tab)["amount"].tolist() == [1.5]
    assert read_transactions(tab, sep="tab")["cust"].tolist() == ["a"]
    assert read_transactions(tab, sep="\\t")["cust"].tolist() == ["a"]
    pipe = _write(tmp_path / "export.txt", "cust|date|amount\na|2024-01-02|2\n")
    assert read_transactions(pipe)["amount"].tolist() == [2]
    # a wrong separator given explicitly is used as given: one column
    assert list(read_transactions(pipe, sep=",").columns) == ["cust|date|amount"]
    with pytest.raises(ValueError, match="not a one-character column separator"):
        read_transactions(pipe, sep=";;")
    with pytest.raises(ValueError, match="is also the column separator"):
        read_transactions(pipe, sep=",", decimal=",")


def test_csv_options_reports_what_it_found(tmp_path: Path) -> None:
    source = _write(tmp_path / "x.csv", "a;b\n1;2,5\n")
    assert csv_options(source) == {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"}
    assert csv_options(source, sep=";", decimal=".", encoding="latin-1") == {
        "sep": ";",
        "decimal": ".",
        "encoding": "latin-1",
    }


# --- encodings ---------------------------------------------------------------------------


def test_utf8_byte_order_mark(tmp_path: Path) -> None:
    source = tmp_path / "excel-export.csv"
    source.write_bytes(b"\xef\xbb\xbfcustomer_id;amount\n1;2,5\n")
    frame = read_transactions(source)
    assert list(frame.columns) == ["customer_id", "amount"]  # not "\ufeffcustomer_id"
    assert frame["amount"].tolist() == [2.5]


def test_latin1_file_is_refused_with_its_line_and_the_encoding_to_try(tmp_path: Path) -> None:
    # "£" in latin-1 is the single byte 0xa3, not UTF-8; it is on line 3
    source = _write(tmp_path / "x.csv", "cust,item,amount\na,tea,1\nb,£ box,2\n", "latin-1")
    with pytest.raises(SchemaError, match="pass encoding='latin-1'") as caught:
        read_transactions(source)
    assert caught.value.reason == "bad_encoding"
    assert "byte 0xa3 on line 3 cannot be decoded" in str(caught.value)
    frame = read_transactions(source, encoding="latin-1")
    assert frame["item"].tolist() == ["tea", "£ box"]
    with pytest.raises(ValueError, match="not a known text encoding"):
        read_transactions(source, encoding="no-such-codec")


def test_bad_byte_beyond_the_sniffed_sample(tmp_path: Path) -> None:
    # The first 64 KiB decode; the bad byte is far below them, on line 5,002.
    lines = ["cust,amount", *(f"c{i},1" for i in range(5000)), "d\xe9j\xe0,2"]
    source = _write(tmp_path / "x.csv", "\n".join(lines) + "\n", "latin-1")
    with pytest.raises(SchemaError, match="on line 5,002 cannot be decoded"):
        read_transactions(source)


def test_binary_file_is_not_text(tmp_path: Path) -> None:
    source = tmp_path / "x.csv"
    source.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SchemaError, match="binary data"):
        read_transactions(source)


# --- compressed files and line numbers ------------------------------------------------------


def test_gzip_and_bz2(tmp_path: Path) -> None:
    text = "cust;amount\n007;1,5\n"
    for suffix, opener in ((".gz", gzip.open), (".bz2", bz2.open)):
        source = tmp_path / f"x.csv{suffix}"
        with opener(source, "wt", encoding="utf-8") as handle:
            handle.write(text)
        frame = read_transactions(source, text_columns=["cust"])
        assert frame["cust"].tolist() == ["007"] and frame["amount"].tolist() == [1.5]
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(SchemaError, match="cannot read"):
        read_transactions(broken)


def test_rows_are_indexed_by_their_file_line(tmp_path: Path) -> None:
    # header = line 1; a blank line (4) is left out but the lines after it keep their number
    source = _write(tmp_path / "x.csv", "cust,amount\na,1\nb,2\n\nc,3\n")
    frame = read_transactions(source)
    assert frame.index.name == "line"
    assert frame.index.tolist() == [2, 3, 5]
    assert frame["cust"].tolist() == ["a", "b", "c"]


def test_line_numbers_with_quoted_line_breaks(tmp_path: Path) -> None:
    # the record of line 3 spans lines 3 and 4, so the next record is on line 5
    source = _write(tmp_path / "x.csv", 'cust,note\na,plain\nb,"two\nlines"\nc,last\n')
    frame = read_transactions(source)
    assert frame.index.tolist() == [2, 3, 5]
    assert frame.loc[3, "note"] == "two\nlines"


def test_ids_with_leading_zeros_stay_text(tmp_path: Path) -> None:
    source = _write(tmp_path / "x.csv", "cust,order,amount\n007,0012,1\n7,12,2\n,13,3\n")
    frame = read_transactions(source, text_columns=["cust", "order", "not-there"])
    assert frame["cust"].tolist()[:2] == ["007", "7"]
    assert pd.isna(frame["cust"].iloc[2])  # an empty id stays missing
    assert frame["order"].tolist() == ["0012", "12", "13"]


# --- dates ----------------------------------------------------------------------------------


def test_dayfirst_dates(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "x.csv", "cust;date;amount\na;03/04/2011 08:26;1\nb;13/04/2011 09:00;2\n"
    )
    parsed = read_transactions(source, dayfirst=True, date_columns=["date", "absent"])
    assert parsed["date"].tolist() == [
        pd.Timestamp("2011-04-03 08:26"),
        pd.Timestamp("2011-04-13 09:00"),
    ]
    # without dayfirst the dates stay text, for validation to parse and to warn about
    assert read_transactions(source, date_columns=["date"])["date"].tolist() == [
        "03/04/2011 08:26",
        "13/04/2011 09:00",
    ]


def test_dayfirst_with_mixed_formats(tmp_path: Path) -> None:
    # the second value has seconds: a format of its own, still day first
    source = _write(tmp_path / "x.csv", "d\n03/04/2011 8:26\n04/05/2011 10:00:30\n05.06.2011\n")
    parsed = read_transactions(source, dayfirst=True, date_columns=["d"])["d"]
    assert parsed.tolist() == [
        pd.Timestamp("2011-04-03 08:26"),
        pd.Timestamp("2011-05-04 10:00:30"),
        pd.Timestamp("2011-06-05"),
    ]


def test_dayfirst_refuses_month_first_dates_and_non_dates_with_their_line(
    tmp_path: Path,
) -> None:
    # 12/13/2010 is month first: dateutil would quietly read it so although dayfirst=True
    source = _write(tmp_path / "x.csv", "d,amount\n01/12/2010 8:26,1\n12/13/2010 9:02,2\nsoon,3\n")
    with pytest.raises(SchemaError, match="not day-first dates") as caught:
        read_transactions(source, dayfirst=True, date_columns=["d"])
    message = str(caught.value)
    assert "2 of 3 values" in message
    assert "line 3: '12/13/2010 9:02', line 4: 'soon'" in message
    assert "leave out dayfirst=True" in message
    assert caught.value.failure_cases["line"].tolist() == [3, 4]


# --- other formats and bad files ------------------------------------------------------------


def test_parquet_keeps_its_types_and_a_row_index(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    source = tmp_path / "x.parquet"
    pd.DataFrame({"cust": ["007"], "date": ["03/04/2011"], "amount": [1.5]}).to_parquet(source)
    frame = read_transactions(source, dayfirst=True, date_columns=["date"])
    assert frame.index.tolist() == [0]
    assert frame["date"].tolist() == [pd.Timestamp("2011-04-03")]


def test_missing_empty_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        read_transactions(tmp_path / "nope.csv")
    with pytest.raises(SchemaError, match="is a folder"):
        read_transactions(tmp_path)
    with pytest.raises(SchemaError, match="is empty"):
        read_transactions(_write(tmp_path / "empty.csv", ""))
    with pytest.raises(SchemaError, match=r"use a \.csv") as caught:
        read_transactions(_write(tmp_path / "x.json", "{}"))
    assert caught.value.reason == "unsupported_format"


@needs_excel
def test_excel_sheet_rows_text_ids_and_sheets(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sales"
    sheet.append(["cust", "date", "amount"])
    sheet.append(["007", "03/04/2011", 1.5])  # sheet row 2
    sheet.append([])  # a blank row 3 is left out
    sheet.append([17850, "13/04/2011", 2])  # a number as id: read as "17850"
    other = book.create_sheet("Returns")
    other.append(["cust", "date", "amount"])
    other.append(["x", "2011-05-01", -1])
    source = tmp_path / "export.xlsx"
    book.save(source)

    frame = read_transactions(source, text_columns=["cust"], dayfirst=True, date_columns=["date"])
    assert frame.index.name == "row" and frame.index.tolist() == [2, 4]
    assert frame["cust"].tolist() == ["007", "17850"]
    assert frame["date"].tolist() == [pd.Timestamp("2011-04-03"), pd.Timestamp("2011-04-13")]
    assert read_transactions(source, sheet="Returns")["amount"].tolist() == [-1]
    assert read_transactions(source, sheet=1)["cust"].tolist() == ["x"]
    with pytest.raises(SchemaError, match=r"no sheet 'Sheet9'; its sheets are \['Sales', 'Ret"):
        read_transactions(source, sheet="Sheet9")
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a workbook")
    with pytest.raises(SchemaError, match="cannot read"):
        read_transactions(broken)


def test_excel_without_a_reader_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def no_excel(name: str, *args: object, **kwargs: object) -> object:
        if name in ("python_calamine", "openpyxl", "xlrd"):
            return None
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", no_excel)
    source = tmp_path / "x.xlsx"
    source.write_bytes(b"PK")
    with pytest.raises(ImportError, match=r"pip install 'custintel\[excel\]'"):
        read_transactions(source)


def test_online_retail_file() -> None:
    """The UCI file reads as the seller wrote it: 541,909 lines, text ids, line numbers."""
    if not ONLINE_RETAIL.exists():
        if os.environ.get("CI") == "true":
            raise FileNotFoundError(f"{ONLINE_RETAIL} is missing, but CI must have it")
        pytest.skip(f"shared data absent ({ONLINE_RETAIL}); it is present in CI")
    ids = ["CustomerID", "InvoiceNo", "StockCode"]
    frame = read_transactions(ONLINE_RETAIL, text_columns=ids, date_columns=["InvoiceDate"])
    assert len(frame) == 541_909
    assert frame.index[0] == 2 and frame.index[-1] == 541_910
    assert frame["CustomerID"].isna().sum() == 135_080
    assert frame["InvoiceNo"].str.startswith("C").sum() == 9_288
    assert (frame["Quantity"] < 0).sum() == 10_624
    # its dates are month first: --dayfirst is refused, with the first line that shows it
    with pytest.raises(SchemaError, match="not day-first dates"):
        read_transactions(
            ONLINE_RETAIL, text_columns=ids, dayfirst=True, date_columns=["InvoiceDate"]
        )


def test_a_ragged_file_is_explained_in_plain_words(tmp_path: Path) -> None:
    # A line with more fields than the first: pandas says "Error tokenizing data. C error";
    # the user hears which line, and the two usual causes (a basket list, a wrong separator).
    source = _write(tmp_path / "x.csv", "cust,amount\na,1\nb,2,3\n")
    with pytest.raises(SchemaError, match=r"line 3 has 3, the first line 2") as err:
        read_transactions(source)
    assert err.value.reason == "unreadable"
    assert "basket list" in str(err.value) and "sep=" in str(err.value)
    assert "C error" not in str(err.value) and "tokenizing" not in str(err.value)


def test_the_groceries_basket_list_is_not_taken_for_a_transaction_log() -> None:
    groceries = DATA / "groceries.csv"
    if not groceries.exists():
        if os.environ.get("CI") == "true":
            raise FileNotFoundError(f"{groceries} is missing, but CI must have it")
        pytest.skip(f"shared data absent ({groceries}); it is present in CI")
    with pytest.raises(SchemaError, match=r"line 6 has 5, the first line 4\)\. A basket list"):
        read_transactions(groceries)
