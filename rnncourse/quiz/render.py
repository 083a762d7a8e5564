"""Render questions, the glossary and the syllabus table as MyST markdown for the book.

Answers sit in folded dropdowns; formulas are written ``$...$`` in the bank and typeset by the book;
every question shows its id (the key of an answers file for ``rnncourse quiz --answers``) and its
syllabus items. ``lang="tabs"`` puts English and Japanese on two tabs (sphinx-design), so a page
shows one language at a time.
"""
from __future__ import annotations

from .bank import Question, load_bank, load_glossary
from .syllabus import ITEMS, MOCK_MINUTES, MOCK_SIZE, OUTSIDE, OUTSIDE_SECTIONS, SYLLABUS_NAME

__all__ = ["questions_markdown", "glossary_markdown", "syllabus_markdown", "syllabus_section",
           "sample_questions", "show_questions", "show_glossary", "tabs", "OUTSIDE_SYLLABUS_BADGE",
           "outside_syllabus_badge", "LANG_TABS"]

_LETTERS = "abcdefghij"
LANG_TABS = (("en", "English"), ("ja", "日本語"))

_UI = {
    "en": dict(answer="Answer", see="see", scenario="Scenario", source="Source", outside="outside the syllabus",
               syllabus="E資格"),
    "ja": dict(answer="解答", see="参照", scenario="設定", source="出典", outside="範囲外", syllabus="E資格"),
}

# The badge for a chapter or section outside the E資格 syllabus (styled by book/_static/rnncourse.css).
OUTSIDE_SYLLABUS_BADGE = (
    ":::{admonition} Outside the E資格 syllabus · E資格の範囲外\n"
    ":class: outside-syllabus\n"
    "Not in JDLA's E資格 syllabus (シラバス2024); the mock exam (`rnncourse quiz --mock`) skips it. "
    "E資格（シラバス2024）の出題範囲外です。模擬試験では出題しません。\n"
    ":::"
)


def outside_syllabus_badge() -> str:
    """The MyST markdown of the badge (the same text as :data:`OUTSIDE_SYLLABUS_BADGE`)."""
    return OUTSIDE_SYLLABUS_BADGE


def _tags(q: Question, lang: str) -> str:
    ui = _UI[lang]
    if not q.in_syllabus:
        return f"{ui['syllabus']} {ui['outside']}"
    return f"{ui['syllabus']} " + ", ".join(q.syllabus)


def _one(q: Question, n: int, lang: str, show_scenario: bool = True) -> str:
    t, ui = q.text[lang], _UI[lang]
    lines = []
    if q.scenario and show_scenario:
        lines += [f"> **{ui['scenario']}.** {q.scenario_text[lang]}", ""]
        if q.scenario_text["figure"]:
            lines += ["```text", q.scenario_text["figure"], "```", ""]
    lines += [f"**Q{n}.** `{q.id}` · *{_tags(q, lang)}*", "", t["question"], ""]
    if q.figure:
        lines += ["```text", q.figure, "```", ""]
    if q.kind == "code":
        lines += ["```python", q.code, "```", ""]
    for k, choice in enumerate(q.choices_in(lang)):
        shown = f"`{choice}`" if q.kind == "code" else choice
        lines.append(f"- ({_LETTERS[k]}) {shown}")
    if q.kind != "numeric":
        lines.append("")
        answer = f"({_LETTERS[int(q.answer)]})"
    else:
        answer = f"{q.answer:g}"
    body = f"**{answer}** {t['explanation']} ({ui['see']} {{ref}}`{q.ref}`)"
    if q.source:
        body += f"\n\n*{ui['source']}: {q.source[lang]}*"
    # the answer goes inside the fold: a dropdown's title is always visible
    lines += [f":::{{admonition}} {ui['answer']}", ":class: dropdown", body, ":::", ""]
    return "\n".join(lines)


def _block(questions, lang: str) -> str:
    out, prev = [], None
    for n, q in enumerate(questions, 1):
        first = bool(q.scenario) and (prev is None or (prev.chapter, prev.scenario) != (q.chapter, q.scenario))
        out.append(_one(q, n, lang, show_scenario=first))
        prev = q
    return "\n".join(out)


