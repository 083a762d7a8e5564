"""A mock exam: pick questions, shuffle them and their choices, score answers, explain."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from .bank import Question

__all__ = ["ExamItem", "make_exam", "parse_answer", "LETTERS"]

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


def make_exam(questions: list, n: int, seed: int) -> list[ExamItem]:
    """``n`` questions (all if fewer), shuffled with their choices, reproducibly from ``seed``."""
    rng = random.Random(seed)
    picked = rng.sample(questions, min(n, len(questions)))
    items = []
    for q in picked:
        order = list(range(len(q.choices_in("en"))))
        rng.shuffle(order)
        items.append(ExamItem(q, order))
    return items


def parse_answer(item: ExamItem, text: str, displayed: bool = True):
    """Turn typed text into an original choice index or a number; ``None`` if it is not valid.

    ``displayed=True``: letters refer to the shuffled order shown on screen; ``False``: to the
    order in the bank (used by answer files).
    """
    text = str(text).strip().lower()
    q = item.question
    if q.kind == "numeric":
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            return None
        return value
    n = len(item.order)
    if len(text) == 1 and text in LETTERS[:n]:
        pos = LETTERS.index(text)
        return item.order[pos] if displayed else pos
    return None
