"""Parameters and time per step of the chapter-12 cells (not a test).

Usage:
    python benchmarks/beyond.py                       # cells at one width, then depth sweep
    python benchmarks/beyond.py --width 64 --threads 1
    python benchmarks/beyond.py --sweep               # also the learning-rate sweep of the chapter

Tables:
1. every cell at width H: parameters, CPU ms per step of a forward pass and of forward + backward;
2. depth L = 1..8: parameters and forward ms per step of a stacked LSTM (L layers of width M),
   a tensorized LSTM (P = L locations of M channels, K = 3, so depth L) and a wide LSTM (L * M units);
3. with --sweep: validation loss of each cell of the chapter's comparison after 150 steps for
   several learning rates (two seeds), which is how the chapter's learning rate was chosen.
Times are CPU seconds of this process (robust when the machine is shared), best of 3.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

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


def lr_sweep(budget, steps, lrs):
    vocab = TextVocab()
    V = len(vocab)
    train = encode_text(grammar_corpus(20000, seed=1))
    xv, yv = contiguous_windows(encode_text(grammar_corpus(4000, seed=2)), 64)
    makers = {
        "LSTM": lambda H: CharLM(LSTM(V, H), V),
        "LSTM + zoneout": lambda H: CharLM(LSTM(V, H, z_c=0.5, z_h=0.05), V),
        "mRNN": lambda H: CharLM(MRNN(V, H), V),
        "mLSTM": lambda H: CharLM(MLSTM(V, H), V), "Delta-RNN": lambda H: CharLM(DeltaRNN(V, H), V),
        "stacked LSTM (L=3)": lambda H: CharLM(StackedLSTM(V, H, 3), V),
        "tLSTM (P=3)": lambda M: CharLM(TLSTM(V, M, P=3), V),
    }
    print(f"\nvalidation loss (nats/char) after {steps} steps, budget {budget} parameters, seeds 0 and 1")
    print(f"{'model':20s} {'width':>5s} " + " ".join(f"{'lr=' + str(lr):>12s}" for lr in lrs))
    for name, make in makers.items():
        H = hidden_for_budget(make, budget, hi=200)
        row = []
        for lr in lrs:
            losses = []
            for seed in (0, 1):
                torch.manual_seed(seed)
                model = make(H)
                train_char_lm(model, train, steps, lr=lr, seed=seed)
                losses.append(evaluate_char_lm(model, xv, yv))
            row.append(f"{np.mean(losses):6.3f}+-{np.std(losses):.3f}")
        print(f"{name:20s} {H:5d} " + " ".join(f"{r:>12s}" for r in row), flush=True)


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
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    D = len(TextVocab())
    cells_table(D, args.width, args.batch, args.steps)
    depth_table(D, args.width, args.batch, args.steps, args.depths)
    if args.sweep:
        lr_sweep(args.budget, 150, args.lrs)


if __name__ == "__main__":
    main()
