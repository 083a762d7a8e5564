"""The words students read, in English and Japanese (issue 14 item 5).

``check()`` and the grader compose their feedback in English (the logic, and so the points, are
the same whatever the language). For a Japanese notebook the finished lines are then rendered in
Japanese by this module's message table: each entry pairs an English template (a regular
expression over the English words) with its Japanese template. The table covers every
user-facing string of ``check()`` (``sandbox/feedback.py``, ``compare.py``) and of the grader's
per-item feedback and report (``judge/judge.py``, ``judge/measured.py``, ``judge/report.py``).
Item titles and hints come from the exercise's catalogue (``locales/ja/exercises/NN_topic.po``,
msgctxt ``title`` and ``hint``) when it is there; otherwise they stay English.

The language: the grader reads ``metadata.rnncourse.lang`` of the submitted notebook; ``check()``
reads the ``RNNCOURSE_LANG`` environment variable, which the first cell of a released Japanese
notebook sets.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path

__all__ = ["LANGS", "ENV_VAR", "STUB", "ANSWER", "LANG_CELL", "notebook_lang", "env_lang",
           "translate", "catalogue_path", "item_text", "TABLE"]

LANGS = ("en", "ja")
ENV_VAR = "RNNCOURSE_LANG"
ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_DIR = ROOT / "locales" / "{lang}" / "exercises"

# Text that release writes into a student notebook.
STUB = {"en": "{name}: your code goes here", "ja": "{name}: ここにコードを書くこと"}
ANSWER = {"en": "*Your answer here.*", "ja": "*ここに解答を書くこと。*"}
LANG_CELL = {
    "ja": ('import os\n\n'
           f'os.environ["{ENV_VAR}"] = "ja"  # check() のメッセージを日本語で表示する'),
}


def notebook_lang(nb) -> str:
    """``metadata.rnncourse.lang`` of a notebook (dict or NotebookNode); ``"en"`` when absent."""
    meta = nb.get("metadata") if isinstance(nb, dict) else None
    ours = meta.get("rnncourse") if isinstance(meta, dict) else None
    lang = ours.get("lang") if isinstance(ours, dict) else None
    return lang if lang in LANGS else "en"


def env_lang() -> str:
    lang = os.environ.get(ENV_VAR, "en").strip().lower()
    return lang if lang in LANGS else "en"


def catalogue_path(exercise: str, lang: str = "ja") -> Path:
    return Path(str(CATALOGUE_DIR).format(lang=lang)) / f"{exercise}.po"


@functools.lru_cache(maxsize=64)
def _catalogue_texts(exercise: str, lang: str) -> dict:
    """{(context, English): translation} of an exercise catalogue's complete entries."""
    path = catalogue_path(exercise, lang)
    if not path.is_file():
        return {}
    try:
        from babel.messages.pofile import read_po
        with path.open("rb") as fh:
            cat = read_po(fh)
    except Exception:  # noqa: BLE001 - feedback never fails for want of a translation
        return {}
    return {(m.context, m.id): m.string for m in cat
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def item_text(exercise: str, context: str, english: str, lang: str) -> str:
    """An item's title (``context="title"``) or hint (``"hint"``) in ``lang``, else English."""
    if lang == "en" or not english:
        return english
    return _catalogue_texts(exercise, lang).get((context, english), english)


# (English regular expression, Japanese template): applied in order with re.sub to each line.
# The English side is what feedback.py, compare.py, judge.py, measured.py and report.py write.
_W = r"[\w.]+"
TABLE: list = [
    # --- check(): headers and verdicts ---
    (rf"^(?P<n>{_W}) \((?P<p>[\d.e+-]+) points?\): ", r"\g<n>（\g<p> 点）: "),
    (r"^  => PASSED: (\d+)/(\d+) cases, ([\d.e+-]+)/([\d.e+-]+) points$",
     r"  => 合格: \1/\2 ケース、\3/\4 点"),
    (r"^  => not yet: (\d+)/(\d+) cases, ([\d.e+-]+)/([\d.e+-]+) points$",
     r"  => 未完成: \1/\2 ケース、\3/\4 点"),
    (r": fill in the code, run its cell, then this one$",
     r": コードを書いてそのセルを実行し、それからこのセルを実行すること"),
    (r"^check: could not run the check: ", r"check: チェックを実行できなかった: "),
    (rf"^check: exercise '({_W})' has no item '({_W})'; items: ",
     r"check: 演習 '\1' に項目 '\2' はない。項目: "),
    (r"^check: ", r"check: "),
    (r"^(\w+) uses (\d+) function\(s\) \((.*)\), got (\d+)$",
     r"\1 は \2 個の関数（\3）を使うが、\4 個渡された"),
    (r"pass your (.*) to check\(\)", r"check() に \1 を渡すこと"),
    # --- per-case lines (check and grader) ---
    (r"^  case (\d+)( \[[^\]]*\])?: FAIL - ", r"  ケース \1\2: 不合格 - "),
    (r"^  case (\d+)( \[[^\]]*\])?: passed: ", r"  ケース \1\2: 合格: "),
    (r"^  case (\d+)( \[[^\]]*\])?: failed: ", r"  ケース \1\2: 不合格: "),
    (r"^  case (\d+)( \[[^\]]*\])?: ", r"  ケース \1\2: "),
    (r"^  cases ([\d, ]+): ", r"  ケース \1: "),
    (r"\bok \(max abs error ([^)]+)\)", r"合格（最大絶対誤差 \1）"),
    (r"^(\w+): ok$", r"\1: 合格"),
    # dependencies: "fix X first"
    (rf"fix ({_W}) first: ({_W}) is run on what your \1 returns, and your \1 is wrong on this case",
     r"先に \1 を直すこと: \2 はあなたの \1 の返り値の上で実行されるが、このケースではその \1 が誤っている"),
    (rf"fix ({_W}) first: it raised ", r"先に \1 を直すこと: \1 が例外を送出した: "),
    (r" on (.+?) \(through your own forward: (.*)\)$",
     r"（\1 の上で。あなた自身の順伝播を通すと: \2）"),
    (rf"; and given (.+?), your ({_W}):? (gave )?",
     r"。また \1 を与えると、あなたの \2 は: "),
    (rf"^({_W}) is run on what your (.+?) returns, and also on (.+?): it was wrong both times\. "
     rf"Fix \2 first, or write \1 for that cache\.$",
     r"\1 はあなたの \2 の返り値の上で、また \3 の上でも実行されたが、どちらでも誤っていた。"
     r"先に \2 を直すか、そのキャッシュに対して \1 を書くこと。"),
    (rf"^({_W}) is run on what your (.+?) returns: fix that first, then this item can be judged\.$",
     r"\1 はあなたの \2 の返り値の上で実行される。先にそれを直せば、この項目を判定できる。"),
    (r"the cache of a correct forward", r"正しい順伝播のキャッシュ"),
    (r"a correct cache", r"正しいキャッシュ"),
    # errors
    (r"not implemented yet \((.*)\)", r"未実装（\1）"),
    (r"\bnot implemented yet\b", r"未実装"),
    (r"(?:^|(?<=: ))raised (\w+(?:\.\w+)*): ", r"例外 \1 を送出した: "),
    (r" at line (\d+): (.*)$", r"（\1 行目: \2）"),
    (r"your code goes here", r"ここにコードを書くこと"),
    (r"not run \(the item stopped before this case\)", r"未実行（この項目はこのケースの前に止まった）"),
    (r"took longer than ([\d.e+-]+) s \(the graded run has a fixed time limit\)",
     r"\1 秒を超えた（採点の実行には決まった制限時間がある）"),
    (r"took longer than ([\d.e+-]+) s", r"\1 秒を超えた（時間切れ）"),
    (r"stopped: the item ran out of time", r"停止: この項目の制限時間を使い切った"),
    (r"^(.+?) is not defined once the notebook has run \(was its cell deleted or renamed, or did it "
     r"raise an error\?\)$",
     r"ノートブックを実行し終えたとき \1 が定義されていない（そのセルを削除したか名前を変えたか、"
     r"またはそのセルでエラーが起きたのではないか）"),
    (r"a graded function", r"採点対象の関数"),
    # output comparisons (compare.py, measured.py)
    (rf"({_W}): expected a numeric array, got ", r"\1: 数値の配列であるべきところ、次が返った: "),
    (rf"({_W}): no numeric array came back", r"\1: 数値の配列が返らなかった"),
    (rf"({_W}): no value came back", r"\1: 値が返らなかった"),
    (rf"({_W}): wrong shape: expected (\(.*?\)), got (\(.*?\))",
     r"\1: 形状が違う: 期待値 \2、実際 \3"),
    (rf"({_W}): expected numbers, got booleans", r"\1: 数値であるべきところ、真偽値が返った"),
    (rf"({_W}): contains (\d+) NaN/inf value\(s\)", r"\1: NaN/inf の値が \2 個ある"),
    (rf"({_W}): contains NaN/inf values", r"\1: NaN/inf の値がある"),
    (rf"({_W}): (\d+) of (\d+) value\(s\) outside tolerance; max abs error (\S+) "
     r"\(allowed (\S+) \+ (\S+)\*\|expected\|\)",
     r"\1: \3 個中 \2 個の値が許容誤差の外にある。最大絶対誤差 \4（許容: \5 + \6*|期待値|）"),
    (r"the returned model could not be evaluated \((.*)\)$", r"返されたモデルを評価できなかった（\1）"),
    # grader: per item
    (r"^(\d+)/(\d+) hidden cases passed\.$", r"非公開のテストケース \2 個中 \1 個に合格した。"),
    (r"^(\d+)/(\d+) graded runs reached the threshold\.$", r"採点の実行 \2 回中 \1 回が基準に達した。"),
    (r"^\(Otherwise (.*)\)$", r"（それ以外の点では、\1）"),
    (r"^Not graded: the grading harness returned nothing readable\.$",
     r"採点されなかった: 採点ハーネスから読める結果が返らなかった。"),
    (r"^Not graded: ", r"採点されなかった: "),
    (r"^Hint: ", r"ヒント: "),
    (r"^  hint: ", r"  ヒント: "),
    (r"^0 points: this item must not use (.*)\.$", r"0 点: この項目では \1 を使ってはならない。"),
    (r"^  cell (\d+), line (\d+): (.*)  \(uses (.*)\)$", r"  セル \1、\2 行目: \3  （\4 を使っている）"),
    (r"^0 points: cell (\d+) holds (.*), so the grader cannot verify that this item avoids (.*); "
     r"simplify that code\.$",
     r"0 点: セル \1 に \2 があるため、この項目が \3 を使っていないことを採点器が確認できない。"
     r"そのコードを簡単にすること。"),
    (r"passes, but so would zeros, ones or an input returned unchanged: this edge case counts once a "
     r"case that needs working code passes",
     r"合格したが、ゼロや 1、入力をそのまま返しても合格する。この境界ケースは、動くコードを必要とする"
     r"ケースに合格したときに数える"),
    (r"the kernel died while your code was being graded on this item: ",
     r"この項目の採点中にカーネルが停止した: "),
    (r"your code did not finish on this item's hidden cases in time, even when interrupted",
     r"この項目の非公開テストケースで、割り込んでもコードが時間内に終わらなかった"),
    (r"the grading harness could not run in your kernel \((.*)\)",
     r"採点ハーネスがあなたのカーネルで動かなかった（\1）"),
    (r"the kernel had stopped", r"カーネルは停止していた"),
    # grader: report
    (rf"^Exercise ({_W}) \((.*)\): ([\d.e+-]+)/([\d.e+-]+) points\.$", r"演習 \1（\2）: \3/\4 点。"),
    (r"^Your notebook ran (\d+) of (\d+) code cells in ([\d.]+) s; (\d+) raised an error\.$",
     r"ノートブックのコードセル \2 個中 \1 個を \3 秒で実行した。エラーを送出したセルは \4 個。"),
    (r"^  cell (\d+) did not finish in time and was interrupted\.$",
     r"  セル \1 は時間内に終わらず、中断された。"),
    (r"^  cell (\d+): ", r"  セル \1: "),
    (r"^Graded on hidden test cases drawn at grading time; each test below says what failed\.$",
     r"採点時に生成した非公開のテストケースで採点した。下の各テストが、何が不合格だったかを示す。"),
]
_COMPILED = [(re.compile(p), r) for p, r in TABLE]
_TITLE_LINE = re.compile(r"^(?P<n>[\w.]+) \((?P<p>[\d.e+-]+) points?\): (?P<t>.*)$")
_HINT_LINE = re.compile(r"^(?P<h>  hint: |Hint: )(?P<t>.*)$", re.S)
_EXERCISE_LINE = re.compile(r"^Exercise (?P<id>[\w.]+) \((?P<t>.*)\): (?P<rest>[\d.e+-]+/[\d.e+-]+ points\.)$")


def _line(line: str, lang: str, exercise: str | None) -> str:
    # Titles and hints are looked up whole in the exercise's catalogue, never rewritten piecemeal.
    m = _TITLE_LINE.match(line)
    if m:
        return f"{m['n']}（{m['p']} 点）: " + item_text(exercise or "", "title", m["t"], lang)
    m = _HINT_LINE.match(line)
    if m:
        head = "  ヒント: " if m["h"].startswith(" ") else "ヒント: "
        return head + item_text(exercise or "", "hint", m["t"], lang)
    m = _EXERCISE_LINE.match(line)
    if m:
        title = item_text(exercise or m["id"], "exercise-title", m["t"], lang)
        pts = m["rest"].removesuffix(" points.")
        return f"演習 {m['id']}（{title}）: {pts} 点。"
    for pattern, repl in _COMPILED:
        line = pattern.sub(repl, line)
    return line


def translate(text: str, lang: str, exercise: str | None = None) -> str:
    """Render feedback written in English in ``lang`` (line by line); English is returned as is."""
    if lang not in LANGS or lang == "en" or not text:
        return text
    return "\n".join(_line(line, lang, exercise) for line in text.split("\n"))
