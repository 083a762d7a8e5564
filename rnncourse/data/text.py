"""A generated character corpus for language-model comparisons (chapter 12), no downloads.

Sentences come from a tiny probabilistic grammar with **nested relative clauses** and
**subject-verb agreement** (the verb takes an ``s`` when its subject is singular)::

    S   -> NP(n) VP(n) "."             n: singular or plural, drawn per noun phrase
    NP  -> Det(n) [Adj] N(n) [RC]      RC only while the nesting depth allows it
    RC  -> "that" VP(n)                subject relative: "the dog that chases a cat"
         | "that" NP(m) Vt(m)          object relative:  "the dog that the cats see"
    VP  -> Vi(n) | Vt(n) NP(m)

So the text has short-range structure (spelling inside a word, which word class comes next) and
long-range structure (the main verb agrees with a subject that may sit a whole relative clause
back). Everything is deterministic given the seed.

>>> text = grammar_corpus(200, seed=0)
>>> len(text), text[:40]
(200, 'a small fox that the foxes see runs. som')
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "GRAMMAR_CHARS", "grammar_sentences", "grammar_corpus", "grammar_entropy_rate", "TextVocab", "encode_text",
    "random_windows", "contiguous_windows",
]

# (singular, plural) pairs
_NOUNS = [("cat", "cats"), ("dog", "dogs"), ("fox", "foxes"), ("bird", "birds"),
          ("horse", "horses"), ("mouse", "mice")]
_VERBS_T = [("sees", "see"), ("chases", "chase"), ("likes", "like"), ("bites", "bite"),
            ("follows", "follow")]
_VERBS_I = [("runs", "run"), ("sleeps", "sleep"), ("sings", "sing"), ("hides", "hide")]
_DETS = (("the", "a", "one"), ("the", "some", "two"))
_ADJS = ("big", "small", "red", "young")

#: every character the grammar can emit
GRAMMAR_CHARS = "".join(sorted(set(
    " ." + "".join(w for pair in _NOUNS + _VERBS_T + _VERBS_I for w in pair)
    + "".join(_DETS[0] + _DETS[1] + _ADJS) + "that")))


class _Gen:
    """The grammar's sampler; ``logp`` accumulates the log-probability of every choice made."""

    def __init__(self, rng, max_depth, p_rel, p_adj):
        self.rng, self.max_depth, self.p_rel, self.p_adj = rng, max_depth, p_rel, p_adj
        self.logp = 0.0

    def pick(self, seq):
        self.logp -= np.log(len(seq))
        return seq[int(self.rng.integers(len(seq)))]

    def coin(self, p):
        """True with probability p."""
        hit = bool(self.rng.random() < p)
        self.logp += np.log(p if hit else 1.0 - p)
        return hit

    def np_(self, depth):
        """A noun phrase; returns (words, number) with number 0 = singular, 1 = plural."""
        n = int(self.coin(0.5))
        words = [self.pick(_DETS[n])]
        if self.coin(self.p_adj):
            words.append(self.pick(_ADJS))
        words.append(self.pick(_NOUNS)[n])
        if depth < self.max_depth and self.coin(self.p_rel):
            words += self.rc(n, depth + 1)
        return words, n

    def rc(self, n, depth):
        if self.coin(0.5):                             # subject relative: the verb agrees with n
            return ["that"] + self.vp(n, depth)
        inner, m = self.np_(depth)                     # object relative: the verb agrees with m
        return ["that"] + inner + [self.pick(_VERBS_T)[m]]

    def vp(self, n, depth):
        if self.coin(0.4):
            return [self.pick(_VERBS_I)[n]]
        obj, _ = self.np_(depth)
        return [self.pick(_VERBS_T)[n]] + obj

    def sentence(self):
        subj, n = self.np_(0)
        return " ".join(subj + self.vp(n, 0)) + "."


def _check_grammar(num, max_depth, p_rel, p_adj):
    if num < 1:
        raise ValueError(f"num: expected >= 1, got {num}")
    if max_depth < 0:
        raise ValueError(f"max_depth: expected >= 0, got {max_depth}")
    for name, p in (("p_rel", p_rel), ("p_adj", p_adj)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name}: expected a probability in [0, 1], got {p}")


