"""Reading and writing every container; encodings; atomic and deterministic writes."""

from __future__ import annotations

import gzip
import json

import orjson
import pytest

from curator.errors import UsageError
from curator.io import RecordWriter, read_records, to_hf_dataset, write_records
from curator.record import Conversation, Message
from curator.rejects import RejectSink


def _records(sample) -> list[Conversation]:
    return list(read_records(sample / "messages.jsonl"))


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.json", "out.parquet", "out_folder"])
def test_every_container_round_trips_canonical_records(tmp_path, sample, name):
    if name == "out_folder":
        pytest.importorskip("datasets")
    recs = _records(sample)
    path = tmp_path / name
    assert write_records(path, recs) == len(recs)
    back = list(read_records(path))
    assert [c.to_dict()["messages"] for c in back] == [c.to_dict()["messages"] for c in recs]
    assert [c.id for c in back] == [c.id for c in recs]
    assert [c.tools for c in back] == [c.tools for c in recs]
    assert back[0].origin == (str(path), 1)


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt", "prompt_completion"])
def test_other_formats_written_to_parquet_and_json_read_back(tmp_path, sample, fmt):
    recs = list(read_records(sample / "alpaca.json"))
    for suffix in (".parquet", ".json", ".jsonl.gz"):
        path = tmp_path / f"x{suffix}"
        write_records(path, recs, fmt)
        back = list(read_records(path, fmt))
        assert [[(m.role, m.content) for m in c.messages] for c in back] == \
               [[(m.role, m.content) for m in c.messages] for c in recs]


def test_hf_dataset_object_and_save_to_disk_folder(tmp_path, sample):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list([{"instruction": "Say hi.", "input": "", "output": "hi"},
                                     {"instruction": "Say bye.", "input": "", "output": "bye"}])
    recs = list(read_records(ds, source_name="hub:demo"))
    assert [c.messages[1].content for c in recs] == ["hi", "bye"]
    assert recs[0].meta["source"] == "hub:demo" and recs[0].origin == ("hub:demo", 1)
    ds.save_to_disk(str(tmp_path / "saved"))
    assert [c.messages[0].content for c in read_records(tmp_path / "saved")] == ["Say hi.", "Say bye."]
    back = to_hf_dataset(recs, "alpaca")
    assert back[0] == {"instruction": "Say hi.", "input": "", "output": "hi"}


def test_datasetdict_folder_asks_for_a_split(tmp_path):
    datasets = pytest.importorskip("datasets")
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list([{"prompt": "a", "completion": "b"}])})
    dd.save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(UsageError, match="several splits \\(train\\)"):
        list(read_records(tmp_path / "dd"))
    assert len(list(read_records(tmp_path / "dd" / "train"))) == 1


def test_bom_and_crlf_are_read(sample):
    recs = list(read_records(sample / "bad" / "bom_crlf.jsonl"))
    assert [c.id for c in recs] == ["m1", "m2"]
    assert recs[1].messages[1].content == "北京是中国的首都。"
    assert not any("\r" in m.content for c in recs for m in c.messages)


def test_gb18030_needs_encoding_and_the_error_suggests_it(sample):
    path = sample / "bad" / "gb18030.jsonl"
    sink = RejectSink(None)
    assert list(read_records(path, rejects=sink)) == []
    assert sink.counts == {"encoding": 2}
    msg = sink.examples["encoding"][0]["message"]
    assert msg.startswith(f"{path}:1: not valid UTF-8 (byte 0x") and "pass --encoding gb18030" in msg
    recs = list(read_records(path, encoding="gb18030"))
    assert recs[0].messages[0].content == "用一句话解释什么是机器学习。"
    assert recs[1].messages[0].content == "把下面的句子翻译成英文。\n今天天气很好。"


def test_gb18030_json_array_error_suggests_encoding(tmp_path):
    p = tmp_path / "zh.json"
    p.write_bytes(json.dumps([{"instruction": "你好", "output": "好"}], ensure_ascii=False).encode("gb18030"))
    with pytest.raises(UsageError, match="--encoding gb18030"):
        list(read_records(p))
    assert list(read_records(p, encoding="gb18030"))[0].messages[0].content == "你好"


def test_json_file_holding_jsonl_and_single_object(tmp_path):
    p = tmp_path / "lines.json"
    p.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n')
    assert [c.messages[0].content for c in read_records(p)] == ["a", "c"]
    one = tmp_path / "one.json"
    one.write_text('  {"instruction": "a", "output": "b"}')
    assert len(list(read_records(one))) == 1


