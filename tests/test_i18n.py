"""The Japanese edition (issue 14) is never out of date, and its Japanese follows the glossary.

The messages of every document are regenerated from the current sources in a scratch directory
(``locales/build.py pot``, as ``make po``: a Sphinx gettext build with notebook execution off, ~30 s,
no book is built, nothing is executed; figure captions set in cell metadata are read from the
notebooks) and compared
with the catalogues ``locales/ja/LC_MESSAGES/<document>.po``:

* a message of the sources that is not in the catalogue (run ``make po``), untranslated or fuzzy,
  or a catalogue entry that the sources no longer have (obsolete), makes the document incomplete;
* a document that is not complete fails ``test_document_fully_translated``; while translation is
  under way the documents listed in ``INCOMPLETE`` are strict expected failures (remove a document
  from the set when its catalogue is complete, or the strict xfail fails);
* translated entries keep every role, glue key, label, math span and code span of the English;
* the glossary's terms (``rnncourse/quiz/bank/glossary*.json``) are used: a message that contains an
  English term must contain its Japanese term; and the book's rule 再帰的 = recursive,
  リカレント = recurrent holds.

``python tests/test_i18n.py [book/04_lstm ...]`` prints the counts per document (messages, words,
what is missing), for translators; ``pytest tests/test_i18n.py -k 04_lstm --runxfail`` shows the
failure of one document that is still in ``INCOMPLETE``.
"""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "locales" / "ja" / "LC_MESSAGES"
GLOSSARY_FILES = sorted((ROOT / "rnncourse" / "quiz" / "bank").glob("glossary*.json"))

# Documents whose Japanese catalogue is not complete yet (strict xfail: remove a document when done).
INCOMPLETE: set[str] = set()


def read_catalogue(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _load_build_module():
    spec = importlib.util.spec_from_file_location("rnncourse_locales_build", ROOT / "locales" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_BUILD = _load_build_module()
DOCUMENTS = _BUILD.book_documents()


# --------------------------------------------------------------------------------------------------
# messages of the current sources


def source_messages(workdir: Path) -> dict[str, list[str]]:
    """{document: msgids in document order} regenerated from the sources into ``workdir``."""
    pot_dir = workdir / "pot"
    cmd = [sys.executable, str(ROOT / "locales" / "build.py"), "pot", str(pot_dir),
           "--doctrees", str(workdir / "doctrees"), "-q"]   # execution off, captions added
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"gettext build failed ({done.returncode}):\n{done.stderr[-3000:]}")
    messages = {}
    for doc in DOCUMENTS:
        pot = pot_dir / f"{doc}.pot"
        messages[doc] = [m.id for m in read_catalogue(pot) if m.id] if pot.is_file() else []
    return messages


@dataclass
class Status:
    doc: str
    total: int = 0
    words: int = 0
    not_in_catalogue: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)
    no_catalogue: bool = False

    @property
    def complete(self) -> bool:
        return not (self.no_catalogue or self.not_in_catalogue or self.untranslated or self.fuzzy
                    or self.obsolete)

    def summary(self) -> str:
        if self.no_catalogue:
            return f"{self.doc}: no catalogue locales/ja/LC_MESSAGES/{self.doc}.po (run make po)"
        todo = len(self.not_in_catalogue) + len(self.untranslated) + len(self.fuzzy)
        text = (f"{self.doc}: {self.total - todo}/{self.total} messages translated "
                f"({self.words} English words); {len(self.untranslated)} untranslated, "
                f"{len(self.fuzzy)} fuzzy, {len(self.obsolete)} obsolete, "
                f"{len(self.not_in_catalogue)} not in the catalogue (run make po)")
        first = (self.not_in_catalogue + self.untranslated + self.fuzzy + self.obsolete)[:3]
        return text + "".join(f"\n    e.g. {m[:100]!r}" for m in first)


def words(text: str) -> int:
    return len(re.findall(r"[A-Za-z][A-Za-z'-]*", text))


