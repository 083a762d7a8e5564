"""Evaluation metrics for generated sequences: BLEU (chapter 8, eq. {eq}`bleu`) and perplexity.

BLEU (Papineni et al. 2002) compares a hypothesis with one or more references, token by token:

- the *modified n-gram precision* ``p_n``: every n-gram of the hypothesis counts as a match at most
  as often as it occurs in the reference that contains it most often (clipping), so "the the the"
  gains nothing from repeating a word. At corpus level the clipped matches and the hypothesis
  n-grams are summed over all sentences *before* dividing (a micro average, as in the paper);
- the *brevity penalty* ``BP = 1`` if ``c > r`` else ``exp(1 - r / c)``, with ``c`` the total
  hypothesis length and ``r`` the sum of the reference lengths closest to each hypothesis length
  (on a tie the shorter reference);
- ``BLEU = BP * exp(sum_n w_n log p_n)``, by default ``N = 4`` and ``w_n = 1/N``.

If any ``p_n`` is zero the geometric mean is zero. Short sentences often have no 4-gram match, so
sentence-level BLEU is usually *smoothed* (Chen and Cherry 2014). ``smoothing`` chooses one of

- ``"none"``: no smoothing; BLEU is exactly 0 when some order has no match;
- ``"floor"``: a zero match count becomes ``epsilon`` (default 0.1): ``p_n = epsilon / t_n``
  (Chen and Cherry's method 1; sacrebleu's ``floor``);
- ``"add-k"``: for ``n >= 2``, ``p_n = (m_n + k) / (t_n + k)`` with ``k = 1`` by default, always, not
  only when ``m_n = 0`` (Lin and Och 2004; Chen and Cherry's method 2; sacrebleu's ``add-k``);
- ``"exp"``: the i-th order without a match (i = 1, 2, ...) gets ``p_n = 1 / (2**i * t_n)``
  (NIST's mteval geometric smoothing; Chen and Cherry's method 3; sacrebleu's ``exp``).

Conventions, checked against NLTK's ``nltk.translate.bleu_score`` in ``tests/test_metrics.py``:

- Tokens are what the caller gives (lists of str or int); there is no tokeniser.
- When the hypothesis has no unigram match at all, BLEU is 0 whatever the smoothing (as in NLTK).
- ``t_n``, the number of hypothesis n-grams, is summed over the corpus. If a corpus has no n-gram
  of some order at all (every hypothesis shorter than ``n``), the smoothing formulas use
  ``max(t_n, 1)``. NLTK instead takes ``max(t_n, 1)`` per *sentence* before summing, so its corpus
  BLEU differs from this one (and from the paper) exactly when some but not all hypotheses are
  shorter than ``n``; for a single sentence the two agree.
- Without smoothing NLTK replaces a zero precision by the smallest float, so it returns a tiny
  positive number (about 1e-77) where this module returns exactly 0.

Perplexity, eq. {eq}`lm-perplexity`, is :func:`rnncourse.models.pretraining.perplexity`
(``exp`` of the mean negative log-likelihood in nats), re-exported here;
:func:`bits_per_symbol` gives the same mean NLL in bits.
"""
from __future__ import annotations

import math
import numbers
from collections import Counter
from typing import Sequence

__all__ = ["ngram_counts", "modified_precision", "closest_ref_length", "brevity_penalty",
           "bleu_stats", "bleu_from_stats", "corpus_bleu", "sentence_bleu",
           "perplexity", "bits_per_symbol", "SMOOTHING"]

SMOOTHING = ("none", "floor", "add-k", "exp")


def __getattr__(name):
    # perplexity lives with the language models (rnncourse.models.pretraining, which imports
    # torch); imported on first use so BLEU does not pull in torch.
    if name == "perplexity":
        from rnncourse.models.pretraining import perplexity
        return perplexity
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def bits_per_symbol(nll_sum: float, count: int) -> float:
    """Mean negative log-likelihood per symbol in bits: ``nll_sum / count / ln 2`` for ``nll_sum``
    in nats; ``perplexity = 2 ** bits_per_symbol``."""
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
        raise ValueError(f"count: expected a positive integer number of symbols, got {count!r}")
    if not math.isfinite(nll_sum) or nll_sum < 0:
        raise ValueError(f"nll_sum: expected a finite non-negative sum of NLLs, got {nll_sum!r}")
    return nll_sum / count / math.log(2)


