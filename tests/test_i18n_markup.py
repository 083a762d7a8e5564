"""A translation keeps the markup of its English message (issue 14).

Sphinx re-parses every Japanese message (msgstr) as MyST, so a translation that drops or alters a
role, a math span, inline code or a link target breaks the Japanese page in ways a build does not
always report: a citation vanishes, a glued number is not shown, an equation reference points
nowhere, or the formula differs from the English one. This test compares, for every translated
message of every catalogue, the *protected spans* of the English message with those of its
translation: the same roles (``{cite}`key```, ``{glue:text}`name:.2f```, ``{ref}`label```, ...),
the same math (``$...$``, ``$$...$$``), the same inline code and the same link targets, each as
many times (order may change, as Japanese word order does). Translators can run it on one
catalogue from the command line:

    .venv/bin/python tests/test_i18n_markup.py locales/ja/LC_MESSAGES/book/07_recursive.po
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted((ROOT / "locales" / "ja" / "LC_MESSAGES").rglob("*.po"))

# Order matters: display math first, roles before inline code, inline code (which may hold a `$`)
# before inline math.
_PATTERNS = [
    ("display math", re.compile(r"(?<!\\)\$\$.+?(?<!\\)\$\$", re.S)),
    ("role", re.compile(r"\{[A-Za-z][\w:.-]*\}`[^`]*`")),
    ("inline code", re.compile(r"``[^`]+``|`[^`]+`")),
    ("inline math", re.compile(r"(?<![\\$])\$(?!\$)(?:\\.|[^$\\])+?\$")),
    ("link target", re.compile(r"\]\(([^)\s]+)\)")),
    ("label", re.compile(r"^\(([\w:.-]+)\)=", re.M)),
    ("html tag", re.compile(r"</?[A-Za-z][^>]*>")),
]


_ROLE_WITH_TARGET = re.compile(r"^(\{[^}]*\})`(?:[^`<]*?)<([^`>]+)>`$", re.S)
_MATH_TEXT = re.compile(r"\\(text|textrm|textit|mathrm)\{[^{}]*\}")


def _canonical(kind: str, span: str) -> str:
    """What must stay identical: a role's name and target (its link text may be translated), a
    formula up to the words inside \\text{...} (labels in a formula may be translated)."""
    span = re.sub(r"\s+", " ", span).strip()
    if kind == "role":
        m = _ROLE_WITH_TARGET.match(span)
        if m:
            return f"{m.group(1)}`<{m.group(2).strip()}>`"
    if kind in ("inline math", "display math"):
        span = _MATH_TEXT.sub(lambda m: "\\" + m.group(1) + "{…}", span)
    return span


def protected_spans(text: str) -> Counter:
    """The markup spans of a message that a translation must keep verbatim, with their counts."""
    spans: Counter = Counter()
    rest = text
    for kind, pattern in _PATTERNS:
        found = pattern.findall(rest)
        for span in found:
            spans[(kind, _canonical(kind, span))] += 1
        rest = pattern.sub(" ", rest)
    return spans


def problems_in(path: Path) -> tuple[list[str], int, int]:
    """(problems, translated, total) for one catalogue; untranslated messages are not problems here."""
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalogue = read_po(f)
    problems, translated, total = [], 0, 0
    for message in catalogue:
        if not message.id:
            continue
        total += 1
        if not message.string:
            continue
        translated += 1
        want, got = protected_spans(message.id), protected_spans(message.string)
        missing, extra = want - got, got - want
        if missing or extra:
            head = message.id[:70].replace("\n", " ")
            detail = []
            if missing:
                detail.append("missing " + "; ".join(f"{k} {s!r}" + (f" x{n}" if n > 1 else "")
                                                   for (k, s), n in missing.items()))
            if extra:
                detail.append("not in the English " + "; ".join(f"{k} {s!r}" for (k, s), n in extra.items()))
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            problems.append(f"{where}: {head!r}...: " + " | ".join(detail))
    return problems, translated, total


def test_protected_spans_finds_each_kind():
    text = ("See {cite}`a2000` and {glue:text}`ch02-x:.2f`, $h^{(t)} = \\tanh(a)$, `np.add.at`, "
            "[chapter 4](04_lstm.ipynb) and $$\nE = mc^2\n$$ and <b>bold</b>. It costs \\$5.")
    spans = protected_spans(text)
    kinds = Counter(kind for kind, _ in spans.elements())
    assert kinds == Counter({"role": 2, "inline math": 1, "inline code": 1, "link target": 1,
                             "display math": 1, "html tag": 2})


def test_a_dollar_in_inline_code_is_code_not_math():
    spans = protected_spans("the end symbol (`$`) follows $y^{(n)}$ and the text between is prose")
    assert spans == Counter({("inline code", "`$`"): 1, ("inline math", "$y^{(n)}$"): 1})


def test_an_escaped_dollar_in_math_does_not_open_display_math():
    spans = protected_spans("costs $\\$$5 in total, and $x$ is prose-free")
    assert spans == Counter({("inline math", "$\\$$"): 1, ("inline math", "$x$"): 1})


def test_a_changed_formula_or_dropped_role_is_a_problem(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "The gate $f = \\\\sigma(a)$ {cite}`gers2000`."\n'
        'msgstr "ゲートは $f = \\\\sigma(b)$ である。"\n\n'
        'msgid "Kept $x$ and {ref}`sec-a`."\nmsgstr "{ref}`sec-a` と $x$ を保つ。"\n\n'
        'msgid "Untranslated."\nmsgstr ""\n',
        encoding="utf-8")
    problems, translated, total = problems_in(po)
    assert (translated, total) == (2, 3)
    assert len(problems) == 1
    assert "gers2000" in problems[0] and "sigma(a)" in problems[0] and "sigma(b)" in problems[0]


def test_link_text_and_formula_labels_may_be_translated_targets_may_not():
    assert protected_spans("{ref}`mock exam <exam-prep>`") == protected_spans("{ref}`模擬試験 <exam-prep>`")
    assert protected_spans("{ref}`mock exam <exam-prep>`") != protected_spans("{ref}`模擬試験 <exam>`")
    assert (protected_spans("$$y = Wx \\quad \\text{(output)}$$")
            == protected_spans("$$y = Wx \\quad \\text{（出力）}$$"))
    assert protected_spans("$$y = Wx \\text{(a)}$$") != protected_spans("$$y = Vx \\text{(a)}$$")


def is_math_block(msgid: str) -> bool:
    """A message that is the body of a display-math block (raw TeX, no ``$`` delimiters, no roles)."""
    return bool(re.search(r"\\[A-Za-z]+", msgid)) and "$" not in msgid and "`" not in msgid


def math_blocks_translated(path: Path) -> list[str]:
    """Display-math messages whose translation differs from the English. Sphinx re-parses a translated
    math block as MyST and the page shows ``::`` instead of the formula, without a warning; a math
    block's msgstr must equal its msgid (Sphinx then leaves the block alone). Words inside \\text{...}
    stay English in display math; translate them in the surrounding prose."""
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalogue = read_po(f)
    return [m.id[:70] for m in catalogue if m.id and m.string and is_math_block(m.id) and m.string != m.id]


def test_math_block_detection():
    assert is_math_block("i^{(t)} = \\sigma\\left(a_i\\right) \\qquad \\text{input gate}")
    assert not is_math_block("The gate $f = \\sigma(a)$ is a sigmoid.")
    assert not is_math_block("Plain prose without any TeX.")


def test_a_translated_math_block_is_found(tmp_path):
    po = tmp_path / "m.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "f = \\\\sigma(a) \\\\qquad \\\\text{forget gate}"\n'
        'msgstr "f = \\\\sigma(a) \\\\qquad \\\\text{忘却ゲート}"\n\n'
        'msgid "g = \\\\tanh(a)"\nmsgstr "g = \\\\tanh(a)"\n',
        encoding="utf-8")
    assert math_blocks_translated(po) == ["f = \\sigma(a) \\qquad \\text{forget gate}"]


@pytest.mark.parametrize("path", CATALOGUES, ids=[p.stem for p in CATALOGUES])
def test_display_math_is_not_translated(path):
    bad = math_blocks_translated(path)
    assert not bad, (f"{len(bad)} display-math message(s) translated (the page would show '::'); "
                     "set msgstr to the msgid:\n" + "\n".join(bad))


@pytest.mark.parametrize("path", CATALOGUES, ids=[p.stem for p in CATALOGUES])
def test_translations_keep_the_english_markup(path):
    problems, _, _ = problems_in(path)
    assert not problems, f"{len(problems)} translation(s) changed the markup:\n" + "\n".join(problems)


if __name__ == "__main__":
    status = 0
    for arg in sys.argv[1:] or [str(p) for p in CATALOGUES]:
        problems, translated, total = problems_in(Path(arg).resolve())
        print(f"{arg}: {translated}/{total} translated, {len(problems)} markup problem(s)")
        for p in problems:
            print("  " + p)
        status |= bool(problems)
    sys.exit(status)
