"""Chinese catalogs for `curator.i18n`: UI strings keyed by their English text, patterns for
strings built with values, and one table of reject reasons keyed by reason code.

Adding a string: put the exact English text as key. Adding a reason code: one line in REASONS
(sentence, fix); the code itself is never translated.
"""

from __future__ import annotations

import re

# -- reject reasons: code -> (what is wrong, how to fix it) ------------------------------------
REASONS: dict[str, tuple[str, str]] = {
    # validation (curator/validate.py, formats, io)
    "invalid_json": ("这一行不是合法的 JSON", "修正这一行的 JSON 语法（引号、逗号、括号是否成对）"),
    "encoding": ("文件编码不是 UTF-8", "用 --encoding gb18030（或文件的实际编码）重新读取"),
    "bad_structure": ("记录结构不对", "检查字段类型：messages 应是列表，每条消息是带 role/content 的对象"),
    "missing_field": ("缺少必需字段", "补上该字段，或用 --map 把你的列名映射过来"),
    "unknown_role": ("未知的角色名", "改成 system / user / assistant / tool 之一（看括号里的建议）"),
    "empty_content": ("消息内容为空", "补写内容，或删除这一行"),
    "non_text_content": ("本该是文本的地方出现了对象", "把内容改成字符串，或只保留 type=text 的分段"),
    "turn_order": ("对话轮次顺序不对", "合并连续的同角色轮次，或补上缺失的一轮"),
    "tool_without_call": ("工具结果之前没有对应的工具调用", "在它之前补上 assistant 的工具调用（function_call）"),
    "no_assistant": ("没有 assistant 回答，无可训练内容", "补上回答，或用 `curate distill` 生成"),
    "system_not_first": ("system 消息不在开头", "把 system 提示移到对话开头或与开头的合并"),
    "placeholder": ("有未填写的模板占位符", "训练前填好占位符（curate convert --fill name=… --fill author=…），或删除这一行"),
    "bad_characters": ("含有控制字符或乱码字符", "用正确的 --encoding 重新解码，或删掉这些字符"),
    "unterminated_think": ("<think> 标签没有闭合", "补上 </think>，或用 --think-tags 指定正确的标签"),
    "unrepresentable": ("目标格式无法表示这条记录", "换一种输出格式（--to messages 或 sharegpt）"),
    "not_a_record": ("不是一条已知格式的记录", "检查 --from 格式和字段名（--map）"),
    "template_error": ("提示模板渲染失败", "检查 --template 文件里用到的字段名"),
    # filters (curator/filters/)
    "too_short": ("太短", "检查回答是否完整，或调低 min 长度参数"),
    "too_long": ("太长", "检查是否重复或截断，或调高 max 长度参数"),
    "too_few_turns": ("轮数太少", "检查对话是否完整，或调整轮数参数"),
    "too_many_turns": ("轮数太多", "拆分对话，或调高轮数上限"),
    "wrong_language": ("语言不在允许范围内", "检查文本语言，或在 --lang 中加上该语言"),
    "unknown_language": ("无法识别语言", "检查文本是否只有符号或代码"),
    "repeated_lines": ("重复的行太多", "删除重复内容；常见于生成时陷入循环"),
    "repeated_ngrams": ("重复的片段太多", "删除重复内容；常见于生成时陷入循环"),
    "refusal": ("回答是拒答或套话", "重新生成回答，或删除这一行"),
    "control_char": ("含有控制字符", "删掉这些字符，或用正确的编码重新读取"),
    "replacement_char": ("含有 U+FFFD 替换字符（解码出错）", "用正确的 --encoding 重新读取源文件"),
    "mojibake": ("疑似乱码", "用正确的 --encoding 重新读取源文件"),
    "pii": ("含有个人信息（邮箱、电话、证件号等）", "脱敏后再使用，或删除这一行"),
    "not_json": ("回答不是合法的 JSON", "修正 JSON，或重新生成"),
    "schema_mismatch": ("JSON 不符合要求的 schema", "按 schema 修改字段，或重新生成"),
    "unbalanced_fence": ("代码块围栏 ``` 不成对", "补上缺失的 ```；回答很可能被截断了"),
    "empty_answer": ("回答为空", "补写或重新生成回答"),
    "empty_final_answer": ("有推理过程但最终回答为空", "重新生成，或补写最终回答"),
    "reasoning_missing": ("缺少推理过程", "用推理模型重新生成，或去掉该过滤器"),
    "reasoning_present": ("含有不需要的推理过程", "用 --reasoning drop 去掉推理，或去掉该过滤器"),
    "reasoning_too_short": ("推理过程太短", "重新生成，或调低推理长度下限"),
    "reasoning_too_long": ("推理过程太长", "重新生成，或调高推理长度上限"),
    "answer_mismatch": ("回答与参考答案不一致", "检查参考答案，或重新生成回答"),
    "no_reference": ("没有参考答案可比对", "在 meta 中补上参考答案字段"),
    "low_score": ("分数低于下限", "重新生成或人工修改，或调低分数阈值"),
    "high_score": ("分数高于上限", "检查评分，或调高分数上限"),
    "no_score": ("没有分数", "先运行 `curate score`，或检查分数字段名"),
    # dedup, split, generation
    "exact_duplicate": ("与另一条记录完全重复", "无需处理；duplicate_of 指明保留的是哪一条"),
    "near_duplicate": ("与另一条记录近似重复", "无需处理；duplicate_of 指明保留的是哪一条"),
    "duplicate": ("重复记录", "无需处理；duplicate_of 指明保留的是哪一条"),
    "conflict": ("提示几乎相同但回答不一致", "用 curate review 审核这一组，只保留正确的回答"),
    "ref_changed": ("引用的输入行在去重之后被改过（哈希不同）", "恢复去重时读取的文件，或重新去重（用 --rejects-mode full 复制记录）"),
    "ref_unreadable": ("引用的输入文件读不到", "恢复该文件，或把 ref.file 改成文件现在的位置"),
    "truncated": ("回答在 max_tokens 处被截断", "调高 --max-tokens 重新生成，或用 --keep-truncated 保留"),
    "truncated_reasoning": ("还在思考时就被截断", "调高 --max-tokens 重新生成"),
    "api_error": ("接口返回错误", "检查 --base-url、--model 和 API key 后重跑（已有回答会从缓存读取）"),
    "connection_error": ("连接失败", "检查服务是否启动、--base-url 是否正确，然后重跑"),
    "server_error": ("服务端错误", "稍后重跑；已有回答会从缓存读取"),
    "client_error": ("请求被拒绝", "检查模型名、参数和 API key"),
}