def _tokens(x, what: str) -> tuple:
    """``x`` as a tuple of tokens (str or int), with a clear error for anything else."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{what}: expected a sequence of tokens, got a {type(x).__name__} "
                        f"({x[:30]!r}); split it first, e.g. text.split()")
    try:
        toks = tuple(x)
    except TypeError:
        raise TypeError(f"{what}: expected a sequence of tokens, got {type(x).__name__}") from None
    for t in toks:
        if isinstance(t, bool) or not isinstance(t, (str, numbers.Integral)):
            raise TypeError(f"{what}: tokens must be str or int, got {type(t).__name__} ({t!r})")
    return tuple(t if isinstance(t, str) else int(t) for t in toks)


def _references(refs, what: str) -> list[tuple]:
    if isinstance(refs, (str, bytes)):
        raise TypeError(f"{what}: expected a list of reference token sequences, got a str")
    try:
        refs = list(refs)
    except TypeError:
        raise TypeError(f"{what}: expected a list of reference token sequences, "
                        f"got {type(refs).__name__}") from None
    if not refs:
        raise ValueError(f"{what}: expected at least one reference")
    if all(isinstance(r, (str, numbers.Integral)) and not isinstance(r, bool) for r in refs):
        raise TypeError(f"{what}: expected a list of references (each a list of tokens), got one "
                        f"flat token list; wrap a single reference as [reference]")
    return [_tokens(r, f"{what}[{i}]") for i, r in enumerate(refs)]


def _check_order(max_n) -> int:
    if isinstance(max_n, bool) or not isinstance(max_n, numbers.Integral) or max_n < 1:
        raise ValueError(f"max_n: expected a positive integer, got {max_n!r}")
    return int(max_n)


def ngram_counts(tokens: Sequence, n: int) -> Counter:
    """Counts of the n-grams (tuples of ``n`` tokens) of ``tokens``; empty if ``len(tokens) < n``."""
    toks = _tokens(tokens, "tokens")
    n = _check_order(n)
    return Counter(toks[i:i + n] for i in range(len(toks) - n + 1))


def modified_precision(references: Sequence[Sequence], hypothesis: Sequence,
                       n: int) -> tuple[int, int]:
    """Clipped n-gram matches and number of n-grams of ``hypothesis``, eq. {eq}`bleu-pn`:
    ``(sum_g min(count_hyp(g), max_ref count_ref(g)), sum_g count_hyp(g))``. The precision of one
    sentence is their ratio; a corpus sums both before dividing."""
    refs = _references(references, "references")
    hyp = _tokens(hypothesis, "hypothesis")
    return _clipped(refs, hyp, _check_order(n))


def _clipped(refs, hyp, n) -> tuple[int, int]:
    counts = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
    if not counts:
        return 0, 0
    max_ref = Counter()
    for r in refs:
        rc = Counter(r[i:i + n] for i in range(len(r) - n + 1))
        for g in counts:
            if rc[g] > max_ref[g]:
                max_ref[g] = rc[g]
    return sum(min(c, max_ref[g]) for g, c in counts.items()), sum(counts.values())


def closest_ref_length(references: Sequence[Sequence], hyp_len: int) -> int:
    """The length of the reference closest to ``hyp_len`` (the shorter one on a tie)."""
    refs = _references(references, "references")
    return min((len(r) for r in refs), key=lambda L: (abs(L - hyp_len), L))


def brevity_penalty(ref_len: int, hyp_len: int) -> float:
    """``1`` if ``hyp_len > ref_len``, else ``exp(1 - ref_len / hyp_len)``; ``0`` for an empty
    hypothesis. At corpus level both are sums over the sentences."""
    for name, v in (("ref_len", ref_len), ("hyp_len", hyp_len)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"{name}: expected a non-negative integer length, got {v!r}")
    if hyp_len > ref_len:
        return 1.0
    if hyp_len == 0:
        return 0.0
    return math.exp(1 - ref_len / hyp_len)


def bleu_stats(list_of_references: Sequence[Sequence[Sequence]], hypotheses: Sequence[Sequence],
               max_n: int = 4) -> dict:
    """The sufficient statistics of corpus BLEU: ``matches[k]`` and ``totals[k]`` (clipped matches
    and hypothesis n-grams of order ``k + 1``, summed over the corpus), ``hyp_len`` (c) and
    ``ref_len`` (r, the closest reference lengths summed)."""
    max_n = _check_order(max_n)
    if isinstance(hypotheses, (str, bytes)):
        raise TypeError("hypotheses: expected a list of token sequences, got a str")
    hyps = list(hypotheses)
    if isinstance(list_of_references, (str, bytes)):
        raise TypeError("list_of_references: expected a list of reference lists, got a str")
    refs_all = list(list_of_references)
    if not hyps:
        raise ValueError("hypotheses: the corpus is empty (expected at least one hypothesis)")
    if len(refs_all) != len(hyps):
        raise ValueError(f"list_of_references has {len(refs_all)} entries but hypotheses has "
                         f"{len(hyps)}; expected one list of references per hypothesis")
    matches, totals = [0] * max_n, [0] * max_n
    c = r = 0
    for i, (refs, hyp) in enumerate(zip(refs_all, hyps)):
        refs = _references(refs, f"list_of_references[{i}]")
        hyp = _tokens(hyp, f"hypotheses[{i}]")
        for k in range(max_n):
            m, t = _clipped(refs, hyp, k + 1)
            matches[k] += m
            totals[k] += t
        c += len(hyp)
        r += min((len(x) for x in refs), key=lambda L: (abs(L - len(hyp)), L))
    return {"matches": matches, "totals": totals, "hyp_len": c, "ref_len": r}


def bleu_from_stats(matches: Sequence[int], totals: Sequence[int], hyp_len: int, ref_len: int,
                    weights: Sequence[float] | None = None, smoothing: str = "none",
                    epsilon: float = 0.1, k: float = 1.0) -> float:
    """BLEU from the statistics of :func:`bleu_stats`, eq. {eq}`bleu`; see the module docstring for
    ``smoothing`` (``"none"``, ``"floor"`` with ``epsilon``, ``"add-k"`` with ``k``, ``"exp"``)."""
    n = len(matches)
    if n < 1 or len(totals) != n:
        raise ValueError(f"matches and totals: expected equal non-zero lengths, got {len(matches)} "
                         f"and {len(totals)}")
    for m, t in zip(matches, totals):
        if (isinstance(m, bool) or isinstance(t, bool) or not isinstance(m, numbers.Integral)
                or not isinstance(t, numbers.Integral) or not 0 <= m <= t):
            raise ValueError(f"matches/totals: expected integers 0 <= match <= total, got {m}, {t}")
    if weights is None:
        weights = [1.0 / n] * n
    weights = [float(w) for w in weights]
    if len(weights) != n:
        raise ValueError(f"weights: expected {n} weights (one per n-gram order), got {len(weights)}")
    if not all(math.isfinite(w) and w >= 0 for w in weights):
        raise ValueError(f"weights: expected finite non-negative numbers, got {weights}")
    if smoothing not in SMOOTHING:
        raise ValueError(f"smoothing: expected one of {SMOOTHING}, got {smoothing!r}")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon: expected a positive number, got {epsilon!r}")
    if not (math.isfinite(k) and k > 0):
        raise ValueError(f"k: expected a positive number, got {k!r}")
    bp = brevity_penalty(ref_len, hyp_len)
    if matches[0] == 0 or bp == 0.0:
        return 0.0
    logs = []
    zeros = 0
    for i, (m, t) in enumerate(zip(matches, totals)):
        denom = max(t, 1)
        if smoothing == "add-k" and i > 0:
            p = (m + k) / (denom + k)
        elif m > 0:
            p = m / denom
        elif smoothing == "floor":
            p = epsilon / denom
        elif smoothing == "exp":
            zeros += 1
            p = 1.0 / (2 ** zeros * denom)
        else:  # no match of this order and no smoothing: the geometric mean is zero
            if weights[i] > 0:
                return 0.0
            continue
        logs.append(weights[i] * math.log(p))
    return bp * math.exp(math.fsum(logs))


def corpus_bleu(list_of_references: Sequence[Sequence[Sequence]], hypotheses: Sequence[Sequence],
                max_n: int = 4, weights: Sequence[float] | None = None, smoothing: str = "none",
                epsilon: float = 0.1, k: float = 1.0) -> float:
    """Corpus BLEU in [0, 1] of ``hypotheses`` (each a list of tokens) against
    ``list_of_references`` (for each hypothesis, a list of one or more reference token lists).
    ``weights`` default to ``1/max_n`` each."""
    s = bleu_stats(list_of_references, hypotheses, max_n)
    return bleu_from_stats(s["matches"], s["totals"], s["hyp_len"], s["ref_len"], weights,
                           smoothing, epsilon, k)


def sentence_bleu(references: Sequence[Sequence], hypothesis: Sequence, max_n: int = 4,
                  weights: Sequence[float] | None = None, smoothing: str = "none",
                  epsilon: float = 0.1, k: float = 1.0) -> float:
    """BLEU of one hypothesis against its references (a corpus of one sentence)."""
    return corpus_bleu([references], [hypothesis], max_n, weights, smoothing, epsilon, k)
