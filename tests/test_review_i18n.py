"""The review app in Chinese, CJK columns aligned by display width, and search scrolling.

Run headless with Textual's `run_test`, on real files and a real SQLite decision store.
"""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from curator.review import render
from curator.review.items import ReviewItem
from curator.review.session import ReviewSession
from curator.review.store import RecordState
from tests.review_helpers import conv, write_jsonl
from tests.test_review_app import drive, screen_text


def test_footer_status_and_help_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_UI_LANG", "zh")
    p = write_jsonl(tmp_path / "zh.jsonl", [conv(i, f"问题 {i}：{i}+{i} 等于几？", f"等于 {2 * i}。") for i in range(3)])
    text = drive(p, "a", check=screen_text)
    assert "接受" in text and "拒绝" in text and "帮助" in text  # footer keys
    assert "3 条记录" in text and "2 待审" in text              # status line
    help_text = drive(p, "question_mark", check=screen_text)
    assert "撤销上一个决定" in help_text and "快捷标签" in help_text


def test_english_stays_default(tmp_path, monkeypatch):
    monkeypatch.delenv("CURATE_UI_LANG", raising=False)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    p = write_jsonl(tmp_path / "en.jsonl", [conv(0, "q", "a")])
    text = drive(p, check=screen_text)
    assert "Accept" in text and "1 records" in text and "接受" not in text


def _row(reason: str, rid: str) -> str:
    item = ReviewItem(index=0, kind="record", id=rid, line=1, members=[], score=0.5)
    return render.list_row(item, RecordState(status="rejected"), reason, 100).plain


def test_cjk_reason_and_id_keep_columns_aligned():
    rows = [_row("low_quality", "r1"), _row("事实错误", "r2"), _row("回答与参考答案不一致导致错误", "编号很长的中文记录标识")]
    # The score "0.50" starts at the same terminal cell in every row.
    starts = [cell_len(r[: r.index("0.50")]) for r in rows]
    assert len(set(starts)) == 1, (starts, rows)


@pytest.mark.parametrize("target,start_keys", [(250, ()), (5, ("G",))])  # down the list; wrapping back up
def test_search_scrolls_the_match_into_view(tmp_path, target, start_keys):
    rows = [conv(i, f"question {i}", f"answer {i}") for i in range(300)]
    rows[target] = conv(target, "寻找这一条 needle", "answer")
    p = write_jsonl(tmp_path / "many.jsonl", rows)

    def check(app):
        rl = app.review.rl
        return rl.cursor, int(rl.scroll_y), rl.scrollable_content_region.height, screen_text(app)

    cursor, top, height, text = drive(p, *start_keys, "slash", *"needle", "enter", check=check)
    assert cursor == target
    assert top <= cursor < top + height, (cursor, top, height)
    list_part = text.split(f"[{target + 1}/300]")[1]
    assert f"r{target} " in list_part.split("──")[0]  # drawn in the list, not only in the detail pane


def test_fix_notices_in_chinese(tmp_path, monkeypatch):
    """`x` on a row with no one-key fix says so in Chinese (the notice is the only feedback)."""
    monkeypatch.setenv("CURATE_UI_LANG", "zh")
    seen: list[str] = []

    def spy(app):
        real = app.notify
        app.notify = lambda msg, **kw: (seen.append(str(msg)), real(msg, **kw))[1]

    p = write_jsonl(tmp_path / "zh.jsonl", [conv(0, "问题", "回答")])
    drive(p, spy, "x")
    assert any("这一行没有一键修复" in m and "按 E" in m for m in seen), seen


def test_arena_screen_in_chinese(tmp_path, monkeypatch):
    import asyncio

    from curator.review.arena import ArenaStore, default_db, load_pairs
    from curator.review.arena_app import ArenaApp
    from curator.review.screens import localized

    monkeypatch.setenv("CURATE_UI_LANG", "zh")
    a = write_jsonl(tmp_path / "a.jsonl", [conv(i, f"问题{i}", f"甲{i}") for i in range(2)])
    b = write_jsonl(tmp_path / "b.jsonl", [conv(i, f"问题{i}", f"乙{i}") for i in range(2)])
    pairs, _ = load_pairs(a, b)

    async def main():
        store = ArenaStore(default_db(a, b), a, b)
        app = localized(ArenaApp)(store, pairs, "wang")
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            text = screen_text(app)
        store.close()
        return text

    text = asyncio.run(main())
    assert "第 1/2 对" in text and "标注员 wang" in text  # status line
    assert "左边更好" in text and "平局" in text            # footer keys
    assert "左" in text and "右" in text and "LEFT" not in text
