"""Spreadsheet input: CSV / TSV (as Excel and WPS export them: UTF-8 with a BOM, or GB18030 with
``--encoding gb18030``) and ``.xlsx`` (first sheet; needs the ``[xlsx]`` extra, openpyxl).

The first row is the header; every later row becomes a dict of column -> text, which the format
detection then reads like any JSON row: ``instruction/input/output`` columns are Alpaca,
``prompt/completion`` are prompt-completion, and other headers are mapped with ``--map``
(``--map instruction=问题 --map output=答案``). A cell that holds a JSON list (a ``messages`` or
``conversations`` column) is decoded, so a chat exported to a sheet reads back as chat.
Row numbers in messages are the spreadsheet's own (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterator

import orjson

from curator.errors import UsageError
from curator.raw_row import RawRow

TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx")
_JSON_COLUMNS = ("messages", "conversations", "tools", "turns")


def _cell(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 42 as 42.0
    if not isinstance(value, str):
        return str(value)
    if key in _JSON_COLUMNS and value.lstrip()[:1] in ("[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _rows(header: list[Any], body: Iterator[tuple[int, list[Any]]], p: Path) -> Iterator[RawRow]:
    keys = [str(h).strip().lstrip("\ufeff") if h is not None else "" for h in header]
    if not any(keys):
        raise UsageError(f"{p}: the first row (the header) is empty — put column names such as "
                         f"instruction, input, output in row 1")
    for n, cells in body:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # blank rows between blocks are layout, not data
        row = {k: _cell(k, v) for k, v in zip(keys, cells) if k}
        yield RawRow(n, row)


def _iter_csv(p: Path, encoding: str | None) -> Iterator[RawRow]:
    enc = encoding or "utf-8-sig"
    if enc.lower().replace("_", "-") in ("utf-8", "utf8"):
        enc = "utf-8-sig"  # spreadsheets write a BOM; it must not stick to the first column's name
    try:
        text = p.read_bytes().decode(enc)
    except UnicodeDecodeError as e:
        raise UsageError(f"{p}: not valid {enc} at byte {e.start} — a CSV saved by Excel on Chinese Windows is "
                         f"usually GB18030: pass --encoding gb18030") from None
    delim = "\t" if p.name.lower().endswith(".tsv") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader, None)
        if header is None:
            return
        prev_end = reader.line_num

        def body() -> Iterator[tuple[int, list[Any]]]:
            nonlocal prev_end
            for cells in reader:
                start, prev_end = prev_end + 1, reader.line_num
                yield start, cells

        yield from _rows(header, body(), p)
    except csv.Error as e:
        raise UsageError(f"{p}: line {reader.line_num}: not valid CSV ({e})") from None


def _iter_xlsx(p: Path) -> Iterator[RawRow]:
    try:
        import openpyxl
    except ImportError:
        raise UsageError(f"{p}: reading .xlsx needs openpyxl: pip install 'sft-curator[xlsx]' "
                         f"(or save the sheet as CSV UTF-8)") from None
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # zipfile/openpyxl raise several types for a damaged file
        raise UsageError(f"{p}: not a readable .xlsx file ({e})") from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        yield from _rows(list(header), ((n, list(r)) for n, r in enumerate(rows, 2)), p)
    finally:
        wb.close()


def iter_table(p: Path, encoding: str | None = None) -> Iterator[RawRow]:
    """Raw rows of a .csv, .tsv or .xlsx file (header = row 1)."""
    if p.name.lower().endswith(".xlsx"):
        yield from _iter_xlsx(p)
    else:
        yield from _iter_csv(p, encoding)
