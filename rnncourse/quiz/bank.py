"""The exam-prep question bank: one JSON file per chapter in ``rnncourse/quiz/bank/``.

Every question exists in Japanese and English. Kinds:

- ``choice``: ``answer`` is the 0-based index of the one correct entry of ``en.choices`` /
  ``ja.choices`` (same order in both languages);
- ``code``: fill in the blank ``____`` of ``code`` with one of the (language-neutral) ``choices``;
  ``answer`` is its index;
- ``numeric``: ``answer`` is a number, accepted within ``tolerance``; ``compute`` (optional) names a
  function of ``rnncourse`` and its keyword arguments that recomputes the answer, and the tests do so.

``ref`` is the label of the book section that teaches the point (``{ref}`` target).

``syllabus`` (required) lists the JDLA E資格 syllabus items the question covers, ids of
:mod:`rnncourse.quiz.syllabus` such as ``"3-5-2"``; ``["x"]`` marks a topic outside the syllabus
(``"x"`` cannot be combined with an item). Optional fields: ``scenario``, the id of an entry of the
file's ``"scenarios"`` (``{id: {"en": text, "ja": text, ["figure": text diagram]}}``), for a set of
questions that share one scenario and are always asked together, in file order; ``figure``, a text diagram shown
preformatted; ``source``, ``{"en", "ja"}`` attribution of a question paraphrased from elsewhere.

Texts write formulas as TeX between dollar signs, ``$q^\\top k$``: the book typesets them and the
terminal shows them as Unicode (:func:`rnncourse.quiz.texmath.plain`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from .syllabus import OUTSIDE, SYLLABUS

__all__ = ["Question", "BankError", "load_bank", "load_glossary", "filter_syllabus", "BANK_DIR", "KINDS",
           "LANGS"]

BANK_DIR = Path(__file__).parent / "bank"
KINDS = ("choice", "code", "numeric")
LANGS = ("en", "ja")


class BankError(ValueError):
    """A question file does not follow the schema."""


@dataclass(frozen=True)
class Question:
    id: str
    chapter: str
    kind: str
    ref: str
    text: dict            # lang -> {"question", "explanation", ["choices"]}
    answer: float | int
    choices: tuple = ()   # language-neutral choices (kind "code")
    code: str = ""
    tolerance: float = 0.0
    compute: dict | None = None
    syllabus: tuple = ()  # syllabus item ids, e.g. ("3-5-2",); ("x",) = outside the syllabus
    scenario: str = ""    # id of the shared scenario ("" = a standalone question)
    scenario_text: dict | None = None   # lang -> text of that scenario, and "figure" (may be "")
    figure: str = ""      # a text diagram, shown preformatted
    source: dict | None = None          # lang -> attribution

    @property
    def in_syllabus(self) -> bool:
        return OUTSIDE not in self.syllabus

    def choices_in(self, lang: str) -> list[str]:
        if self.kind == "code":
            return list(self.choices)
        if self.kind == "choice":
            return list(self.text[lang]["choices"])
        return []

    def is_correct(self, given) -> bool:
        """``given`` is a choice index or a number; anything else is wrong (never raises)."""
        try:
            if self.kind == "numeric":
                value = float(given)
                return math.isfinite(value) and abs(value - float(self.answer)) <= self.tolerance
            return int(given) == int(self.answer) and not isinstance(given, bool)
        except (TypeError, ValueError):
            return False


def _require(cond, where, msg):
    if not cond:
        raise BankError(f"{where}: {msg}")


def _extras(raw: dict, where: str, scenarios: dict) -> dict:
    """The fields shared by every kind: syllabus tags, scenario, figure, source."""
    tags = raw.get("syllabus")
    _require(isinstance(tags, list) and tags and all(isinstance(t, str) for t in tags), where,
             f"syllabus: a non-empty list of syllabus item ids is required (one or more of "
             f"{', '.join(SYLLABUS)}; see rnncourse/quiz/syllabus.py)")
    for t in tags:
        _require(t in SYLLABUS, where, f"syllabus: unknown item {t!r}; known: {', '.join(SYLLABUS)}")
    _require(len(set(tags)) == len(tags), where, "syllabus: duplicate item")
    _require(OUTSIDE not in tags or len(tags) == 1, where,
             f"syllabus: {OUTSIDE!r} (outside the syllabus) cannot be combined with an item")
    extra = {"syllabus": tuple(tags)}
    scenario = raw.get("scenario", "")
    if scenario:
        _require(isinstance(scenario, str) and scenario in scenarios, where,
                 f"scenario {scenario!r} is not in the file's 'scenarios'")
        extra.update(scenario=scenario, scenario_text=scenarios[scenario])
    figure = raw.get("figure", "")
    _require(isinstance(figure, str), where, "figure must be a string (a text diagram)")
    extra["figure"] = figure
    source = raw.get("source")
    if source is not None:
        _require(isinstance(source, dict) and all(isinstance(source.get(la), str) and source[la].strip()
                                                  for la in LANGS), where,
                 "source must give the attribution in both languages, {'en': ..., 'ja': ...}")
        extra["source"] = source
    return extra


def _check_math(text: dict, where: str) -> None:
    from .texmath import TexError, math_segments

    for lang, t in text.items():
        for key, value in [("question", t["question"]), ("explanation", t["explanation"]),
                           *((f"choices[{k}]", c) for k, c in enumerate(t.get("choices") or []))]:
            try:
                math_segments(value)
            except TexError as exc:
                raise BankError(f"{where}: {lang}.{key}: {exc}") from None


def _parse(raw: dict, chapter: str, where: str, scenarios: dict | None = None) -> Question:
    qid = raw.get("id")
    _require(isinstance(qid, str) and qid.startswith(chapter + "."), where,
             f"id must be a string starting with '{chapter}.', got {qid!r}")
    where = f"{where} [{qid}]"
    kind = raw.get("kind")
    _require(kind in KINDS, where, f"kind must be one of {KINDS}, got {kind!r}")
    _require(isinstance(raw.get("ref"), str) and raw["ref"], where, "ref (a book label) is required")
    text = {}
    for lang in LANGS:
        t = raw.get(lang)
        _require(isinstance(t, dict), where, f"missing the '{lang}' text")
        for key in ("question", "explanation"):
            _require(isinstance(t.get(key), str) and t[key].strip(), where, f"{lang}.{key} is empty")
        text[lang] = t
    _check_math(text, where)
    extra = _extras(raw, where, scenarios or {})
    answer = raw.get("answer")
    if kind == "numeric":
        _require(isinstance(answer, (int, float)) and not isinstance(answer, bool), where,
                 "numeric answer must be a number")
        tol = raw.get("tolerance", 0)
        _require(isinstance(tol, (int, float)) and tol >= 0, where, "tolerance must be >= 0")
        return Question(qid, chapter, kind, raw["ref"], text, answer, tolerance=float(tol),
                        compute=raw.get("compute"), **extra)
    if kind == "choice":
        lists = [text[lang].get("choices") for lang in LANGS]
        for lang, ch in zip(LANGS, lists):
            _require(isinstance(ch, list) and len(ch) >= 2, where, f"{lang}.choices needs >= 2 entries")
            _require(len(set(ch)) == len(ch), where, f"{lang}.choices has duplicates")
        _require(len(lists[0]) == len(lists[1]), where, "en and ja have different numbers of choices")
        n = len(lists[0])
        choices, code = (), ""
    else:
        choices = raw.get("choices")
        _require(isinstance(choices, list) and len(choices) >= 2, where, "choices needs >= 2 lines")
        _require(len(set(choices)) == len(choices), where, "choices has duplicates")
        code = raw.get("code", "")
        _require(isinstance(code, str) and code.count("____") == 1, where,
                 "code must contain exactly one blank '____'")
        n, choices = len(choices), tuple(choices)
    _require(isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < n, where,
             f"answer must be the index of exactly one choice (0..{n - 1}), got {answer!r}")
    return Question(qid, chapter, kind, raw["ref"], text, answer, choices=choices, code=code, **extra)


def load_bank(chapters=None, bank_dir: Path = BANK_DIR) -> list[Question]:
    """All questions, optionally only of chapters whose id starts with one of ``chapters``."""
    questions: list[Question] = []
    seen: set[str] = set()
    for path in sorted(Path(bank_dir).glob("[0-9][0-9]_*.json")):
        chapter = path.stem
        if chapters and not any(chapter.startswith(str(c)) for c in chapters):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BankError(f"{path.name}: not valid JSON ({exc})") from None
        _require(data.get("chapter") == chapter, path.name, "'chapter' must equal the file name")
        scenarios = data.get("scenarios", {})
        _require(isinstance(scenarios, dict) and all(
            isinstance(v, dict) and all(isinstance(v.get(la), str) and v[la].strip() for la in LANGS)
            and isinstance(v.get("figure", ""), str) and set(v) <= {*LANGS, "figure"}
            for v in scenarios.values()), path.name,
            "scenarios must map an id to {'en': text, 'ja': text} and optionally 'figure': text")
        scenarios = {k: {"figure": "", **v} for k, v in scenarios.items()}
        for k, raw in enumerate(data.get("questions", []), 1):
            q = _parse(raw, chapter, f"{path.name} question {k}", scenarios)
            _require(q.id not in seen, path.name, f"duplicate id {q.id}")
            seen.add(q.id)
            questions.append(q)
    return questions


def filter_syllabus(questions, ids) -> list[Question]:
    """The questions tagged with one of ``ids`` or with an item under one of them (``3-5`` matches
    ``3-5-1``, ``3-5-2`` ...). Raises :class:`BankError` for an id that names no syllabus item."""
    ids = [str(i) for i in ids]
    for i in ids:
        if not any(t == i or t.startswith(i + "-") for t in SYLLABUS):
            raise BankError(f"--syllabus: unknown item {i!r}; known: {', '.join(SYLLABUS)}")
    return [q for q in questions
            if any(t == i or t.startswith(i + "-") for t in q.syllabus for i in ids)]


def load_glossary(bank_dir: Path = BANK_DIR) -> list[dict]:
    """Glossary entries ``{"en", "ja", "definition", "ref"}`` from ``glossary*.json``, sorted by English term.

    ``glossary.json`` holds the first chapters' terms; each later chapter adds its own file
    ``glossary_NN_topic.json`` so that chapters can be written independently.
    """
    entries = []
    for path in sorted(Path(bank_dir).glob("glossary*.json")):
        part = json.loads(path.read_text(encoding="utf-8"))
        _require(isinstance(part, list), path.name, "must be a JSON list of entries")
        for k, e in enumerate(part, 1):
            for key in ("en", "ja", "definition", "ref"):
                _require(isinstance(e.get(key), str) and e[key].strip(), f"{path.name} entry {k}",
                         f"'{key}' is required")
            # the glossary is a markdown table: a '|' would end the cell (write \\mid or \\Vert)
            _require("|" not in e["definition"] + e["en"] + e["ja"], f"{path.name} entry {k}",
                     "no '|' in a glossary entry (it splits the table's cell); use \\mid or \\Vert in math")
            _check_math({"glossary": {"question": e["definition"], "explanation": e["en"]}},
                        f"{path.name} entry {k}")
        entries.extend(part)
    return sorted(entries, key=lambda e: e["en"].lower())
