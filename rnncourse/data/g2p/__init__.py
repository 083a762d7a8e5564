"""Grapheme-to-phoneme pairs from the CMU Pronouncing Dictionary, for the capstone seq2seq model.

``load_g2p()`` gives ``[(word, phonemes)]``: ``"quietly" -> ("K", "W", "AY", "AH", "T", "L", "IY")``
(provenance and licence: README.md beside this file). :func:`split_g2p` keeps the first part for
training and the rest for validation (the graded test words are not in this package).
:class:`SymbolVocab` maps symbols to ids with ``0`` padding, ``1`` ``<s>``, ``2`` ``</s>``, ``3``
unknown; :func:`encode_pairs` builds padded source, decoder-input and target arrays.

>>> pairs = load_g2p()
>>> train, valid = split_g2p(pairs)
>>> src_vocab, tgt_vocab = letter_vocab(), phoneme_vocab(train)
>>> batch = encode_pairs(train[:2], src_vocab, tgt_vocab)
>>> sorted(batch)
['src', 'src_len', 'tgt_in', 'tgt_out']
"""
from __future__ import annotations

import string
from pathlib import Path

import numpy as np

__all__ = ["PAD", "BOS", "EOS", "UNK", "load_g2p", "parse_g2p", "split_g2p", "SymbolVocab",
           "letter_vocab", "phoneme_vocab", "encode_pairs", "exact_match"]

_HERE = Path(__file__).resolve().parent
PAD, BOS, EOS, UNK = 0, 1, 2, 3
_SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]


def parse_g2p(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """``word<TAB>PH ON EMES`` lines -> ``[(word, phonemes)]``."""
    pairs = []
    for k, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        word, tab, phones = line.partition("\t")
        if not tab or not word or not phones.split():
            raise ValueError(f"line {k + 1}: expected 'word<TAB>PHONEMES', got {line!r}")
        pairs.append((word, tuple(phones.split())))
    return pairs


def load_g2p() -> list[tuple[str, tuple[str, ...]]]:
    """The 5,400 training and validation pairs shipped with the package."""
    return parse_g2p((_HERE / "cmudict_subset.txt").read_text(encoding="utf-8"))


def split_g2p(pairs, valid: int = 400):
    """``(train, valid)``: all but the last ``valid`` pairs, and those."""
    if not 0 < valid < len(pairs):
        raise ValueError(f"valid: expected 0 < valid < {len(pairs)}, got {valid!r}")
    return list(pairs[:-valid]), list(pairs[-valid:])


class SymbolVocab:
    """Symbols <-> ids; 0-3 are ``<pad>``, ``<s>``, ``</s>``, ``<unk>``, then ``symbols``."""

    def __init__(self, symbols):
        symbols = [s for s in dict.fromkeys(symbols) if s not in _SPECIALS]
        self.itos = _SPECIALS + symbols
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, seq) -> list[int]:
        return [self.stoi.get(s, UNK) for s in seq]

    def decode(self, ids) -> list[str]:
        """Symbols up to the first ``</s>`` (padding and ``<s>`` skipped)."""
        out = []
        for i in np.asarray(ids).reshape(-1):
            if int(i) == EOS:
                break
            if int(i) not in (PAD, BOS):
                out.append(self.itos[int(i)])
        return out


def letter_vocab() -> SymbolVocab:
    return SymbolVocab(string.ascii_lowercase)


def phoneme_vocab(pairs) -> SymbolVocab:
    """The phonemes of ``pairs``, sorted."""
    return SymbolVocab(sorted({p for _, phones in pairs for p in phones}))


def encode_pairs(pairs, src_vocab: SymbolVocab, tgt_vocab: SymbolVocab) -> dict:
    """Padded arrays: ``src`` (N, S) and ``src_len`` (N,); ``tgt_in`` (N, T) = ``<s> y``,
    ``tgt_out`` (N, T) = ``y </s>`` (T = longest target + 1); padding 0."""
    if not pairs:
        raise ValueError("pairs: expected at least one pair")
    N = len(pairs)
    S = max(len(w) for w, _ in pairs)
    T = max(len(p) for _, p in pairs) + 1
    src, tgt_in, tgt_out = (np.zeros((N, L), dtype=np.int64) for L in (S, T, T))
    src_len = np.zeros(N, dtype=np.int64)
    for n, (word, phones) in enumerate(pairs):
        s, y = src_vocab.encode(word), tgt_vocab.encode(phones)
        src[n, :len(s)], src_len[n] = s, len(s)
        tgt_in[n, :len(y) + 1] = [BOS] + y
        tgt_out[n, :len(y) + 1] = y + [EOS]
    return {"src": src, "src_len": src_len, "tgt_in": tgt_in, "tgt_out": tgt_out}


def exact_match(pred, tgt_out) -> np.ndarray:
    """Per row: 1.0 when ``pred`` (N, *) spells exactly the target up to ``</s>``, else 0.0."""
    pred, tgt_out = np.asarray(pred), np.asarray(tgt_out)
    if pred.ndim != 2 or tgt_out.ndim != 2 or len(pred) != len(tgt_out):
        raise ValueError(f"pred, tgt_out: expected (N, *) arrays with the same N, got "
                         f"{pred.shape} and {tgt_out.shape}")
    out = np.zeros(len(pred))
    for n in range(len(pred)):
        want = [int(i) for i in tgt_out[n] if int(i) not in (PAD,)]
        want = want[:want.index(EOS)] if EOS in want else want
        got = []
        for i in pred[n]:
            if int(i) in (EOS, PAD):
                break
            got.append(int(i))
        out[n] = float(got == want)
    return out