# -- UI strings: English text -> Chinese ---------------------------------------------------------
UI: dict[str, str] = {
    # command summaries (curator/runner.py)
    "{command}: {n_in} in, {n_out} out, {n_rej} rejected": "{command}：输入 {n_in}，输出 {n_out}，拒收 {n_rej}",
    ", {n} excluded": "，未入选 {n}",
    "  rejects: {path}": "  拒收文件：{path}",
    "detected format": "识别出的格式",
    "e.g. {example}": "例：{example}",
    "error:": "错误：",
    "interrupted: no output written": "已中断：没有写出任何输出",
    "error rate {rate} is above --max-error-rate {limit}": "错误率 {rate} 超过了 --max-error-rate {limit}",
    "format": "格式", "{rows} rows: {valid} valid, {invalid} invalid": "共 {rows} 行：有效 {valid}，无效 {invalid}",
    "reason": "原因", "rows": "行数", "first examples": "示例",
    "{records} records ({invalid} invalid rows skipped), {turns} turns, {per} per record; multi-turn {multi}, "
    "tools {tools}, reasoning {reasoning}, system prompt {system}":
        "{records} 条记录（跳过 {invalid} 行无效行），{turns} 轮，平均每条 {per} 轮；多轮 {multi}，工具调用 {tools}，"
        "带推理 {reasoning}，带 system 提示 {system}",
    "role": "角色", "messages": "消息数", "chars total": "总字符数", "chars mean": "平均字符数", "chars max": "最大字符数",
    "tokens total": "总 token 数", "tokens mean": "平均 token 数", "tokens max": "最大 token 数",
    # review app: footer keys
    "Accept": "接受", "Reject": "拒绝", "Edit": "编辑", "Tag": "标签", "Undo": "撤销", "Search": "搜索",
    "Next match": "下一处", "Prev match": "上一处", "Filter": "筛选", "Next pending": "下一条待审",
    "Accept shown": "全部接受", "Reject shown": "全部拒绝", "Prev msg": "上一条消息", "Next msg": "下一条消息",
    "Reasoning": "推理", "Help": "帮助", "Quit": "退出", "Cancel": "取消", "Save": "保存", "Yes": "是", "No": "否",
    "Close": "关闭",
    # review app: status, prompts, notices
    "records": "记录数", "{n} records": "{n} 条记录", "{n} pending": "{n} 待审",
    "filter {spec} ({n} shown)": "筛选 {spec}（显示 {n} 条）",
    "no records shown (press f and choose 'all' to clear the filter)": "没有可显示的记录（按 f 选择 all 清除筛选）",
    "Reject: pick a reason or type one": "拒绝：选择一个原因，或直接输入",
    "Tag (toggles): pick or type": "标签（再次选择可取消）：选择或输入",
    "or type and press Enter": "或输入后按回车",
    "tagged {tag}": "已打标签 {tag}", "untagged {tag}": "已取消标签 {tag}",
    # curate mix: the composition table
    "mix by {by}: target {target:g}, achieved {achieved:g}": "按{by}混合：目标 {target:g}，实际 {achieved:g}",
    "tokens": "token 数", "valid": "有效", "requested": "要求占比", "achieved": "实际占比",
    "out records": "输出记录", "out tokens": "输出 token", "max copies": "最多复制", "left out": "未选入",
    "reasoning: {w} records with, {wo} without ({share:.1%} with) — a mixed reasoning / non-reasoning set":
        "推理：{w} 条有推理，{wo} 条没有（{share:.1%} 有）—— 这是推理与非推理混合的数据集",
    "warning:": "警告：",
    # review --compare (blind A/B arena)
    "Left better": "左边更好", "Right better": "右边更好", "Tie": "平局", "Both bad": "都不好", "Next": "下一对",
    "Prev": "上一对", "Next undecided": "下一对未判", "no pairs to compare": "没有可比较的答案对",
    "pair {i}/{n} · decided {done} · annotator {who}": "第 {i}/{n} 对 · 已判 {done} · 标注员 {who}",
    "your decision: {d}": "你的判断：{d}", "all decided": "全部判完", "LEFT": "左", "RIGHT": "右",
    "left": "左边", "right": "右边", "tie": "平局", "both bad": "都不好",
    "Both bad: why? (Enter saves, Esc cancels)": "都不好：为什么？（回车保存，Esc 取消）",
    # review `x` (one-key fix) and `E` (edit the row as JSON)
    "no one-key fix for this row (it is valid, or the message suggests none): press E to edit it as JSON":
        "这一行没有一键修复（它是合法的，或提示里没有给出修法）：按 E 以 JSON 形式编辑",
    "fix not saved: {problem}": "修复未保存：{problem}",
    "fixed: {what}": "已修复：{what}",
    "not saved — {problem}": "未保存 —— {problem}",
    "row saved (valid)": "这一行已保存（校验通过）",
    "edit row {n} as JSON (validated on save)": "以 JSON 形式编辑第 {n} 行（保存时校验）",
    "--editor needs $EDITOR (or $VISUAL) set": "--editor 需要先设置 $EDITOR（或 $VISUAL）",
    "editor exited with {rc}; edit discarded": "编辑器退出码为 {rc}，本次编辑已丢弃",
    "this row is not a conversation; nothing to edit": "这一行不是对话，无法编辑",
    "control characters are shown as visible stand-ins; saving keeps the stand-ins":
        "控制字符以可见符号显示；保存时会保留这些符号",
    "edited message {i} ({role})": "已编辑第 {i} 条消息（{role}）",
    "edit {role} message {i} of {id}": "编辑 {id} 的第 {i} 条消息（{role}）",
    "nothing to undo": "没有可撤销的操作",
    "undone ({n} records)": "已撤销（{n} 条记录）",
    "{action}ed {n} records (u undoes the whole batch)": "已{action} {n} 条记录（按 u 撤销整批）",
    "Accept ALL {n} records shown": "接受当前显示的全部 {n} 条记录",
    "Reject ALL {n} records shown": "拒绝当前显示的全部 {n} 条记录",
    " with reason {reason}": "，原因 {reason}",
    "Reject all shown: reason": "全部拒绝：原因",
    "no pending record after this one": "后面没有待审的记录了",
    "Search (case-insensitive; n / N for next / previous)": "搜索（不区分大小写；n / N 下一处 / 上一处）",
    "no search yet: press /": "还没有搜索：先按 /",
    "not found: {q}": "没有找到：{q}",
    "{n} records shown": "显示 {n} 条记录",
    "Filter: pick or type status=…, reason=…, tag=…, all": "筛选：选择或输入 status=…、reason=…、tag=…、all",
    "e.g. reason=near_duplicate": "例如 reason=near_duplicate",
    "y = yes, n / esc = no": "y = 是，n / esc = 否",
    "   ctrl+s save · esc cancel": "   ctrl+s 保存 · esc 取消",
    "curate review — keys\n\n": "curate review —— 按键\n\n",
    "\nquick tags\n": "\n快捷标签\n",
    "next / previous record": "下一条 / 上一条记录",
    "first / last record": "第一条 / 最后一条记录",
    "next pending record": "下一条待审记录",
    "accept": "接受", "reject": "拒绝",
    "reject (pick a reason, or type one)": "拒绝（选择原因，或直接输入）",
    "edit the selected message (▶)": "编辑选中的消息（▶）",
    "select previous / next message": "选择上一条 / 下一条消息",
    "tag (pick or type)": "打标签（选择或输入）",
    "toggle quick tag 1-9": "切换快捷标签 1-9",
    "undo the last decision (a bulk action is one decision)": "撤销上一个决定（一次批量操作算一个决定）",
    "search text; n / N next / previous match": "搜索文本；n / N 下一处 / 上一处",
    "filter: status=pending|accepted|rejected, reason=CODE, tag=NAME, all":
        "筛选：status=pending|accepted|rejected、reason=代码、tag=标签名、all",
    "accept / reject ALL records shown (asks first)": "接受 / 拒绝当前显示的全部记录（会先确认）",
    "show / hide reasoning": "显示 / 隐藏推理过程",
    "scroll the detail pane": "滚动详情面板",
    "this help": "本帮助",
    "quit (every decision is already saved)": "退出（每个决定都已保存）",
    "kind": "类型", "line": "行", "review": "审核", "queue reason": "队列原因", "message": "说明", "stage": "阶段",
    "source": "来源", "tags": "标签", "edited": "已编辑", "score": "分数",
    # HTML report (curator/report/html.py, svg.py)
    "Dataset report": "数据集报告",
    "Dataset report: ": "数据集报告：",
    " · generated by sft-curator ": " · 由 sft-curator 生成 ",
    " vs ": " 对比 ",
    "Overview": "概览",
    "invalid rows (not described)": "无效行（未计入统计）",
    "mean messages per record": "每条记录平均消息数",
    "multi-turn": "多轮对话",
    "tool-calling": "工具调用",
    "with system prompt": "带 system 提示",
    "with reasoning": "带推理过程",
    "without": "不带",
    "prompts without an answer": "没有回答的提示",
    "user chars, median": "user 字符数中位数",
    "assistant chars, median": "assistant 字符数中位数",
    "top language": "最多的语言",
    "exact duplicate records": "完全重复的记录",
    "near-duplicate records": "近似重复的记录",
    "duplicate instructions": "重复的指令",
    "distinct-2 of instructions": "指令的 distinct-2",
    "distinct first words": "不同开头词的数量",
    "multi-turn = more than one user message; tool-calling = tools declared, tool_calls, or a tool message; "
    "duplicates are exact after lower-casing and collapsing whitespace.":
        "多轮 = 多于一条 user 消息；工具调用 = 声明了 tools、有 tool_calls 或有 tool 消息；"
        "重复 = 转小写并合并空白后完全相同。",
    "Conversations": "对话",
    "messages per record": "每条记录的消息数",
    "messages by role": "各角色消息数",
    "Lengths per role": "各角色长度",
    "bins are powers of two; hover a bar for its count.": "分箱按 2 的幂划分；鼠标悬停在柱子上可看计数。",
    "Reasoning (chain of thought)": "推理过程（思维链）",
    "mixed set: some records carry reasoning and some do not; a model trained on it learns both behaviours.":
        "混合数据：部分记录带推理、部分不带；在上面训练的模型会同时学到两种行为。",
    "reasoning characters per record": "每条记录的推理字符数",
    "reasoning tokens per record": "每条记录的推理 token 数",
    "Language mix": "语言构成",
    "by Unicode script of the instruction: zh = Han, ja = kana, ko = Hangul, latin = any Latin-script "
    "language (English, French, … are not told apart), none = no letters.":
        "按指令的 Unicode 文字判断：zh = 汉字，ja = 假名，ko = 谚文，latin = 任何拉丁字母语言"
        "（英语、法语等不做区分），none = 没有字母。",
    "Sources and tags": "来源与标签",
    "Diversity": "多样性",
    "most frequent first words": "最常见的开头词",
    "first word: lower-cased first English word (usually the verb: write, explain, …); for Chinese/Japanese/Korean "
    "the first 2 characters. Few distinct first words or one dominant word means templated instructions.":
        "开头词：英文取第一个词的小写（通常是动词：write、explain 等）；中日韩文取前 2 个字。"
        "不同开头词很少、或某一个词占绝对多数，说明指令是套模板写出来的。",
    "Rejects and invalid rows": "拒收与无效行",
    "invalid rows in this file, by reason": "本文件中的无效行（按原因）",
    "no invalid rows": "没有无效行",
    "Scores": "分数",
    "no scores": "没有分数",
    "Generation": "生成信息",
    "finish reasons": "结束原因",
    "no meta.generation": "没有 meta.generation",
    "no meta.tags": "没有 meta.tags",
    "no data": "没有数据",
    "none": "无",
    "mean": "均值", "median": "中位数", "max": "最大", "min": "最小",
    # terminal report summary
    "report": "报告", "invalid rows": "无效行", "languages": "语言", "assistant chars p50": "assistant 字符数中位数",
    "exact duplicates": "完全重复", "top first words": "最常见开头词", "wrote {out}": "已写出 {out}",
    "language mix, near duplicates, conflicts and diversity {note}": "语言分布、近似重复、冲突和多样性：{note}",
}