def grammar_sentences(num: int, seed: int = 0, max_depth: int = 2, p_rel: float = 0.4,
                      p_adj: float = 0.3) -> list[str]:
    """``num`` sentences of the grammar above, deterministic given ``seed``.

    Args:
        num: number of sentences (>= 1).
        seed: seed of ``np.random.default_rng``.
        max_depth: deepest nesting of relative clauses (0: none).
        p_rel: probability that a noun phrase gets a relative clause (while depth allows).
        p_adj: probability of an adjective in a noun phrase.
    """
    _check_grammar(num, max_depth, p_rel, p_adj)
    gen = _Gen(np.random.default_rng(seed), max_depth, p_rel, p_adj)
    return [gen.sentence() for _ in range(num)]


def grammar_entropy_rate(num: int = 20000, seed: int = 0, max_depth: int = 2, p_rel: float = 0.4,
                         p_adj: float = 0.3) -> float:
    """Monte Carlo estimate of the corpus's entropy rate in nats per character.

    Every sentence is one derivation of the grammar and no string has two derivations (each choice
    shows in the text: the noun reveals the number, the word after "that" the kind of clause), so
    ``-log p(sentence)`` is the sum of the log-probabilities of the sampler's choices. The rate is
    ``E[-log p(sentence)] / E[len(sentence) + 1]`` (the joining space is certain). No model can
    beat it on average; a model that sees only a short window of context does worse.
    """
    _check_grammar(num, max_depth, p_rel, p_adj)
    gen = _Gen(np.random.default_rng(seed), max_depth, p_rel, p_adj)
    nats = chars = 0.0
    for _ in range(num):
        gen.logp = 0.0
        chars += len(gen.sentence()) + 1
        nats -= gen.logp
    return nats / chars


def grammar_corpus(num_chars: int, seed: int = 0, **kwargs) -> str:
    """A text of exactly ``num_chars`` characters: grammar sentences joined by spaces, cut at the end.

    Keyword arguments go to :func:`grammar_sentences`.
    """
    if num_chars < 1:
        raise ValueError(f"num_chars: expected >= 1, got {num_chars}")
    parts, total, k = [], 0, 0
    while total < num_chars:                            # sentences average ~40 characters
        batch = grammar_sentences(64, seed=seed * 100_003 + k, **kwargs)
        parts.extend(batch)
        total += sum(len(s) + 1 for s in batch)
        k += 1
    return " ".join(parts)[:num_chars]


class TextVocab:
    """Characters <-> ids 0..V-1 (no padding symbol: windows of a stream need none)."""

    def __init__(self, chars: str = GRAMMAR_CHARS):
        chars = "".join(dict.fromkeys(chars))
        if not chars:
            raise ValueError("chars: expected at least one character")
        self.itos = list(chars)
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self.stoi))
        if unknown:
            raise ValueError(f"text: characters {unknown} are not in the vocabulary")
        return np.array([self.stoi[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.itos[int(i)] for i in np.asarray(ids).reshape(-1))


def encode_text(text: str, vocab: TextVocab | None = None) -> np.ndarray:
    """Ids of ``text`` under ``vocab`` (default: the grammar's characters), (len(text),) int64."""
    return (vocab or TextVocab()).encode(text)


def _check_windows(ids, T):
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids: expected a 1-d integer array, got shape {ids.shape}, dtype {ids.dtype}")
    if T < 1 or len(ids) < T + 1:
        raise ValueError(f"T: need 1 <= T <= len(ids) - 1 = {len(ids) - 1}, got {T}")
    return ids


def random_windows(ids, N: int, T: int, rng: np.random.Generator):
    """``N`` random windows of a stream: inputs ``x (N, T)`` and next-character targets ``y (N, T)``."""
    ids = _check_windows(ids, T)
    start = rng.integers(0, len(ids) - T, size=N)
    idx = start[:, None] + np.arange(T + 1)            # (N, T + 1)
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def contiguous_windows(ids, T: int):
    """Cut the stream into consecutive non-overlapping windows (for evaluation): ``x, y (N, T)``."""
    ids = _check_windows(ids, T)
    N = (len(ids) - 1) // T
    x = ids[: N * T].reshape(N, T)
    y = ids[1: N * T + 1].reshape(N, T)
    return x, y
