"""Generated multi-turn dialogues for HRED and VHRED (chapter 9), no downloads.

A tiny dialogue grammar in which the right reply depends on an **earlier** turn, and in which
every context admits **several** valid replies::

    A: i like tea .                 fact 1 (a drink or a pet, in random order)
    B: ok .                         acknowledgement
    A: it is sunny .                small talk (0 or 1 exchange, at a random place)
    B: i see .
    A: my pet is a dog .            fact 2
    B: nice .
    A: what should i drink ?        question: drink, pet, or "how are you ?"
    B: have some tea .              reply: one of 4 templates, filled with the fact

The question alone does not say *which* drink or pet: a model that reads only the last utterance
can be right on a drink or pet question with probability 1/6 at best, while a model of the whole
context can always be right. The four templates of each question are drawn uniformly, so the
reply entropy given the context is ``log 4`` nats: the room a generator has for diversity.

>>> d = generate_dialogues(1, seed=0)[0]
>>> len(d.turns) in (5, 7) and d.reply in d.valid_replies
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

__all__ = [
    "PAD", "BOS", "EOS", "UNK", "DRINKS", "PETS", "KINDS", "Dialogue", "WordVocab",
    "dialogue_vocab", "generate_dialogues", "DialogueBatch", "dialogue_batch", "format_dialogue",
]

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
DRINKS = ("tea", "coffee", "juice", "milk", "soda", "water")
PETS = ("cat", "dog", "bird", "fish", "horse", "rabbit")
KINDS = ("drink", "pet", "free")        # what the last question asks about

_FACTS = {"drink": ("i", "like", "{x}", "."), "pet": ("my", "pet", "is", "a", "{x}", ".")}
_ACKS = (("ok", "."), ("nice", "."), ("i", "see", "."), ("cool", "."))
_SMALL_TALK = (("it", "is", "sunny", "."), ("i", "am", "tired", "."),
               ("work", "was", "long", "."), ("the", "bus", "was", "late", "."))
_QUESTIONS = {"drink": ("what", "should", "i", "drink", "?"),
              "pet": ("what", "is", "my", "pet", "?"),
              "free": ("how", "are", "you", "?")}
_TEMPLATES = {
    "drink": (("you", "like", "{x}", "."), ("have", "some", "{x}", "."),
              ("how", "about", "{x}", "?"), ("{x}", "of", "course", ".")),
    "pet": (("your", "pet", "is", "a", "{x}", "."), ("a", "{x}", "."),
            ("it", "is", "a", "{x}", "."), ("your", "{x}", "of", "course", ".")),
    "free": (("i", "am", "fine", "."), ("good", "thanks", "."),
             ("not", "bad", "."), ("great", "thanks", ".")),
}


def _fill(template, x):
    return tuple(x if w == "{x}" else w for w in template)


@dataclass(frozen=True)
class Dialogue:
    """One generated dialogue.

    Attributes:
        turns: the context, alternating speakers A, B, ..., A; each turn a tuple of words.
        reply: the reference reply of B (one of ``valid_replies``).
        kind: what the last question asks: ``"drink"``, ``"pet"`` or ``"free"`` (context-free).
        drink, pet: the two facts stated earlier in the dialogue.
    """

    turns: tuple
    reply: tuple
    kind: str
    drink: str
    pet: str

    @property
    def valid_replies(self) -> frozenset:
        """Every reply the grammar accepts in this context (4 templates)."""
        x = {"drink": self.drink, "pet": self.pet, "free": None}[self.kind]
        return frozenset(_fill(t, x) for t in _TEMPLATES[self.kind])

    @property
    def context_dependent(self) -> bool:
        """True when the reply needs a fact stated in an earlier turn."""
        return self.kind != "free"


def generate_dialogues(num: int, seed: int = 0, p_small_talk: float = 0.5) -> list[Dialogue]:
    """``num`` dialogues of the grammar above, deterministic given ``seed``.

    Args:
        num: number of dialogues (>= 1).
        seed: seed of ``np.random.default_rng``.
        p_small_talk: probability of one small-talk exchange, inserted before, between or after
            the two facts.
    """
    if num < 1:
        raise ValueError(f"num: expected >= 1, got {num}")
    if not 0.0 <= p_small_talk <= 1.0:
        raise ValueError(f"p_small_talk: expected a probability in [0, 1], got {p_small_talk}")
    rng = np.random.default_rng(seed)
    pick = lambda seq: seq[int(rng.integers(len(seq)))]
    out = []
    for _ in range(num):
        drink, pet = pick(DRINKS), pick(PETS)
        facts = [_fill(_FACTS["drink"], drink), _fill(_FACTS["pet"], pet)]
        if rng.random() < 0.5:
            facts.reverse()
        exchanges = [(f, pick(_ACKS)) for f in facts]
        if rng.random() < p_small_talk:
            exchanges.insert(int(rng.integers(3)), (pick(_SMALL_TALK), pick(_ACKS)))
        kind = pick(KINDS)
        turns = tuple(t for pair in exchanges for t in pair) + (_QUESTIONS[kind],)
        x = {"drink": drink, "pet": pet, "free": None}[kind]
        reply = _fill(pick(_TEMPLATES[kind]), x)
        out.append(Dialogue(turns, reply, kind, drink, pet))
    return out


class WordVocab:
    """Words <-> ids. Ids 0-3 are ``<pad>``, ``<bos>``, ``<eos>``, ``<unk>``."""

    def __init__(self, words: Sequence[str]):
        specials = [PAD, BOS, EOS, UNK]
        self.itos = specials + [w for w in dict.fromkeys(words) if w not in specials]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.pad, self.bos, self.eos, self.unk = range(4)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, words: Sequence[str]) -> list[int]:
        unknown = sorted(set(words) - set(self.stoi))
        if unknown:
            raise ValueError(f"words: {unknown} are not in the vocabulary")
        return [self.stoi[w] for w in words]

    def decode(self, ids) -> tuple:
        """Words of ``ids`` up to (not including) the first ``<eos>``; padding is skipped."""
        words = []
        for i in np.asarray(ids).reshape(-1):
            if int(i) == self.eos:
                break
            if int(i) != self.pad:
                words.append(self.itos[int(i)])
        return tuple(words)


def dialogue_vocab() -> WordVocab:
    """Every word the grammar can emit, in a fixed order."""
    words = []
    for group in (_FACTS.values(), _ACKS, _SMALL_TALK, _QUESTIONS.values(),
                  *(_TEMPLATES[k] for k in KINDS)):
        words += [w for t in group for w in t if w != "{x}"]
    return WordVocab(words + list(DRINKS) + list(PETS))


class DialogueBatch(NamedTuple):
    """Padded arrays of a set of dialogues (padding id 0 everywhere).

    Attributes:
        ctx: context utterances, (N, M, Tu) int64; turn ``m`` of dialogue ``n`` is ``ctx[n, m]``.
        utt_len: words in each utterance, (N, M) int64; 0 for padded turns.
        n_turns: real turns in each context, (N,) int64.
        tgt_in: decoder inputs ``<bos> y_1 ... y_k``, (N, Tr) int64.
        tgt_out: decoder targets ``y_1 ... y_k <eos>``, (N, Tr) int64.
        tgt_mask: True where ``tgt_out`` is a real symbol, (N, Tr) bool.
    """

    ctx: np.ndarray
    utt_len: np.ndarray
    n_turns: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    tgt_mask: np.ndarray


def dialogue_batch(dialogues: Sequence[Dialogue], vocab: WordVocab,
                   last_turns: int | None = None) -> DialogueBatch:
    """Pad ``dialogues`` into a :class:`DialogueBatch`.

    Args:
        dialogues: from :func:`generate_dialogues`.
        vocab: from :func:`dialogue_vocab`.
        last_turns: keep only the last ``last_turns`` utterances of each context (1: the one-turn
            seq2seq baseline that sees only the question); None keeps all.
    """
    if not dialogues:
        raise ValueError("dialogues: expected at least one dialogue")
    if last_turns is not None and last_turns < 1:
        raise ValueError(f"last_turns: expected >= 1 or None, got {last_turns}")
    contexts = [d.turns if last_turns is None else d.turns[-last_turns:] for d in dialogues]
    N = len(dialogues)
    M = max(len(c) for c in contexts)
    Tu = max(len(u) for c in contexts for u in c)
    Tr = max(len(d.reply) for d in dialogues) + 1
    ctx = np.zeros((N, M, Tu), dtype=np.int64)
    utt_len = np.zeros((N, M), dtype=np.int64)
    tgt_in = np.zeros((N, Tr), dtype=np.int64)
    tgt_out = np.zeros((N, Tr), dtype=np.int64)
    for n, (c, d) in enumerate(zip(contexts, dialogues)):
        for m, utt in enumerate(c):
            ctx[n, m, :len(utt)] = vocab.encode(utt)
            utt_len[n, m] = len(utt)
        ids = vocab.encode(d.reply)
        tgt_in[n, :len(ids) + 1] = [vocab.bos] + ids
        tgt_out[n, :len(ids) + 1] = ids + [vocab.eos]
    n_turns = np.array([len(c) for c in contexts], dtype=np.int64)
    return DialogueBatch(ctx, utt_len, n_turns, tgt_in, tgt_out, tgt_out != 0)


def format_dialogue(d: Dialogue, reply: Sequence[str] | None = None) -> str:
    """The dialogue as text, one ``A:``/``B:`` line per turn, ending with ``reply`` (default: the
    reference reply)."""
    lines = [f"{'AB'[m % 2]}: {' '.join(t)}" for m, t in enumerate(d.turns)]
    lines.append(f"B: {' '.join(d.reply if reply is None else reply)}")
    return "\n".join(lines)
