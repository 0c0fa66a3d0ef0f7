"""Reading and writing records by file suffix.

Inputs: ``.jsonl`` / ``.jsonl.gz`` (streamed line by line: memory stays flat for any size),
``.json`` (a JSON array, loaded whole — say so to users with multi-GB arrays; a ``.json`` file
that is really JSONL is detected and streamed), ``.parquet`` (streamed in row batches), a Hugging
Face ``save_to_disk`` folder (its Arrow files read with pyarrow, so `datasets` is not needed), and
`datasets.Dataset` objects or any iterable of dicts in the Python API.

Every row is parsed, converted to a `Conversation` and validated here, so every command gets the
same row-level errors. A bad row goes to the `RejectSink` with file, line, reason and fix; it
never stops the run.
"""

from __future__ import annotations

import gzip
import io as _io
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Iterator

import orjson

from curator.atomic import AtomicFile, swap_folder, temp_prefix
from curator.errors import RowError, UsageError
from curator.formats import DEFAULT_READ, DEFAULT_WRITE, ReadOptions, WriteOptions, detect_format, get_format
from curator.raw_row import RawRow  # also imported from here (curator.engine.tasks)
from curator.record import Conversation
from curator.rejects import RejectSink
from curator.validate import first_problem, line_is_clean

PathLike = str | os.PathLike[str]
DATA_SUFFIXES = (".jsonl.gz", ".json.gz", ".jsonl", ".json", ".parquet")


# ---------------------------------------------------------------------------------- raw rows
def _is_hf_folder(p: Path) -> bool:
    return p.is_dir() and (p / "state.json").exists()


def describe_unit(path: PathLike) -> str:
    """'line' for JSONL, 'row' for arrays, Parquet and datasets — used in messages."""
    s = str(path)
    return "line" if s.endswith((".jsonl", ".jsonl.gz")) else "row"


def _decode_line(line: bytes, n: int, encoding: str | None) -> tuple[Any, RowError | None]:
    if not _is_utf8(encoding):
        try:
            line = line.decode(encoding).encode("utf-8")
        except (UnicodeDecodeError, LookupError) as e:
            return None, RowError("encoding", f"cannot decode with --encoding {encoding}: {e}",
                                  fix="check the file's encoding")
    try:
        return orjson.loads(line), None
    except orjson.JSONDecodeError as e:
        msg = str(e)
        if "utf-8" in msg.lower() or "surrogate" in msg.lower():
            bad = _first_bad_byte(line)
            return None, RowError("encoding", f"not valid UTF-8{bad}",
                                  fix="if the file is GB18030/GBK (common for Chinese data) pass --encoding gb18030")
        # The parser's "line 2 column 1" counts the line's own newline; in a JSONL file the
        # useful position is the column on this line.
        col = min(e.pos, len(line.rstrip(b"\r\n"))) + 1
        return None, RowError("invalid_json", f"invalid JSON at column {col}: {e.msg}",
                              fix="fix the JSON syntax on this line")