def questions_markdown(questions, lang: str = "both") -> str:
    """Markdown for a list of questions; ``lang`` is ``"en"``, ``"ja"``, ``"both"`` (each question in
    English then Japanese) or ``"tabs"`` (an English tab and a Japanese tab)."""
    if lang not in ("en", "ja", "both", "tabs"):
        raise ValueError(f"lang: expected 'en', 'ja', 'both' or 'tabs', got {lang!r}")
    questions = list(questions)
    if lang == "tabs":
        return tabs({la: _block(questions, la) for la, _ in LANG_TABS})
    if lang in ("en", "ja"):
        return _block(questions, lang)
    blocks, prev = [], None
    for n, q in enumerate(questions, 1):
        first = bool(q.scenario) and (prev is None or (prev.chapter, prev.scenario) != (q.chapter, q.scenario))
        blocks.extend(_one(q, n, la, show_scenario=first) for la in ("en", "ja"))
        prev = q
    return "\n".join(blocks)


def tabs(by_lang: dict) -> str:
    """A sphinx-design tab set with one tab per language (colon fences deeper than the content's)."""
    parts = ["::::::{tab-set}"]
    for la, title in LANG_TABS:
        parts += [f":::::{{tab-item}} {title}", ":sync: " + la, "", by_lang[la], ":::::"]
    parts.append("::::::")
    return "\n".join(parts)


def glossary_markdown(entries) -> str:
    rows = ["| English | 日本語 | definition | taught in |", "|---|---|---|---|"]
    for e in entries:
        rows.append(f"| {e['en']} | {e['ja']} | {e['definition']} | {{ref}}`{e['ref']}` |")
    return "\n".join(rows)


def syllabus_markdown(questions, lang: str = "en", labels=None) -> str:
    """The syllabus items with where the book teaches each and how many questions cover it."""
    from .book import book_labels

    labels = book_labels() if labels is None else labels
    counts = {it.id: 0 for it in ITEMS}
    refs = {it.id: {} for it in ITEMS}           # item -> {ref: number of its questions there}
    for q in questions:
        for tag in q.syllabus:
            counts[tag] += 1
            refs[tag][q.ref] = refs[tag].get(q.ref, 0) + 1
    head = {"en": "| item | topic | keywords | taught in | questions | mock share |",
            "ja": "| 項目 | 内容 | キーワード | 本書の該当箇所 | 問題数 | 模試の配分 |"}[lang]
    rows = [head, "|---|---|---|---|---|---|"]
    for it in ITEMS:
        where = [l for l in it.taught if l in labels]
        chapters = {labels[l] for l in where}
        per_chapter = {}
        for ref, n in refs[it.id].items():
            if ref in labels:
                per_chapter.setdefault(labels[ref], []).append((n, ref))
        for chapter, found in per_chapter.items():  # a chapter that teaches it (3+ questions) but is not listed
            if chapter not in chapters and (not where or sum(n for n, _ in found) >= 3):
                where.append(max(found)[1])
                chapters.add(chapter)
        if it.id == OUTSIDE:
            where = []
        taught = ", ".join(f"{{ref}}`{l}`" for l in where) or ("—" if lang == "en" else "—")
        name = it.en if lang == "en" else it.ja
        keywords = it.keywords_en if lang == "en" else it.keywords_ja
        mark = " ★" if it.sequence else ""
        rows.append(f"| {it.id}{mark} | {name} | {keywords} | {taught} | {counts[it.id]} | {it.weight} |")
    return "\n".join(rows)


