"""Find the section labels of the book, so question and glossary links can be checked."""
from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["book_labels", "BOOK_DIR"]

BOOK_DIR = Path(__file__).resolve().parents[2] / "book"
_LABEL = re.compile(r"^\((?P<label>[\w\-.:]+)\)=\s*$", re.M)


def _texts(path: Path):
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                src = cell["source"]
                yield "".join(src) if isinstance(src, list) else src
    else:
        yield path.read_text(encoding="utf-8")


def book_labels(book_dir: Path = BOOK_DIR) -> dict[str, str]:
    """``{label: "book/<file>"}`` for every ``(label)=`` target in the book's sources."""
    labels: dict[str, str] = {}
    for path in sorted(Path(book_dir).glob("*")):
        if path.suffix not in (".md", ".ipynb"):
            continue
        for text in _texts(path):
            for m in _LABEL.finditer(text):
                labels[m.group("label")] = f"book/{path.stem}"
    return labels
