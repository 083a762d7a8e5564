"""Render questions, the glossary and the syllabus table as MyST markdown for the book.

Answers sit in folded dropdowns; formulas are written ``$...$`` in the bank and typeset by the book;
every question shows its id (the key of an answers file for ``rnncourse quiz --answers``) and its
syllabus items. ``lang="tabs"`` puts English and Japanese on two tabs (sphinx-design), so a page
shows one language at a time.
"""
from __future__ import annotations

from .bank import Question, load_bank, load_glossary
from .syllabus import ITEMS, OUTSIDE

__all__ = ["questions_markdown", "glossary_markdown", "syllabus_markdown", "show_questions",
           "show_glossary", "tabs", "OUTSIDE_SYLLABUS_BADGE", "outside_syllabus_badge", "LANG_TABS"]

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
    refs = {it.id: [] for it in ITEMS}
    for q in questions:
        for tag in q.syllabus:
            counts[tag] += 1
            if q.ref not in refs[tag]:
                refs[tag].append(q.ref)
    head = {"en": "| item | topic | keywords | taught in | questions |",
            "ja": "| 項目 | 内容 | キーワード | 本書の該当箇所 | 問題数 |"}[lang]
    rows = [head, "|---|---|---|---|---|"]
    for it in ITEMS:
        where = [l for l in it.taught if l in labels]
        chapters = {labels[l] for l in where}
        for ref in refs[it.id]:                     # chapters that teach it but are not listed yet
            if ref in labels and labels[ref] not in chapters:
                where.append(ref)
                chapters.add(labels[ref])
        if it.id == OUTSIDE:
            where = []
        taught = ", ".join(f"{{ref}}`{l}`" for l in where) or ("—" if lang == "en" else "—")
        name = it.en if lang == "en" else it.ja
        keywords = it.keywords_en if lang == "en" else it.keywords_ja
        mark = " ★" if it.sequence else ""
        rows.append(f"| {it.id}{mark} | {name} | {keywords} | {taught} | {counts[it.id]} |")
    return "\n".join(rows)


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