_SYLLABUS_TEXT = {
    "en": dict(
        intro=f"Every question of the course carries the items of JDLA's E資格 syllabus in force, {SYLLABUS_NAME} "
              "(applied since the exam E2024#2), that it covers. ★ marks the sequence-model items, each covered by "
              "at least 12 questions. The item ids are the course's: the big and middle items in the order of "
              "シラバス2024, with the recurrent-network and NLP items split into the groups of keywords the "
              "course teaches. *Mock share* is how many of the 100 questions of `rnncourse quiz --mock` each "
              "item gets (the course's estimate: JDLA does not publish the split).",
        outside="**Outside the syllabus** (tag `x`). These parts of the book are not in シラバス2024; they carry "
                "the badge *Outside the E資格 syllabus*, their questions stay in the chapters and in "
                "`rnncourse quiz`, and the mock exam never draws them:",
        pending="**Not taught yet:** {items}. Chapter 13 (the Transformer and pre-training objectives) is in "
                "preparation; until then these items have no questions.",
    ),
    "ja": dict(
        intro=f"本コースのすべての問題に、現行の JDLA E資格シラバス（{SYLLABUS_NAME}、E2024#2 から適用）の"
              "どの項目を扱うかを付けています。★ は系列モデルの項目で、それぞれ12問以上あります。項目番号は"
              "本コース独自のもので、シラバス2024 の大項目・中項目の順に番号を振り、リカレントニューラル"
              "ネットワークと自然言語処理は本コースで扱うキーワードのまとまりごとに分けています。"
              "「模試の配分」は `rnncourse quiz --mock` の100問のうち各項目から出題する数です"
              "（JDLA は配分を公表していないため、本コースの推定です）。",
        outside="**範囲外**（タグ `x`）。本書の次の部分はシラバス2024 の範囲外です。「E資格の範囲外」の"
                "バッジが付いており、問題は各章と `rnncourse quiz` には残りますが、模擬試験では出題しません:",
        pending="**まだ本書で扱っていない項目:** {items}。第13章（Transformer と事前学習の目的関数）を準備中で、"
                "それまではこれらの項目の問題はありません。",
    ),
}


def syllabus_section(questions, labels=None) -> str:
    """The exam page's syllabus section: table, the parts outside the syllabus, items not taught yet;
    English and Japanese on two tabs."""
    from .book import book_labels

    labels = book_labels() if labels is None else labels
    counts = {it.id: sum(it.id in q.syllabus for q in questions) for it in ITEMS}
    by_lang = {}
    for lang, _ in LANG_TABS:
        text = _SYLLABUS_TEXT[lang]
        parts = [text["intro"], "", syllabus_markdown(questions, lang, labels), "", text["outside"], ""]
        parts += [f"- {{ref}}`{label}`" for label in OUTSIDE_SECTIONS if label in labels]
        pending = [it for it in ITEMS if it.sequence and not counts[it.id]
                   and not any(l in labels for l in it.taught)]
        if pending:
            names = ", ".join(f"{it.id} {it.en if lang == 'en' else it.ja}" for it in pending)
            parts += ["", text["pending"].format(items=names)]
        by_lang[lang] = "\n".join(parts)
    return tabs(by_lang)


def sample_questions(questions, n: int = 20, seed: int = 2026) -> str:
    """``n`` in-syllabus questions (a scenario set stays together), English and Japanese tabs."""
    from .session import make_exam

    pool = [q for q in questions if q.in_syllabus]
    picked = [it.question for it in make_exam(pool, n, seed)]
    intro = {"en": f"*{len(picked)} of the {len(pool)} in-syllabus questions of the bank "
                   f"(all: {len(questions)}), picked with seed {seed}; the letters are those of the bank, "
                   "so an answers file for `rnncourse quiz --answers` uses them as shown.*",
             "ja": f"*問題バンクのシラバス内の {len(pool)} 問（全 {len(questions)} 問）から {len(picked)} 問を"
                   f"シード {seed} で選んだもの。選択肢の記号は問題バンクの順なので、`rnncourse quiz --answers` "
                   "の解答ファイルにはここに表示された記号をそのまま書けます。*"}
    return tabs({la: intro[la] + "\n\n" + _block(picked, la) for la, _ in LANG_TABS})


def show_questions(chapter: str, lang: str = "tabs"):
    """Display a chapter's questions in a notebook (rendered as MyST by the book build)."""
    from IPython.display import Markdown, display

    qs = load_bank([chapter])
    if not qs:
        raise ValueError(f"chapter: no questions found for {chapter!r}")
    display(Markdown(questions_markdown(qs, lang)))


def show_glossary():
    from IPython.display import Markdown, display

    display(Markdown(glossary_markdown(load_glossary())))

