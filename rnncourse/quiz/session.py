"""An exam session: pick questions (a shuffled quiz, or a mock exam in the syllabus's proportions),
shuffle their choices, read answers, score them per syllabus item."""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field

from .bank import Question
from .syllabus import ITEMS, MOCK_SIZE, OUTSIDE, SYLLABUS, WEAK_BELOW

__all__ = ["ExamItem", "make_exam", "make_mock", "mock_quotas", "items_for", "parse_answer",
           "score_by_item", "weak_items", "LETTERS"]

LETTERS = "abcdefghij"


@dataclass
class ExamItem:
    question: Question
    order: list = field(default_factory=list)   # displayed position -> original choice index
    given: object = None                        # original choice index, a number, or None

    @property
    def correct(self) -> bool:
        return self.given is not None and self.question.is_correct(self.given)

    def given_display(self) -> str:
        if self.given is None:
            return ""
        if self.question.kind == "numeric":
            return f"{self.given:g}"
        return LETTERS[self.order.index(int(self.given))]

    def correct_display(self) -> str:
        """The correct answer as shown to the candidate (letter of the shuffled choice, or value)."""
        q = self.question
        if q.kind == "numeric":
            return f"{q.answer:g}"
        return LETTERS[self.order.index(int(q.answer))]


def _units(questions) -> list[list[Question]]:
    """Standalone questions, and the questions of one scenario together (in bank order)."""
    units, by_scenario = [], {}
    for q in questions:
        if q.scenario:
            key = (q.chapter, q.scenario)
            if key not in by_scenario:
                by_scenario[key] = []
                units.append(by_scenario[key])
            by_scenario[key].append(q)
        else:
            units.append([q])
    return units


def items_for(questions, rng: random.Random, shuffle_choices: bool = True) -> list[ExamItem]:
    items = []
    for q in questions:
        order = list(range(len(q.choices_in("en"))))
        if shuffle_choices:
            rng.shuffle(order)
        items.append(ExamItem(q, order))
    return items


def make_exam(questions: list, n: int, seed: int) -> list[ExamItem]:
    """About ``n`` questions (all if fewer), shuffled with their choices, reproducibly from ``seed``.

    A scenario's questions are drawn together and kept in order, so the exam can exceed ``n`` by
    the rest of the last scenario drawn.
    """
    rng = random.Random(seed)
    units = _units(questions)
    rng.shuffle(units)
    picked = []
    for unit in units:
        if len(picked) >= n:
            break
        picked.extend(unit)
    return items_for(picked, rng)


def mock_quotas(questions, size: int = MOCK_SIZE) -> dict[str, int]:
    """How many questions of each syllabus item a mock exam of ``size`` draws.

    Each item gets ``weight * size / 100`` questions (largest remainders), where the weights are the
    course's estimate of the real exam's proportions (:mod:`rnncourse.quiz.syllabus`). An item with
    fewer questions than its share gives the difference to the others, in proportion to their
    weights. A question counts for its first syllabus item.
    """
    available = {it.id: 0 for it in ITEMS if it.weight > 0}
    for q in questions:
        if q.syllabus and q.syllabus[0] in available:
            available[q.syllabus[0]] += 1
    quotas = {k: 0 for k in available}
    remaining = min(size, sum(available.values()))
    open_items = {k for k, v in available.items() if v > 0}
    while remaining > 0 and open_items:
        total_w = sum(SYLLABUS[k].weight for k in open_items)
        shares = {k: remaining * SYLLABUS[k].weight / total_w for k in open_items}
        alloc = {k: int(v) for k, v in shares.items()}
        left = remaining - sum(alloc.values())
        for k in sorted(open_items, key=lambda k: (-(shares[k] - alloc[k]), k))[:left]:
            alloc[k] += 1
        remaining = 0
        for k in sorted(open_items):
            room = available[k] - quotas[k]
            take = min(room, alloc[k])
            quotas[k] += take
            remaining += alloc[k] - take
            if quotas[k] >= available[k]:
                open_items.discard(k)
    return quotas


def make_mock(questions: list, seed: int, size: int = MOCK_SIZE) -> list[ExamItem]:
    """A mock exam: about ``size`` in-syllabus questions in the proportions of :func:`mock_quotas`,
    scenario sets kept together, everything shuffled reproducibly from ``seed``."""
    rng = random.Random(seed)
    pool = [q for q in questions if q.in_syllabus]
    quotas = mock_quotas(pool, size)
    picked_units = []
    for item_id in sorted(quotas):
        units = [u for u in _units(pool) if u[0].syllabus[0] == item_id]
        rng.shuffle(units)
        count = 0
        for unit in units:
            if count >= quotas[item_id]:
                break
            picked_units.append(unit)
            count += len(unit)
    rng.shuffle(picked_units)
    return items_for([q for unit in picked_units for q in unit], rng)


_WRAPPED = re.compile(r"^[(\[]?\s*([a-j])\s*[)\].]?$")


def parse_answer(item: ExamItem, text, displayed: bool = True):
    """Turn typed text into an original choice index or a number; ``None`` if it is not valid.

    Full-width input (``Ｃ``, ``３``, as Japanese input methods type it) is read like ASCII, and a
    letter may be written ``c``, ``C``, ``(c)`` or ``c)``. ``displayed=True``: letters refer to the
    shuffled order shown on screen; ``False``: to the order in the bank (used by answer files).
    """
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    q = item.question
    if q.kind == "numeric":
        text = text.replace("−", "-").replace(",", "").replace(" ", "")
        try:
            value = float(text)
        except ValueError:
            return None
        return value
    m = _WRAPPED.match(text)
    n = len(item.order)
    if m and m.group(1) in LETTERS[:n]:
        pos = LETTERS.index(m.group(1))
        return item.order[pos] if displayed else pos
    return None


def score_by_item(items) -> dict[str, dict]:
    """``{item id: {"correct": k, "total": n}}`` over every tag of every question, in syllabus order."""
    scores = {}
    for it in items:
        for tag in it.question.syllabus:
            s = scores.setdefault(tag, {"correct": 0, "total": 0})
            s["total"] += 1
            s["correct"] += int(it.correct)
    order = [i.id for i in ITEMS]
    return {k: scores[k] for k in sorted(scores, key=order.index)}


def weak_items(scores: dict, below: float = WEAK_BELOW) -> list[str]:
    """Items of the syllabus scored below ``below``, weakest first (ties by syllabus order)."""
    order = [i.id for i in ITEMS]
    weak = [k for k, s in scores.items() if k != OUTSIDE and s["total"] and s["correct"] / s["total"] < below]
    return sorted(weak, key=lambda k: (scores[k]["correct"] / scores[k]["total"], order.index(k)))