def test_unreadable_inputs_are_usage_errors(tmp_path, sample):
    with pytest.raises(UsageError, match="no such file"):
        list(read_records(tmp_path / "nope.jsonl"))
    (tmp_path / "x.docx").write_text("a,b\n")  # .csv is read since issue #18 (curator/tabular.py)
    with pytest.raises(UsageError, match="unknown file type"):
        list(read_records(tmp_path / "x.docx"))
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    with pytest.raises(UsageError, match="not a readable Parquet"):
        list(read_records(tmp_path / "x.parquet"))
    (tmp_path / "x.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(UsageError, match="cannot read"):
        list(read_records(tmp_path / "x.jsonl.gz"))
    with pytest.raises(UsageError, match="line 3, column 23"):
        list(read_records(sample / "bad" / "broken_array.json"))
    with pytest.raises(UsageError, match="cannot tell the format"):
        list(read_records(iter([{"question": "q"}])))


def test_bad_row_without_a_sink_raises_with_file_and_line(sample):
    with pytest.raises(UsageError, match=r"bad_rows.jsonl:1: unknown role 'asistant'"):
        list(read_records(sample / "bad" / "bad_rows.jsonl"))


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.json", "out.parquet"])
def test_interrupted_write_leaves_no_partial_output(tmp_path, sample, name):
    recs = _records(sample)
    with pytest.raises(RuntimeError):
        with RecordWriter(tmp_path / name) as w:
            for c in recs:
                w.write(c)
            raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []
    # An existing output is left untouched by a failed rewrite.
    write_records(tmp_path / name, recs[:1])
    before = (tmp_path / name).read_bytes()
    with pytest.raises(RuntimeError):
        with RecordWriter(tmp_path / name) as w:
            w.write(recs[1])
            raise RuntimeError
    assert (tmp_path / name).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("name", ["a.jsonl", "a.jsonl.gz", "a.json", "a.parquet"])
def test_writes_are_byte_identical_run_to_run(tmp_path, sample, name):
    recs = list(read_records(sample / "alpaca.json")) + _records(sample)
    write_records(tmp_path / "1" / name, recs)
    write_records(tmp_path / "2" / name, recs)
    assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()
    if name.endswith(".gz"):
        assert gzip.decompress((tmp_path / "1" / name).read_bytes()).count(b"\n") == len(recs)


def test_unrepresentable_record_goes_to_the_sink(tmp_path, sample):
    sink = RejectSink(tmp_path / "r.jsonl", stage="convert")
    n = write_records(tmp_path / "a.json", _records(sample), "alpaca", rejects=sink)
    sink.close()
    assert n == 3 and sink.counts == {"unrepresentable": 2}  # m3 has tool calls, m5 a weight-0 answer
    rej = orjson.loads((tmp_path / "r.jsonl").read_bytes().splitlines()[0])
    assert rej["source"].endswith("messages.jsonl") and rej["line"] == 3 and rej["id"] == "m3"
    assert rej["message"].endswith("cannot write as alpaca: Alpaca cannot hold tool calls or tool results — "
                                   "convert to sharegpt or messages instead")
    assert rej["record"]["messages"][1]["tool_calls"][0]["function"]["name"] == "book_table"


def test_unknown_output_suffix_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="unknown output type"):
        RecordWriter(tmp_path / "x.csv")


def test_python_iterable_of_dicts_and_meta_source():
    rows = [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
             "meta": {"source": "mine"}}]
    (c,) = read_records(rows)
    assert c.meta["source"] == "mine" and c.origin == ("<data>", 1)
    assert Conversation([Message("user", "q"), Message("assistant", "a")]).id == c.id


def test_tool_calls_and_preference_pairs_survive_parquet_as_sharegpt(tmp_path):
    rows = [{"conversations": [{"from": "human", "value": "Hi?"}], "chosen": {"from": "gpt", "value": "Hello."},
             "rejected": {"from": "gpt", "value": "No."}},
            {"conversations": [{"from": "human", "value": "Convert 1 USD."},
                               {"from": "function_call", "value": '{"name": "fx", "arguments": {"usd": 1}}'},
                               {"from": "observation", "value": "0.9"}, {"from": "gpt", "value": "0.9 EUR."}],
             "tools": '[{"name": "fx"}]'}]
    recs = list(read_records(rows, "sharegpt"))
    write_records(tmp_path / "x.parquet", recs, "sharegpt")
    back = list(read_records(tmp_path / "x.parquet", "sharegpt"))
    assert back[0].meta["rejected"] == {"role": "assistant", "content": "No."}
    assert back[1].tools == [{"name": "fx"}] and back[1].messages[1].tool_calls == recs[1].messages[1].tool_calls
    assert [c.id for c in back] == [c.id for c in recs]


def test_parquet_refuses_columns_that_appear_after_the_first_batch(tmp_path):
    recs = [Conversation([Message("user", f"q{i}"), Message("assistant", "a")]) for i in range(8193)]
    recs[-1].meta["extra"] = {"late_column": 1}
    with pytest.raises(UsageError, match="late_column"):
        write_records(tmp_path / "x.parquet", recs, "alpaca")
    assert not (tmp_path / "x.parquet").exists()
