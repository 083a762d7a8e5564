"""Real text for the capstone language model: two public-domain novels shipped with the package.

``load_text("en")`` is *Botchan* in English translation, ``load_text("ja")`` the first two
chapters of *Wagahai wa neko de aru*, both by Natsume Soseki (provenance and licence: README.md
beside this file). A language model is trained on the first part of a text and evaluated on the
parts after it (:func:`split_text`, by position, never shuffled: a held-out passage is text the
model has not read). :class:`CharVocabulary` maps characters to ids with an unknown symbol, id 0,
for characters the training part lacks (or has too rarely).

>>> train, valid, test = split_text(load_text("en"))
>>> vocab = CharVocabulary(train)
>>> ids = vocab.encode(valid)
>>> vocab.decode(ids[:12]) == valid[:12]
True
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

__all__ = ["LANGUAGES", "UNK", "load_text", "split_text", "CharVocabulary", "stream_batches"]

_HERE = Path(__file__).resolve().parent
LANGUAGES = {"en": "botchan_en.txt", "ja": "neko_ja.txt"}
UNK = "\ufffd"   # the Unicode replacement character stands for every unknown character


def load_text(lang: str = "en") -> str:
    """The whole text of ``lang`` (``"en"`` or ``"ja"``) as one string (newlines kept)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang: expected one of {sorted(LANGUAGES)}, got {lang!r}")
    return (_HERE / LANGUAGES[lang]).read_text(encoding="utf-8")


def split_text(text: str, valid: float = 0.05, test: float = 0.05) -> tuple[str, str, str]:
    """``(train, valid, test)``: the first ``1 - valid - test`` of the text, then the next
    ``valid``, then the last ``test`` (fractions of the characters, by position)."""
    if not isinstance(text, str) or not text:
        raise ValueError("text: expected a non-empty string")
    for name, f in (("valid", valid), ("test", test)):
        if not 0.0 < f < 0.5:
            raise ValueError(f"{name}: expected a fraction in (0, 0.5), got {f!r}")
    n = len(text)
    a, b = int(round(n * (1.0 - valid - test))), int(round(n * (1.0 - test)))
    if not 0 < a < b < n:
        raise ValueError(f"text: {n} characters are too few to split")
    return text[:a], text[a:b], text[b:]


class CharVocabulary:
    """Characters <-> ids; id 0 is :data:`UNK`, the ids 1..V-1 the characters that occur at least
    ``min_count`` times in ``text`` (most frequent first, ties in order of first appearance)."""

    def __init__(self, text: str, min_count: int = 1):
        if not isinstance(min_count, (int, np.integer)) or min_count < 1:
            raise ValueError(f"min_count: expected an integer >= 1, got {min_count!r}")
        counts = Counter(text)
        first = {c: i for i, c in reversed(list(enumerate(text)))}
        kept = sorted((c for c, k in counts.items() if k >= min_count and c != UNK),
                      key=lambda c: (-counts[c], first[c]))
        self.itos = [UNK] + kept
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text``, (len(text),) int64; unknown characters become 0."""
        get = self.stoi.get
        return np.fromiter((get(c, 0) for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids: expected values in [0, {len(self)}), got {ids.min()}..{ids.max()}")
        return "".join(self.itos[int(i)] for i in ids)

    def unknown_rate(self, text: str) -> float:
        """Share of the characters of ``text`` that map to :data:`UNK`."""
        return float(np.mean(self.encode(text) == 0)) if text else 0.0


def stream_batches(ids, N: int) -> np.ndarray:
    """Cut a stream of ids into ``N`` contiguous rows, (N, len(ids) // N) (the tail is dropped).

    Row n continues where row n-1's stretch of the text ends, so truncated BPTT can carry each
    row's state from one chunk to the next.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids: expected a 1-d integer array, got {ids.dtype} of shape {ids.shape}")
    if not isinstance(N, (int, np.integer)) or N < 1 or len(ids) < N:
        raise ValueError(f"N: expected an integer in [1, {len(ids)}], got {N!r}")
    L = len(ids) // N
    return ids[:N * L].reshape(N, L).copy()
