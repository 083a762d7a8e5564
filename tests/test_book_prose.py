"""Numbers in the chapters' prose come from the code (glued) or from a cited source.

A decimal number or a percentage typed into a chapter's markdown is either a measurement that will
drift from the executed outputs, or a number from the literature. The first must be glued
(``{glue:text}`name:.2f```), the second must sit in a sentence that cites its source
(``{cite}`...```). Math (``$...$``, ``{math}`` blocks) and code spans are not prose and are skipped:
a constant in an equation is part of the formula, not a measurement.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))

_FENCE = re.compile(r"^(`{3,}|:{3,}).*?^\1\s*$", re.M | re.S)
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$")
_ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")
_CODE = re.compile(r"`[^`\n]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_LABEL = re.compile(r"^\([\w:.-]+\)=\s*$", re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_NUMBER = re.compile(r"(?<![\w.,])(\d[\d,]*\.\d+|\d+(?:\.\d+)?\s?%)(?![\w.]\d)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(*])")
_CITE = "{cite"


def prose_numbers(markdown: str) -> list[str]:
    """Decimal numbers and percentages in ``markdown`` outside math, code, roles and cited sentences."""
    text = _COMMENT.sub(" ", markdown)
    # a fenced block that is not math or code can hold prose (admonitions, exercises): keep its body
    def fence(m: re.Match) -> str:
        head = m.group(0).splitlines()[0]
        if re.search(r"\{(math|code-cell|code|glue)", head) or re.match(r"`{3,}\s*\w", head) and "{" not in head:
            return " "
        body = m.group(0).splitlines()[1:-1]
        return "\n".join(line for line in body if not line.startswith(":"))
    for _ in range(3):                              # nested fences: peel from the outside in
        text = _FENCE.sub(fence, text)
    text = _DISPLAY_MATH.sub(" ", text)
    text = _INLINE_MATH.sub(" ", text)
    text = _LABEL.sub(" ", text)
    found = []
    # paragraphs, and each item of a list on its own: a citation in one bullet covers only that bullet
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)", text):
        for sentence in _SENTENCE.split(paragraph.replace("\n", " ")):
            if _CITE in sentence:
                continue
            bare = _LINK_TARGET.sub("]", _CODE.sub(" ", _ROLE.sub(" ", sentence)))
            found += [m.group(1) for m in _NUMBER.finditer(bare)]
    return found


def test_prose_numbers_detector():
    md = ("Accuracy reached 0.98 here. Glued: {glue:text}`acc:.2f`. Math $p = 0.5$ and\n"
          "$$x = 1.5$$. Code `lr=0.01`. Cited 0.63 {cite}`x2020`. A 40 % drop.\n\n"
          "```{math}\n0.25\n```\n\n```{note}\nInside a note: 3.5 units.\n```\n")
    assert prose_numbers(md) == ["0.98", "40 %", "3.5"]
    bullets = "- measured 0.46 here\n- cited 0.63 {cite}`x2020`\n"
    assert prose_numbers(bullets) == ["0.46"]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_hand_typed_measurements_in_prose(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    flagged = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            flagged += [f"cell {i}: {n}" for n in prose_numbers("".join(cell["source"]))]
    assert not flagged, ("numbers typed into the prose: glue them from the code "
                         "({glue:text}`name`) or cite their source in the same sentence:\n  "
                         + "\n  ".join(flagged))