def _first_bad_byte(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f" (byte 0x{data[e.start]:02x} at column {e.start + 1})"
    return ""


def _is_utf8(encoding: str | None) -> bool:
    return not encoding or encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def _iter_jsonl(fh: Iterable[bytes], encoding: str | None, start: int = 1) -> Iterator[RawRow]:
    """Rows of JSON Lines; `start` is the line number of the first line (a byte range of a file)."""
    transcode = not _is_utf8(encoding)
    loads = orjson.loads
    for n, line in enumerate(fh, start):
        if not transcode:
            # Fast path (the hot loop of every command): parse first, ask questions on failure.
            try:
                row = loads(line)
            except orjson.JSONDecodeError:
                raw = jsonl_row(line, n, None)
                if raw is not None:
                    yield raw
                continue
            if type(row) is dict and type(row.get("id")) is float:
                row["id"] = _exact_id(line, row["id"])
            yield RawRow(n, row, None, None, line_is_clean(line))
        else:
            raw = jsonl_row(line, n, encoding)
            if raw is not None:
                yield raw


def jsonl_row(line: bytes, n: int, encoding: str | None) -> RawRow | None:
    """Line `n` of a JSON Lines file as a raw row (None for a blank line): the row, or the error
    that names what is wrong with the line. `_iter_jsonl` calls it for every line of another
    encoding than UTF-8 and for UTF-8 lines orjson could not parse; the plain-row path
    (`curator.engine.tasks`) for lines it leaves to the general path."""
    if n == 1 and line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    if not line.strip():
        return None
    row, err = _decode_line(line, n, encoding)
    if err is not None:
        return RawRow(n, None, err, line.decode("utf-8", "replace").rstrip("\r\n"))
    if not _is_utf8(encoding):
        line = line.decode(encoding).encode("utf-8")  # type: ignore[arg-type]
    if type(row) is dict and type(row.get("id")) is float:
        row["id"] = _exact_id(line, row["id"])
    return RawRow(n, row, None, None, line_is_clean(line))


def _exact_id(text: bytes | str, parsed: float) -> Any:
    """orjson turns integers past 64 bits into floats; an id must round-trip exactly, so read the
    row again with the standard library, whose integers have no size limit."""
    import json

    try:
        exact = json.loads(text).get("id")
    except (ValueError, AttributeError, RecursionError):
        return parsed
    return exact if isinstance(exact, int) else parsed


def _position(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


def looks_like_json_array(head: bytes) -> bool:
    """Is this the start of a JSON array saved as .jsonl? Yes when the first line is not a whole
    JSON value ("[" alone, a pretty-printed array). A one-line list stays one JSONL row: every line
    is one row in, and its reject says it is a JSON array on one line."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] != b"[":
        return False
    first = head.partition(b"\n")[0]
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return True  # "[" alone, a pretty-printed array, or one line longer than the peek
    return False  # a whole JSON list on the first line is a JSONL row (rejected, saying what it is)


def _iter_json_array(p: Path, encoding: str | None) -> Iterator[RawRow]:
    data = _read_bytes(p)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not _is_utf8(encoding):
        try:
            data = data.decode(encoding).encode("utf-8")
        except (UnicodeDecodeError, LookupError) as e:
            raise UsageError(f"{p}: cannot decode with --encoding {encoding}: {e}") from None
    head = data.lstrip()[:1]
    if head == b"{":  # a .json file that is really JSON Lines (common in the wild)
        yield from _iter_jsonl(_io.BytesIO(data), None)
        return
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        msg = str(e)
        if "utf-8" in msg.lower():
            raise UsageError(f"{p}: not valid UTF-8{_first_bad_byte(data)} — if the file is GB18030/GBK "
                             f"pass --encoding gb18030") from None
        text = data.decode("utf-8", "replace")
        raise UsageError(f"{p}: invalid JSON at {_position(text, e.pos)}: {e.msg} — the whole array is "
                         f"unreadable; fix the syntax or convert the file to JSONL") from None
    if isinstance(obj, dict):
        obj = [obj]
    if not isinstance(obj, list):
        raise UsageError(f"{p}: expected a JSON array of rows, found a {type(obj).__name__}")
    if any(type(r) is dict and type(r.get("id")) is float for r in obj):  # huge integer ids: read exactly
        import json

        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):
            pass
    for n, row in enumerate(obj, 1):
        yield RawRow(n, row)


def _read_bytes(p: Path) -> bytes:
    if p.name.endswith(".gz"):
        with gzip.open(p, "rb") as fh:
            return fh.read()
    return p.read_bytes()


def _iter_parquet(p: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise UsageError(f"{p}: not a readable Parquet file ({e})") from None
    n = 0
    for batch in pf.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            n += 1
            yield RawRow(n, row)


def _iter_hf_folder(p: Path) -> Iterator[RawRow]:
    import pyarrow as pa

    try:
        state = orjson.loads((p / "state.json").read_bytes())
        files = [p / f["filename"] for f in state.get("_data_files", [])] or sorted(p.glob("*.arrow"))
    except (orjson.JSONDecodeError, OSError, TypeError, KeyError, AttributeError) as e:
        raise UsageError(f"{p / 'state.json'}: not a datasets state file ({type(e).__name__}: {e}); re-save the "
                         f"dataset with save_to_disk") from None
    n = 0
    for f in files:
        if f.resolve().parent != p.resolve() or not f.is_file():
            raise UsageError(f"{p}: state.json names {f.name!r}, which is not a file in the folder")
        with pa.memory_map(str(f)) as src:
            try:
                try:
                    reader = pa.ipc.open_stream(src)
                except pa.ArrowInvalid:
                    reader = pa.ipc.open_file(src)
            except (pa.ArrowInvalid, OSError) as e:
                raise UsageError(f"{f}: not an Arrow file ({e})") from None
            batches = reader if hasattr(reader, "__iter__") else (reader.get_batch(i) for i in range(reader.num_record_batches))
            for batch in batches:
                for row in batch.to_pylist():
                    n += 1
                    yield RawRow(n, row)


_READ_ONCE: set[str] = set()  # pipes this process has opened (a second read would hang or be empty)


def iter_rows(source: Any, encoding: str | None = None) -> Iterator[RawRow]:
    """Raw rows of a file, folder, `datasets.Dataset` or iterable of dicts."""
    if not isinstance(source, (str, os.PathLike)):
        for n, row in enumerate(source, 1):
            yield RawRow(n, dict(row) if not isinstance(row, dict) and hasattr(row, "keys") else row)
        return
    p = Path(source)
    if encoding:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"--encoding {encoding}: unknown encoding (e.g. utf-8, gb18030, gbk, big5, utf-16)") from None
    if not p.exists():
        raise UsageError(f"{p}: no such file")
    if not p.is_dir() and not p.is_file():  # a FIFO, /dev/stdin: it can be read only once
        key = os.path.realpath(p)
        if key in _READ_ONCE:
            raise UsageError(f"{p}: is a pipe that was already read, and this command reads its input twice; "
                             f"save it to a file first")
        _READ_ONCE.add(key)
    if p.is_dir():
        if _is_hf_folder(p):
            yield from _iter_hf_folder(p)
            return
        if (p / "dataset_dict.json").exists():
            splits = orjson.loads((p / "dataset_dict.json").read_bytes()).get("splits", [])
            raise UsageError(f"{p} holds several splits ({', '.join(splits)}): pass one, e.g. {p / splits[0]}"
                             if splits else f"{p}: empty DatasetDict folder")
        raise UsageError(f"{p} is a folder, not a data file or a datasets save_to_disk folder")
    name = p.name.lower()
    try:
        if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(p, "rb") as fh:
                # peek, never seek: the input may be a pipe or a FIFO
                is_array = looks_like_json_array(fh.peek(65536)[:65536])
                if not is_array:
                    yield from _iter_jsonl(fh, encoding)
            if is_array:  # a JSON array saved as .jsonl: read it as the array it is
                yield from _iter_json_array(p, encoding)
        elif name.endswith((".json", ".json.gz")):
            yield from _iter_json_array(p, encoding)
        elif name.endswith(".parquet"):
            yield from _iter_parquet(p)
        elif name.endswith((".csv", ".tsv", ".xlsx")):
            from curator.tabular import iter_table  # spreadsheets: header row + --map, like Alpaca

            yield from iter_table(p, encoding)
        else:
            raise UsageError(f"{p}: unknown file type (use .jsonl, .jsonl.gz, .json, .parquet, .csv, .tsv, .xlsx "
                             f"or a datasets folder)")
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise UsageError(f"{p}: cannot read ({e})") from None


# --------------------------------------------------------------------------- records (parsed)
@dataclass
class ReadStats:
    """What a read saw: rows in, and the format detected per file (printed by commands)."""

    rows: int = 0
    formats: dict[str, str] = field(default_factory=dict)


def read_records(
    source: Any,
    fmt: str | ModuleType | None = None,
    *,
    opts: ReadOptions = DEFAULT_READ,
    encoding: str | None = None,
    rejects: RejectSink | None = None,
    allow: Iterable[str] = (),
    validate: bool = True,
    stats: ReadStats | None = None,
    source_name: str | None = None,
) -> Iterator[Conversation]:
    """Parse and validate every row of `source`; bad rows go to `rejects` (or raise when None).

    `allow` lists validation codes that do not reject (e.g. ``{"no_assistant"}`` for prompts
    that `curate distill` will answer). Each record gets ``origin = (file, line)`` and, unless it
    already has one, ``meta.source`` = the file name.
    """
    allow = frozenset(allow)
    label = str(source) if isinstance(source, (str, os.PathLike)) else (source_name or "<data>")
    name = source_name or (Path(label).name if isinstance(source, (str, os.PathLike)) else label)
    unit = describe_unit(label)
    stats = stats if stats is not None else ReadStats()
    rows = iter_rows(source, encoding)
    if fmt is None:
        head = list(itertools.islice(rows, 20))
        module = detect_format((r.row for r in head if r.error is None), opts.column_map)
        rows = itertools.chain(head, rows)
        if module is None and head and any(r.error is None for r in head):
            raise UsageError(f"{label}: cannot tell the format (keys seen: "
                             f"{sorted(next((r.row for r in head if r.error is None and isinstance(r.row, dict)), None) or [])[:8]})"
                             f" — pass --from alpaca|sharegpt|messages|prompt_completion, or --map our=theirs")
    else:
        module = get_format(fmt) if isinstance(fmt, str) else fmt
    if module is not None:
        stats.formats[label] = module.NAME
    yield from parse_rows(rows, module, label=label, name=name, opts=opts, rejects=rejects, allow=allow,
                          validate=validate, stats=stats)


def parse_rows(
    rows: Iterable[RawRow],
    module: ModuleType | None,
    *,
    label: str,
    name: str,
    opts: ReadOptions = DEFAULT_READ,
    rejects: RejectSink | None = None,
    allow: Iterable[str] = (),
    validate: bool = True,
    stats: ReadStats | None = None,
) -> Iterator[Conversation]:
    """Parse and validate raw rows whose format is known: the body of `read_records`, exposed so
    a cluster engine can run it over one byte range of a file (rows carry their own line numbers)."""
    allow = frozenset(allow)
    stats = stats if stats is not None else ReadStats()
    parse = module.parse if module is not None else None
    for raw in rows:
        stats.rows += 1
        err = raw.error
        conv = None
        if err is None:
            try:
                if not isinstance(raw.row, dict):
                    many = isinstance(raw.row, list) and raw.row and all(isinstance(r, dict) for r in raw.row)
                    raise RowError("bad_structure", f"row is a {type(raw.row).__name__}, not a JSON object"
                                   + (f" (a JSON array of {len(raw.row)} objects on one line)" if many else ""),
                                   fix="save the file as .json, or write one object per line" if many else
                                   'each row must be an object such as {"messages": [...]}')
                conv = parse(raw.row, opts)  # type: ignore[misc]
                err = _meta_problem(conv.meta)
                if err is None and validate:
                    err = first_problem(conv, allow, scan_chars=not raw.clean)
            except RowError as e:
                err = e
            except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as e:
                # A field of a type no format rule expected: the row is rejected, the run goes on.
                err = RowError("bad_structure", f"a field has an unexpected type ({type(e).__name__}: "
                               f"{str(e)[:120]})", fix="compare the row's fields with the format's documented shape")
        if err is not None:
            msg = f"{label}:{raw.n}: {err.sentence()}"
            if rejects is None:
                raise UsageError(msg)
            rejects.add(err.code, msg, record=raw.row if raw.row is not None else raw.raw,
                        source=label, line=raw.n, field=err.field)
            continue
        assert conv is not None
        conv.origin = (label, raw.n)
        if "source" not in conv.meta:
            conv.meta["source"] = name
        yield conv


def _meta_problem(meta: dict[str, Any]) -> RowError | None:
    """The meta fields every stage reads and extends must have their documented types."""
    checks = (("lineage", list, "a list of stage names"), ("source", str, "a file or dataset name"),
              ("scores", dict, 'an object such as {"helpfulness": 4}'), ("tags", list, "a list of strings"))
    for key, typ, what in checks:
        v = meta.get(key)
        if v is not None and not isinstance(v, typ):
            return RowError("bad_structure", f"meta.{key} is a {type(v).__name__}, not {what}", field=f"meta.{key}",
                            fix=f"make meta.{key} {what}, or remove it")
    return None


# ----------------------------------------------------------------------------------- writing
class RecordWriter:
    """Writes records in a format, atomically, choosing the container by suffix:
    ``.jsonl``, ``.jsonl.gz`` (mtime 0, so output is byte-identical run to run), ``.json`` (an
    array), ``.parquet`` (free-form nested fields — meta, tools, tool_calls — stored as JSON text,
    since Parquet needs one schema for all rows), or a folder (a `datasets` save_to_disk folder;
    needs the `datasets` package). A record the format cannot hold goes to `rejects`.
    """

    def __init__(self, path: PathLike, fmt: str | ModuleType = "messages", *, opts: WriteOptions = DEFAULT_WRITE,
                 rejects: RejectSink | None = None):
        self.path = Path(path)
        self.module = get_format(fmt) if isinstance(fmt, str) else fmt
        self.opts = opts
        self.rejects = rejects
        self.count = 0
        name = self.path.name.lower()
        self.kind = ("jsonl.gz" if name.endswith((".jsonl.gz", ".json.gz")) else "jsonl" if name.endswith(".jsonl")
                     else "json" if name.endswith(".json") else "parquet" if name.endswith(".parquet")
                     else "hf" if not self.path.suffix else None)
        if self.kind is None:
            raise UsageError(f"{path}: unknown output type (use .jsonl, .jsonl.gz, .json, .parquet, or a folder "
                             f"name without a suffix for a datasets folder)")
        self._batch: list[dict[str, Any]] = []
        self._pq_writer = None
        # A datasets folder is built from a Parquet temp file (named after the folder, so the
        # next run cleans it up if this one is killed) and swapped in by rename on commit.
        self._file = AtomicFile(self.path, "wb")
        self._raw = self._file.fh
        self._staging: Path | None = None
        self._fh = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0, filename="") if self.kind == "jsonl.gz" else self._raw
        if self.kind == "json":
            self._fh.write(b"[")

    def write(self, conv: Conversation) -> bool:
        try:
            row = self.module.render(conv, self.opts)
        except RowError as e:
            if self.rejects is None:
                raise
            self.rejects.reject(conv, e.code, f"cannot write as {self.module.NAME}: {e.sentence()}")
            return False
        self.write_row(row)
        return True

    def write_row(self, row: dict[str, Any]) -> None:
        if self.kind in ("jsonl", "jsonl.gz"):
            self._fh.write(orjson.dumps(row) + b"\n")
        elif self.kind == "json":
            self._fh.write((b",\n" if self.count else b"\n") + orjson.dumps(row))
        else:
            self._batch.append(row)
            if len(self._batch) >= 8192:
                self._flush_parquet()
        self.count += 1

    def write_serialized(self, data: bytes) -> None:
        """A row another process already rendered and serialised with orjson: JSON containers take
        the bytes as they are (a load and a dump would give the same bytes, at twice the cost)."""
        if self.kind in ("jsonl", "jsonl.gz"):
            self._fh.write(data + b"\n")
        elif self.kind == "json":
            self._fh.write((b",\n" if self.count else b"\n") + data)
        else:
            self.write_row(orjson.loads(data))
            return
        self.count += 1

    def write_block(self, data: bytes | memoryview, rows: int) -> None:
        """`rows` rows another process rendered and serialised with orjson, each ending in a
        newline (a range's output in one piece): a JSONL file takes the block in one write. orjson
        escapes every control character inside strings, so a newline byte only ever ends a row."""
        if self.kind in ("jsonl", "jsonl.gz"):
            self._fh.write(data)
            self.count += rows
            return
        for row in bytes(data).split(b"\n")[:-1]:
            self.write_serialized(row)

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._batch:
            return
        name = self.module.NAME
        rows = [_parquet_row(r, name) for r in self._batch]
        self._batch = []
        if self._pq_writer is None:
            self._pq_writer = pq.ParquetWriter(self._raw, _parquet_schema(name, rows))
        schema = self._pq_writer.schema
        new = {k for r in rows for k in r} - set(schema.names)
        if new:  # from_pylist would silently drop them
            raise UsageError(f"{self.path}: rows do not share one Parquet schema (columns {sorted(new)} appear only "
                             f"after row {self.count - len(rows)}); write JSONL instead")
        try:
            table = pa.Table.from_pylist(rows, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise UsageError(f"{self.path}: rows do not share one Parquet schema ({e}); write JSONL instead") from None
        self._pq_writer.write_table(table)

    def close(self, commit: bool = True) -> None:
        """Finish writing; with commit=False the output stays a temp file (or staging folder)
        until `commit()`, so a command can publish output, rejects and manifest in order."""
        if self.kind == "json":
            self._fh.write(b"\n]\n" if self.count else b"]\n")
        if self.kind in ("parquet", "hf"):
            self._flush_parquet()
            if self._pq_writer is None:  # no rows: still a valid (empty) file
                import pyarrow as pa
                import pyarrow.parquet as pq

                self._pq_writer = pq.ParquetWriter(self._raw, pa.schema([]))
            self._pq_writer.close()
        if self._fh is not self._raw:
            self._fh.close()
        self._file.finish()
        if self.kind == "hf":
            self._build_hf_folder()
        if commit:
            self.commit()

    def commit(self) -> None:
        """Publish the finished output under its name: rename the file, or swap the folder in."""
        if self.kind == "hf":
            if self._staging is not None:
                swap_folder(self._staging, self.path)
                self._staging = None
        elif self._file is not None:
            self._file.commit()
        self._file = None

    def _build_hf_folder(self) -> None:
        from curator.outpaths import write_marker

        tmp = self._file.tmp
        try:
            import datasets
        except ImportError:
            self._file.abort()
            raise UsageError("writing a datasets folder needs the `datasets` package (pip install 'sft-curator[train]')") from None
        ds = datasets.Dataset.from_parquet(str(tmp))
        staging = self.path.with_name(f"{temp_prefix(self.path)}staging")
        ds.save_to_disk(str(staging))
        write_marker(staging)
        self._staging = staging
        self._file.abort()  # the Parquet temp file is no longer needed

    def abort(self) -> None:
        if self._file is not None:
            self._file.abort()
        if self._staging is not None:
            import shutil

            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _known_columns(fmt: str) -> list[tuple[str, Any]]:
    """Fixed Arrow types for a format's own columns. Fixing them (instead of inferring from the
    first batch) keeps a column that is empty in the first 8,192 rows — `system`, `tools` — and
    keeps later batches from failing on a type inferred as null."""
    import pyarrow as pa

    s = pa.string()
    msg = pa.list_(pa.struct([("role", s), ("content", s), ("reasoning_content", s), ("tool_calls", s),
                              ("name", s), ("tool_call_id", s), ("weight", pa.float64())]))
    return {
        "messages": [("id", s), ("messages", msg), ("tools", s), ("meta", s)],
        "sharegpt": [("id", s), ("conversations", pa.list_(pa.struct([("from", s), ("value", s)]))), ("system", s),
                     ("tools", s), ("chosen", s), ("rejected", s)],
        "alpaca": [("id", s), ("instruction", s), ("input", s), ("output", s), ("system", s),
                   ("history", pa.list_(pa.list_(s)))],
        "prompt_completion": [("id", s), ("prompt", msg), ("completion", msg), ("tools", s)],
        "turns": [("id", s), ("turns", pa.list_(s))],
    }.get(fmt, [])


def _parquet_schema(fmt: str, rows: list[dict[str, Any]]):
    """The format's columns with fixed types, then any extra columns (kept from the input) with
    types inferred from the first batch."""
    import pyarrow as pa

    known = _known_columns(fmt)
    names = {n for n, _ in known}
    extra: list[str] = []
    for r in rows:
        extra += [k for k in r if k not in names and k not in extra]
    fields = [pa.field(n, t) for n, t in known]
    if extra:
        inferred = pa.Table.from_pylist([{k: r.get(k) for k in extra} for r in rows]).schema
        fields += list(inferred)
    return pa.schema(fields)


def _parquet_row(row: dict[str, Any], fmt: str = "") -> dict[str, Any]:
    """Free-form nested values become JSON text so every row fits one schema."""
    out = {}
    for k, v in row.items():
        if k in ("meta", "tools", "chosen", "rejected") or isinstance(v, dict):
            # Already-JSON text (ShareGPT's tools column) stays as it is.
            out[k] = v if v is None or isinstance(v, str) else orjson.dumps(v).decode()
        elif k in ("messages", "prompt", "completion", "conversations") and isinstance(v, list):
            out[k] = [_parquet_message(m) for m in v]
        elif fmt == "prompt_completion" and k in ("prompt", "completion") and isinstance(v, str):
            # TRL's string form becomes the conversational form: one column type for all rows.
            out[k] = [_parquet_message({"role": "user" if k == "prompt" else "assistant", "content": v})]
        else:
            out[k] = v
    return out


_PQ_MSG_KEYS = ("role", "content", "reasoning_content", "tool_calls", "name", "tool_call_id", "weight")


def _parquet_message(m: Any) -> Any:
    if not isinstance(m, dict):
        return m
    if "from" in m:
        return {"from": m.get("from"), "value": m.get("value")}
    d = {k: m.get(k) for k in _PQ_MSG_KEYS}
    if d["tool_calls"] is not None:
        d["tool_calls"] = orjson.dumps(d["tool_calls"]).decode()
    if d["weight"] is not None:
        d["weight"] = float(d["weight"])
    return d


def write_records(path: PathLike, records: Iterable[Conversation], fmt: str = "messages", *,
                  opts: WriteOptions = DEFAULT_WRITE, rejects: RejectSink | None = None) -> int:
    """Write every record; returns how many were written (the rest went to `rejects`)."""
    with RecordWriter(path, fmt, opts=opts, rejects=rejects) as w:
        for conv in records:
            w.write(conv)
    return w.count


def to_hf_dataset(records: Iterable[Conversation], fmt: str = "messages", opts: WriteOptions = DEFAULT_WRITE):
    """A `datasets.Dataset` of rendered rows (Python API; needs the `datasets` package)."""
    import datasets

    module = get_format(fmt)
    return datasets.Dataset.from_list([module.render(c, opts) for c in records])