def document_status(doc: str, expected: list[str]) -> Status:
    status = Status(doc, total=len(expected), words=sum(words(m) for m in expected))
    po = CATALOGUES / f"{doc}.po"
    if not po.is_file():
        status.no_catalogue = True
        return status
    catalogue = read_catalogue(po)
    active = {m.id: m for m in catalogue if m.id}
    wanted = set(expected)
    for msgid in expected:
        message = active.get(msgid)
        if message is None:
            status.not_in_catalogue.append(msgid)
        elif message.fuzzy:
            status.fuzzy.append(msgid)
        elif not message.string:
            status.untranslated.append(msgid)
    status.obsolete = [m for m in active if m not in wanted] + [m for m in catalogue.obsolete]
    return status


@pytest.fixture(scope="module")
def expected_messages(tmp_path_factory) -> dict[str, list[str]]:
    return source_messages(tmp_path_factory.mktemp("i18n"))


# --------------------------------------------------------------------------------------------------
# completeness


def test_incomplete_set_names_documents():
    assert INCOMPLETE <= set(DOCUMENTS), f"not documents of _toc.yml: {sorted(INCOMPLETE - set(DOCUMENTS))}"


def test_one_catalogue_per_document():
    catalogues = {str(p.relative_to(CATALOGUES).with_suffix("")) for p in CATALOGUES.rglob("*.po")}
    assert not set(DOCUMENTS) - catalogues, (
        f"documents without a catalogue (run make po): {sorted(set(DOCUMENTS) - catalogues)}")
    assert not catalogues - set(DOCUMENTS), (
        f"catalogues of documents that are no longer in _toc.yml: {sorted(catalogues - set(DOCUMENTS))}")


@pytest.mark.parametrize("doc", [
    pytest.param(d, marks=pytest.mark.xfail(strict=True, reason="translation under way (INCOMPLETE)"))
    if d in INCOMPLETE else d for d in DOCUMENTS])
def test_document_fully_translated(doc, expected_messages):
    status = document_status(doc, expected_messages[doc])
    assert status.total > 0, f"{doc}: no messages extracted: the gettext build lost the document"
    assert status.complete, status.summary()


# --------------------------------------------------------------------------------------------------
# what a translation must keep: roles (with their targets), glue keys, math, code

_ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]*)`")
_CODE = re.compile(r"(?<![`}])`([^`]+)`")
_DMATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", re.S)
_MATH = re.compile(r"(?<![\\$])\$(?!\$)((?:\\.|[^$\\])+?)\$")


def protected(text: str) -> set[str]:
    """Parts of a message that a translation must keep verbatim."""
    found = set()
    for role, content in _ROLE.findall(text):
        target = re.search(r"<([^<>]+)>\s*$", content)
        found.add(f"{{{role}}}" + (target.group(1) if target else content))
    rest = _ROLE.sub(" ", text)
    found |= {f"`{c}`" for c in _CODE.findall(rest)}
    rest = _CODE.sub(" ", rest)
    found |= {f"$${m.strip()}$$" for m in _DMATH.findall(rest)}
    rest = _DMATH.sub(" ", rest)
    found |= {f"${m.strip()}$" for m in _MATH.findall(rest)}
    return found


def translated_entries():
    for po in sorted(CATALOGUES.rglob("*.po")):
        doc = str(po.relative_to(CATALOGUES).with_suffix(""))
        for message in read_catalogue(po):
            if message.id and message.string and not message.fuzzy:
                yield doc, message.id, message.string


def test_protected_parts_detected():
    text = "At most {glue:text}`ch04-steps` steps ({ref}`the LSTM <sec-lstm>`), $f = 1$, `torch.nn.LSTM`."
    assert protected(text) == {"{glue:text}ch04-steps", "{ref}sec-lstm", "$f = 1$", "`torch.nn.LSTM`"}
    assert protected("最大 {glue:text}`ch04-steps` 回（{ref}`LSTM <sec-lstm>`）、$f = 1$、`torch.nn.LSTM`。") \
        == protected(text)
    assert protected("最大 {glue:text}`ch04-step` 回、$f=1$") != protected(text)


def test_translations_keep_roles_math_and_code():
    bad = []
    for doc, msgid, msgstr in translated_entries():
        lost, added = protected(msgid) - protected(msgstr), protected(msgstr) - protected(msgid)
        if lost or added:
            bad.append(f"{doc}: {msgid[:70]!r}: lost {sorted(lost)}, added {sorted(added)}")
    assert not bad, f"{len(bad)} translations change roles, labels, math or code:\n" + "\n".join(bad[:20])


# --------------------------------------------------------------------------------------------------
# glossary consistency and 再帰的 = recursive, リカレント = recurrent


def _strip_paren(text: str) -> tuple[str, list[str]]:
    """``'忘却ゲート（forget）'`` -> ``('忘却ゲート', ['forget'])`` (full- or half-width parentheses)."""
    inside = re.findall(r"[（(]([^）)]*)[）)]", text)
    main = re.sub(r"\s*[（(][^）)]*[）)]", "", text).strip()
    alternatives = [a.strip() for part in inside for a in re.split(r"[、,。]", part) if a.strip()]
    return main, alternatives


def glossary_terms() -> list[tuple[str, str, list[str]]]:
    """(English term, Japanese term, accepted Japanese alternatives) from the course glossary.

    The English term loses its parenthesised abbreviation (``'forget gate'``); the Japanese term is
    the text before its parentheses (``'勾配消失'``); the parenthesised Japanese variants are accepted
    too, except any that would render "recurrent" with 再帰.
    """
    terms = []
    for path in GLOSSARY_FILES:
        for entry in json.loads(path.read_text(encoding="utf-8")):
            english, _ = _strip_paren(entry["en"])
            japanese, alternatives = _strip_paren(entry["ja"])
            if re.search(r"recurren", english, re.I):
                alternatives = [a for a in alternatives if "再帰" not in a]
            if english and japanese:
                terms.append((english, japanese, alternatives))
    return terms


def _prose(text: str) -> str:
    """``text`` without roles, code and math, where English terms are not prose."""
    for pattern in (_ROLE, _CODE, _DMATH, _MATH):
        text = pattern.sub(" ", text)
    return text


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def glossary_problems(msgid: str, msgstr: str, terms) -> list[str]:
    """What is wrong with the Japanese of one entry; an entry kept in English on purpose (the
    English tab of a bilingual page, a code or math cell: msgstr = msgid, or no kana or kanji in the
    msgstr) has no Japanese to check."""
    if msgstr == msgid or not _JAPANESE.search(msgstr):
        return []
    problems = []
    prose = _prose(msgid)
    for english, japanese, alternatives in terms:
        if re.search(r"(?<![\w-])" + re.escape(english) + r"(?:s|es)?(?![\w-])", prose, re.I):
            if not any(j in msgstr for j in [japanese, *alternatives]):
                problems.append(f"{english!r} is not rendered {japanese!r}")
    recurrent = re.search(r"\brecurren(?:t|ce)", prose, re.I)
    recursive = re.search(r"\brecursi(?:ve|on)", prose, re.I)
    if recurrent and not recursive and "再帰" in msgstr:
        problems.append("'recurrent' rendered with 再帰 (the book's rule: リカレント = recurrent)")
    if recursive and not recurrent and "リカレント" in msgstr:
        problems.append("'recursive' rendered リカレント (the book's rule: 再帰的 = recursive)")
    return problems


def test_glossary_is_read():
    terms = glossary_terms()
    assert len(terms) >= 100
    assert ("forget gate", "忘却ゲート", []) in terms
    assert ("vanishing gradient", "勾配消失", []) in terms
    rnn = [t for t in terms if t[0] == "recurrent neural network"]
    assert rnn and rnn[0][1] == "リカレントニューラルネットワーク" and not any("再帰" in a for a in rnn[0][2])


def test_glossary_check_flags_other_renderings():
    terms = glossary_terms()
    assert glossary_problems("The forget gate keeps the cell.", "忘却ゲートがセルを保つ。", terms) == []
    assert glossary_problems("The forget gates keep it.", "忘れゲートが保つ。", terms)
    assert glossary_problems("A recurrent network.", "再帰型ネットワーク。", terms)
    assert glossary_problems("A recursive network.", "リカレントネットワーク。", terms)
    assert glossary_problems("A recursive neural network.", "再帰的ニューラルネットワーク。", terms) == []
    # an entry kept in English (the English tab of a bilingual page) is not a rendering
    assert glossary_problems("The forget gate keeps it.", "The forget gate keeps it.", terms) == []
    assert glossary_problems("シラバス: a forget gate.", "シラバス: a forget gate.", terms) == []
    assert glossary_problems("シラバス: a forget gate.", "シラバス: 忘れゲート.", terms)
    # terms inside code, math and roles are not prose
    assert glossary_problems("See `forget gate` and {ref}`forget gate <sec-x>`.", "参照。", terms) == []


def test_translations_use_glossary_terms():
    terms = glossary_terms()
    bad = []
    for doc, msgid, msgstr in translated_entries():
        for problem in glossary_problems(msgid, msgstr, terms):
            bad.append(f"{doc}: {problem}: {msgid[:70]!r}")
    assert not bad, f"{len(bad)} glossary or 再帰/リカレント problems:\n" + "\n".join(bad[:30])


# --------------------------------------------------------------------------------------------------
# no tofu: the book's webfont has every Japanese character that the books use


def _load_webfont_module():
    spec = importlib.util.spec_from_file_location("rnncourse_make_webfont", ROOT / "locales" / "make_webfont.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_webfont_covers_every_japanese_character():
    from fontTools.ttLib import TTFont

    webfont = _load_webfont_module()
    assert webfont.OUT.is_file(), f"{webfont.OUT} missing: run locales/make_webfont.py"
    assert webfont.OUT.stat().st_size < 600 * 1024, "the subset webfont grew past 600 KiB"
    cmap = TTFont(webfont.OUT).getBestCmap()
    assert all(c in cmap for c in range(0x3041, 0x3097)), "hiragana missing from the webfont"
    used = webfont.used_characters()
    assert len(used) > 100 and "忘" in used            # the scan finds the book's kanji
    missing = sorted(c for c in used if ord(c) not in cmap)
    assert not missing, (f"{len(missing)} characters of the texts are not in {webfont.OUT.name} "
                         f"(tofu without a system font): {''.join(missing[:40])}; "
                         "run .venv/bin/python locales/make_webfont.py (see its docstring)")


def test_css_loads_the_webfont_for_cjk_only():
    css = (ROOT / "book" / "_static" / "rnncourse.css").read_text(encoding="utf-8")
    face = re.search(r"@font-face\s*{[^}]*rnncourse-ja[^}]*}", css)
    assert face, "no @font-face for the Japanese webfont in rnncourse.css"
    assert 'url("fonts/rnncourse-ja.woff")' in face.group(0)
    assert _load_webfont_module().UNICODE_RANGE in face.group(0)
    for family in ("Hiragino", "Yu Gothic", "Meiryo", "Noto Sans CJK JP"):
        assert family in css


# --------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    import tempfile

    docs = [d.removesuffix(".ipynb").removesuffix(".md") for d in argv] or DOCUMENTS
    with tempfile.TemporaryDirectory() as tmp:
        messages = source_messages(Path(tmp))
    complete = True
    for doc in docs:
        status = document_status(doc, messages.get(doc, []))
        complete &= status.complete
        print(status.summary() if not status.complete else f"{doc}: complete, {status.total} messages "
              f"({status.words} English words)")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