# Strings built with values: (English regex, Chinese template with the groups).
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\w+): characters per message$"), r"\1：每条消息的字符数"),
    (re.compile(r"^(\w+): tokens per message$"), r"\1：每条消息的 token 数"),
    (re.compile(r"^rejects beside it \((\d+)\), by reason$"), r"旁边的拒收文件（\1 条），按原因"),
    (re.compile(r"^ \(estimated\)$"), "（估算）"),
    (re.compile(r"^estimated from ([\d,]+) of ([\d,]+) records$"), r"由 \2 条中的 \1 条估算"),
    (re.compile(r"^estimated from \{n:,\} of \{m:,\} records$"), "由 {m:,} 条中的 {n:,} 条估算"),
]


def pattern(text: str) -> str | None:
    for rx, template in PATTERNS:
        if rx.match(text):
            return rx.sub(template, text)
    return None


# -- usage errors: a Chinese lead for the common shapes, the English line kept for exactness ----
_USAGE = [
    (re.compile(r": no such file$"), "文件不存在"),
    (re.compile(r"^--[\w-]+ .*: (choose|expected)"), "选项取值不对"),
    (re.compile(r"^--[\w-]+ \S+: must be "), "选项取值超出范围"),  # curator.config_check's range messages
    (re.compile(r"needs .*pip install"), "缺少可选依赖，按提示安装"),
    (re.compile(r"(HF_HUB_OFFLINE|unreachable|offline)"), "无法访问模型仓库"),
]


def usage_hint(message: str) -> str:
    for rx, lead in _USAGE:
        if rx.search(message):
            return f"{lead}：{message}"
    return message
