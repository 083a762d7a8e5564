"""The capstones' graded runs over seeds and cuts: the table the thresholds come from.

Usage:
    python benchmarks/capstones.py                  # capstone 1 (character LM), seeds 0-4
    python benchmarks/capstones.py --seeds 0 1 --cuts 2
    python benchmarks/capstones.py --only 2         # capstone 2 (attention G2P) only

Capstone 1: the reference solution (:func:`rnncourse.char_lm.train_char_lm`) is trained with the
graded budget (``GRADED_RUN`` on ``GRADED_CUT`` characters of the training split) for every seed
and for the cuts the judge draws from (``rnncourse.grading.judge.exercises.ex14_char_lm``), and
evaluated as the judge evaluates (perplexity on the first ``GRADED_VALID`` characters of the
validation split). It prints one row per run with its time, then the baselines (an untrained
model, the unigram and add-one bigram models of the cut) and the worst run against the threshold.
Capstone 2: the reference (:func:`rnncourse.attention_g2p.train_g2p`) is trained with the graded
budget (``GRADED_G2P``) for every seed and scored as the judge scores (exact match of the greedy
pronunciations of the 600 held-out words). Not a test: a few seconds of CPU per run.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np


def _ngram_ppl(train, valid, V, order):
    """Add-one unigram (order 1) or bigram (order 2) perplexity of ``valid``."""
    if order == 1:
        p = (np.bincount(train, minlength=V) + 1.0) / (len(train) + V)
        return math.exp(-np.mean(np.log(p[valid[1:]])))
    counts = np.ones((V, V))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    p = counts / counts.sum(axis=1, keepdims=True)
    return math.exp(-np.mean(np.log(p[valid[:-1], valid[1:]])))


def capstone1(seeds, n_cuts):
    from rnncourse.char_lm import (GRADED_CUT, GRADED_RUN, evaluate_nll, init_char_lm,
                                   perplexity, train_char_lm)
    from rnncourse.grading.judge.exercises.ex14_char_lm import THRESHOLD_PPL, graded_data

    data = graded_data()
    V, valid = data["V"], data["valid"]
    print(f"Capstone 1, character LM on {data['lang']!r}: V={V}, graded run {GRADED_RUN} on "
          f"{GRADED_CUT} characters, judged on {len(valid)} validation characters")
    print(f"{'seed':>4} {'cut at':>7} {'seconds':>8} {'perplexity':>11} {'bits/char':>10}")
    ppls = []
    for seed in seeds:
        for offset in data["offsets"][:n_cuts]:
            cut = data["train"][offset:offset + GRADED_CUT]
            t0 = time.perf_counter()
            params, _ = train_char_lm(cut, V, seed=seed, **GRADED_RUN)
            secs = time.perf_counter() - t0
            nll = evaluate_nll(params, valid)
            ppls.append(perplexity(nll))
            print(f"{seed:>4} {offset:>7} {secs:>8.2f} {ppls[-1]:>11.3f} {nll / math.log(2):>10.3f}",
                  flush=True)
    cut = data["train"][data["offsets"][0]:data["offsets"][0] + GRADED_CUT]
    untrained = perplexity(evaluate_nll(init_char_lm(V, GRADED_RUN["H"], 0), valid))
    print(f"baselines: untrained {untrained:.3f}, unigram {_ngram_ppl(cut, valid, V, 1):.3f}, "
          f"bigram (add-one) {_ngram_ppl(cut, valid, V, 2):.3f}")
    print(f"runs: {len(ppls)}, best {min(ppls):.3f}, median {float(np.median(ppls)):.3f}, "
          f"worst {max(ppls):.3f}; threshold {THRESHOLD_PPL} "
          f"(margin {THRESHOLD_PPL - max(ppls):.3f} over the worst run)")


def capstone2(seeds):
    from rnncourse.attention_g2p import GRADED_G2P, greedy_g2p, train_g2p
    from rnncourse.data.g2p import exact_match
    from rnncourse.grading.judge.exercises.ex15_g2p_attention import (MAX_LEN, THRESHOLD_EM,
                                                                       graded_g2p_data)

    data = graded_g2p_data()
    tr, te = data["train"], data["test"]
    print(f"\nCapstone 2, attention G2P: {len(tr['src'])} training words, {len(te['src'])} "
          f"held-out words, graded run {GRADED_G2P}")
    print(f"{'seed':>4} {'seconds':>8} {'exact match':>12}")
    ems = []
    for seed in seeds:
        t0 = time.perf_counter()
        params, _ = train_g2p(tr, data["Vs"], data["Vt"], seed=seed, **GRADED_G2P)
        secs = time.perf_counter() - t0
        ems.append(float(exact_match(greedy_g2p(params, te["src"], te["src_len"], MAX_LEN),
                                     te["tgt_out"]).mean()))
        print(f"{seed:>4} {secs:>8.2f} {ems[-1]:>12.3f}", flush=True)
    print(f"runs: {len(ems)}, best {max(ems):.3f}, median {float(np.median(ems)):.3f}, worst "
          f"{min(ems):.3f}; threshold {THRESHOLD_EM} (margin {min(ems) - THRESHOLD_EM:.3f} "
          "under the worst run)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--cuts", type=int, default=4, help="how many of the judge's cuts")
    ap.add_argument("--only", choices=["1", "2"], help="run one capstone only")
    args = ap.parse_args(argv)
    if args.only != "2":
        capstone1(args.seeds, args.cuts)
    if args.only != "1":
        capstone2(args.seeds)


if __name__ == "__main__":
    main()
