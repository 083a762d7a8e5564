"""Render questions and the glossary as MyST markdown for the book (answers in dropdowns)."""
from __future__ import annotations

from .bank import Question, load_bank, load_glossary

__all__ = ["questions_markdown", "glossary_markdown", "show_questions", "show_glossary"]

_LETTERS = "abcdefghij"


def _one(q: Question, n: int, lang: str) -> str:
    t = q.text[lang]
    lines = [f"**Q{n}.** {t['question']}", ""]
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
    head = "Answer" if lang == "en" else "解答"
    see = "see" if lang == "en" else "参照"
    # the answer goes inside the fold: a dropdown's title is always visible
    lines += [f":::{{admonition}} {head}", ":class: dropdown",
              f"**{answer}** {t['explanation']} ({see} {{ref}}`{q.ref}`)", ":::", ""]
    return "\n".join(lines)


def questions_markdown(questions, lang: str = "both") -> str:
    """Markdown for a list of questions; ``lang`` is ``"en"``, ``"ja"`` or ``"both"``."""
    if lang not in ("en", "ja", "both"):
        raise ValueError(f"lang: expected 'en', 'ja' or 'both', got {lang!r}")
    langs = ("en", "ja") if lang == "both" else (lang,)
    blocks = []
    for n, q in enumerate(questions, 1):
        blocks.extend(_one(q, n, la) for la in langs)
    return "\n".join(blocks)


def glossary_markdown(entries) -> str:
    rows = ["| English | 日本語 | definition | taught in |", "|---|---|---|---|"]
    for e in entries:
        rows.append(f"| {e['en']} | {e['ja']} | {e['definition']} | {{ref}}`{e['ref']}` |")
    return "\n".join(rows)


def show_questions(chapter: str, lang: str = "both"):
    """Display a chapter's questions in a notebook (rendered as MyST by the book build)."""
    from IPython.display import Markdown, display

    qs = load_bank([chapter])
    if not qs:
        raise ValueError(f"chapter: no questions found for {chapter!r}")
    display(Markdown(questions_markdown(qs, lang)))


def show_glossary():
    from IPython.display import Markdown, display

    display(Markdown(glossary_markdown(load_glossary())))
