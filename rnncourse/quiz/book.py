"""Find the sections of the book, so that question and glossary links can be checked and a terminal
can name them: ``label -> (file, chapter number and title, section title)``, and a link."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["book_labels", "book_sections", "Section", "section_url", "japanese_titles", "BOOK_DIR"]

BOOK_DIR = Path(__file__).resolve().parents[2] / "book"
_LABEL = re.compile(r"^\((?P<label>[\w\-.:]+)\)=\s*$", re.M)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


@dataclass(frozen=True)
class Section:
    label: str
    file: str              # "book/04_lstm"
    title: str             # the heading after the label ("" if none)
    chapter: str           # the file's first-level heading
    number: str            # "4" for book/04_lstm.ipynb, "" for pages without a number

    def describe(self, lang: str = "en") -> str:
        """``chapter 4 “Long short-term memory”, section “Counting parameters”`` (or Japanese)."""
        if lang == "ja":
            titles = japanese_titles(self.file)
            chapter, title = titles.get(self.chapter, self.chapter), titles.get(self.title, self.title)
            chap = f"第{self.number}章「{chapter}」" if self.number else f"「{chapter}」"
            return chap if self.title == self.chapter or not self.title else f"{chap}の節「{title}」"
        chap = f"chapter {self.number} “{self.chapter}”" if self.number else f"“{self.chapter}”"
        return chap if self.title == self.chapter or not self.title else f"{chap}, section “{self.title}”"


CATALOGUES = BOOK_DIR.parent / "locales" / "ja" / "LC_MESSAGES"


def japanese_titles(file: str, catalogues: Path | None = None) -> dict[str, str]:
    """``{English heading: Japanese heading}`` (plain text) of one document, from the Japanese edition's
    message catalogue (``locales/ja/LC_MESSAGES/<file>.po``); empty when there is none."""
    po = Path(catalogues or CATALOGUES) / f"{file}.po"
    return dict(_titles_of(str(po), po.stat().st_mtime if po.is_file() else 0.0))


@lru_cache(maxsize=64)
def _titles_of(po: str, _mtime: float) -> tuple[tuple[str, str], ...]:
    if not _mtime:
        return ()
    from babel.messages.pofile import read_po

    with open(po, "rb") as f:
        catalogue = read_po(f)
    return tuple((_plain_title(m.id), _plain_title(m.string)) for m in catalogue
                 if m.id and m.string and "fuzzy" not in m.flags and "\n" not in m.id)


def _texts(path: Path):
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                src = cell["source"]
                yield "".join(src) if isinstance(src, list) else src
    else:
        yield path.read_text(encoding="utf-8")


def _plain_title(title: str) -> str:
    title = re.sub(r"\$([^$]*)\$", r"\1", title)          # math in a heading: keep the text
    title = re.sub(r"[*`]", "", title)
    return re.sub(r"\{[a-z]+\}`([^`<]*)[^`]*`", r"\1", title).strip()


def book_sections(book_dir: Path = BOOK_DIR) -> dict[str, Section]:
    """``{label: Section}`` for every ``(label)=`` target in the book's sources."""
    sections: dict[str, Section] = {}
    for path in sorted(Path(book_dir).glob("*")):
        if path.suffix not in (".md", ".ipynb"):
            continue
        number = str(int(path.stem[:2])) if path.stem[:2].isdigit() else ""
        chapter, found = "", []
        for text in _texts(path):
            lines = text.splitlines()
            for k, line in enumerate(lines):
                h = _HEADING.match(line)
                if h and len(h.group(1)) == 1 and not chapter:
                    chapter = _plain_title(h.group(2))
                m = _LABEL.match(line)
                if m:
                    title = ""
                    for nxt in lines[k + 1:]:
                        if nxt.strip():
                            h2 = _HEADING.match(nxt)
                            title = _plain_title(h2.group(2)) if h2 else ""
                            break
                    found.append((m.group("label"), title))
        for label, title in found:
            sections[label] = Section(label, f"book/{path.stem}", title or chapter, chapter, number)
    return sections


def book_labels(book_dir: Path = BOOK_DIR) -> dict[str, str]:
    """``{label: "book/<file>"}`` for every ``(label)=`` target in the book's sources."""
    return {label: s.file for label, s in book_sections(book_dir).items()}


def section_url(section: Section, base: str | None = None, lang: str = "en") -> str:
    """A link to the section in the built book: ``$RNNCOURSE_BOOK_URL`` if set (the published book),
    else the local build ``_build/html`` of this checkout (``make book`` writes it); the Japanese
    edition (``lang="ja"``) lives under ``ja/`` of either."""
    if base is None:
        base = os.environ.get("RNNCOURSE_BOOK_URL") or (BOOK_DIR.parent / "_build" / "html").as_uri()
    base = base.rstrip("/") + ("/ja" if lang == "ja" else "")
    return f"{base}/{section.file}.html#{section.label}"
