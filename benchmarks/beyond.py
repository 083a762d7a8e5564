"""Parameters, time per step and the learning-rate sweep of the chapter-12 cells (not a test).

Usage:
    python benchmarks/beyond.py                       # cells at one width, then depth sweep
    python benchmarks/beyond.py --width 64 --threads 1
    python benchmarks/beyond.py --sweep               # also the learning-rate sweep of the chapter
    python benchmarks/beyond.py --sweep --seeds 0 1 --lrs 0.02 0.08   # a smaller sweep

Tables:
1. every cell at width H: parameters, CPU ms per step of a forward pass and of forward + backward;
2. depth L = 1..8: parameters and forward ms per step of a stacked LSTM (L layers of width M),
   a tensorized LSTM (P = L locations of M channels, K = 3, so depth L) and a wide LSTM (L * M units);
3. with --sweep, "learning-rate sweep": the validation loss of each model of the chapter's comparison
   (``book/12_beyond_lstm.ipynb``, section "The comparison") after 150 steps, for each learning rate:
   the median over the base seeds and, in brackets, the smallest and largest value; a "!" counts the
   runs that ended above the unigram entropy of the training text (worse than ignoring the context).
   Each base seed s reproduces the notebook run with ``RNNCOURSE_SEED=s`` exactly: the same training and
   validation text (streams "train text", "validation text"), initial weights ("init <model>") and
   minibatch order ("minibatches"). The chosen rate of each model is the one with the lowest median;
   the script prints them as the dictionary ``best_lr`` that the notebook uses;
4. with --sweep, "comparison over seeds": the validation loss of each model at its chosen rate for
   every seed (the notebook's table, one column per seed), then the differences the chapter discusses,
   per seed: the spread of the three single-layer cells, mLSTM - LSTM, zoneout - LSTM (validation and
   training loss), tLSTM - stacked LSTM.
Times are CPU seconds of this process (robust when the machine is shared), best of 3. The sweep takes
2 to 5 s of CPU per run (7 models x 4 rates x 5 seeds: about 10 minutes on one idle core).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import time

import numpy as np
import torch

from rnncourse.claims import SEED_ENV, seed
from rnncourse.data.text import TextVocab, contiguous_windows, encode_text, grammar_corpus
from rnncourse.models.beyond import (
    LSTM, MLSTM, MRNN, TLSTM, CharLM, DeltaRNN, StackedLSTM, count_params, evaluate_char_lm,
    hidden_for_budget, seconds_per_step, train_char_lm,
)


def _train_ms(cell, x, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        out, _ = cell(x)
        out.square().mean().backward()
        best = min(best, time.process_time() - start)
    return 1e3 * best / x.shape[1]


def cells_table(D, H, N, T):
    x = torch.randn(N, T, D)
    cells = {
        "LSTM": LSTM(D, H), "LSTM + zoneout": LSTM(D, H, z_c=0.5, z_h=0.05), "mRNN": MRNN(D, H),
        "mLSTM": MLSTM(D, H), "Delta-RNN": DeltaRNN(D, H), "stacked LSTM (L=3)": StackedLSTM(D, H, 3),
        "tLSTM (P=3, K=3)": TLSTM(D, H, P=3),
    }
    print(f"\ncells at width {H} (D = {D}, batch {N}, {T} steps)")
    print(f"{'cell':22s} {'params':>8s} {'fwd ms/step':>12s} {'fwd+bwd ms/step':>16s}")
    for name, cell in cells.items():
        fwd = 1e3 * seconds_per_step(cell.eval(), x)
        print(f"{name:22s} {count_params(cell):8d} {fwd:12.3f} {_train_ms(cell.train(), x):16.3f}")


def depth_table(D, M, N, T, depths):
    x = torch.randn(N, T, D)
    print(f"\ndepth sweep at M = {M} (D = {D}, batch {N}, {T} steps); forward ms per step")
    print(f"{'L':>3s} {'stacked params':>15s} {'tLSTM params':>13s} {'wide params':>12s} "
          f"{'stacked ms':>11s} {'tLSTM ms':>9s} {'wide ms':>8s}")
    for L in depths:
        models = [StackedLSTM(D, M, L), TLSTM(D, M, P=L), LSTM(D, L * M)]
        params = [count_params(m) for m in models]
        ms = [1e3 * seconds_per_step(m, x) for m in models]
        print(f"{L:3d} {params[0]:15d} {params[1]:13d} {params[2]:12d} "
              f"{ms[0]:11.3f} {ms[1]:9.3f} {ms[2]:8.3f}")


@contextlib.contextmanager
def _base_seed(s):
    """Run the body as the notebook runs with ``RNNCOURSE_SEED=s``."""
    old = os.environ.get(SEED_ENV)
    os.environ[SEED_ENV] = str(s)
    try:
        yield
    finally:
        if old is None:
            del os.environ[SEED_ENV]
        else:
            os.environ[SEED_ENV] = old


def _makers(V):
    """The chapter's comparison, in the notebook's order and with its names."""
    return {
        "LSTM": lambda H: CharLM(LSTM(V, H), V),
        "LSTM + zoneout": lambda H: CharLM(LSTM(V, H, z_c=0.5, z_h=0.05), V),
        "mRNN": lambda H: CharLM(MRNN(V, H), V),
        "mLSTM": lambda H: CharLM(MLSTM(V, H), V),
        "Delta-RNN": lambda H: CharLM(DeltaRNN(V, H), V),
        "stacked LSTM (L=3)": lambda H: CharLM(StackedLSTM(V, H, 3), V),
        "tLSTM (P=3)": lambda M: CharLM(TLSTM(V, M, P=3), V),
    }


def lr_sweep(budget, steps, lrs, seeds):
    V = len(TextVocab())
    makers = _makers(V)
    widths = {name: hidden_for_budget(make, budget, hi=200) for name, make in makers.items()}
    val, train, unigram = {}, {}, {}
    for s in seeds:
        with _base_seed(s):
            train_ids = encode_text(grammar_corpus(20_000, seed=seed("train text")))
            xv, yv = contiguous_windows(encode_text(grammar_corpus(4_000, seed=seed("validation text"))), 64)
            counts = np.bincount(train_ids, minlength=V) / len(train_ids)
            unigram[s] = -(counts[counts > 0] * np.log(counts[counts > 0])).sum()
            for name, make in makers.items():
                for lr in lrs:
                    torch.manual_seed(seed(f"init {name}"))
                    model = make(widths[name])
                    hist = train_char_lm(model, train_ids, steps, lr=lr, seed=seed("minibatches"))
                    val[name, lr, s] = evaluate_char_lm(model, xv, yv)
                    train[name, lr, s] = hist["loss"][-15:].mean()
        print(f"  seed {s} done", flush=True)

    print(f"\nlearning-rate sweep: validation loss (nats/char) after {steps} steps, budget {budget} "
          f"parameters; median [min, max] over base seeds {seeds}; ! = runs above the unigram entropy")
    print(f"{'model':20s} {'width':>5s} " + " ".join(f"{'lr=' + str(lr):>22s}" for lr in lrs))
    best = {}
    for name in makers:
        cells, medians = [], {}
        for lr in lrs:
            v = np.array([val[name, lr, s] for s in seeds])
            medians[lr] = np.median(v)
            bad = sum(val[name, lr, s] > unigram[s] for s in seeds)
            cells.append(f"{medians[lr]:.3f} [{v.min():.3f}, {v.max():.3f}]" + ("!" * bad))
        best[name] = min(lrs, key=lambda lr: medians[lr])
        print(f"{name:20s} {widths[name]:5d} " + " ".join(f"{c:>22s}" for c in cells), flush=True)

    print(f"\ncomparison over seeds: validation loss at the chosen learning rate, base seeds {seeds}")
    print(f"{'model':20s} {'lr':>5s} " + " ".join(f"{'seed ' + str(s):>8s}" for s in seeds)
          + f" {'median':>8s} {'spread':>8s}")
    for name in makers:
        v = np.array([val[name, best[name], s] for s in seeds])
        print(f"{name:20s} {best[name]:5g} " + " ".join(f"{x:8.3f}" for x in v)
              + f" {np.median(v):8.3f} {v.max() - v.min():8.3f}")
    at = {(name, s): val[name, best[name], s] for name in makers for s in seeds}
    rows = {
        "range LSTM, mRNN, Delta-RNN": [max(at[n, s] for n in ("LSTM", "mRNN", "Delta-RNN"))
                                        - min(at[n, s] for n in ("LSTM", "mRNN", "Delta-RNN")) for s in seeds],
        "mLSTM - LSTM": [at["mLSTM", s] - at["LSTM", s] for s in seeds],
        "zoneout - LSTM": [at["LSTM + zoneout", s] - at["LSTM", s] for s in seeds],
        "zoneout - LSTM (train)": [train["LSTM + zoneout", best["LSTM + zoneout"], s]
                                   - train["LSTM", best["LSTM"], s] for s in seeds],
        "tLSTM - stacked LSTM": [at["tLSTM (P=3)", s] - at["stacked LSTM (L=3)", s] for s in seeds],
        "deep (better) - LSTM": [min(at["tLSTM (P=3)", s], at["stacked LSTM (L=3)", s]) - at["LSTM", s]
                                 for s in seeds],
    }
    for label, v in rows.items():
        print(f"{label:26s} " + " ".join(f"{x:+8.3f}" for x in v) + f" {np.median(v):+8.3f}")
    print("\nbest_lr = {" + ", ".join(f'"{n}": {lr:g}' for n, lr in best.items()) + "}")
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=32, help="time steps per timed sequence")
    ap.add_argument("--depths", type=int, nargs="+", default=[1, 2, 4, 6, 8])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sweep", action="store_true", help="also run the learning-rate sweep")
    ap.add_argument("--budget", type=int, default=8000)
    ap.add_argument("--lrs", type=float, nargs="+", default=[0.01, 0.02, 0.04, 0.08])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="base seeds of the sweep")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    D = len(TextVocab())
    cells_table(D, args.width, args.batch, args.steps)
    depth_table(D, args.width, args.batch, args.steps, args.depths)
    if args.sweep:
        lr_sweep(args.budget, 150, args.lrs, args.seeds)


if __name__ == "__main__":
    main()
