"""Chapter 7: does a longer training budget let the chain RNN catch up with the recursive net?

Usage:
    python benchmarks/recursive_training_budget.py                 # seeds 0-4, chain up to 3000 steps
    python benchmarks/recursive_training_budget.py --seeds 0 1 --steps 300 1000 3000

The chapter's experiment (``book/07_recursive.ipynb``, section "Experiment: evaluating boolean
formulas") trains the recursive net on each formula's tree and the chain RNN on the bracketed
string for 300 Adam steps of 64 formulas. This script repeats it for each base seed with exactly the
notebook's data, initialisation and minibatch order (``RNNCOURSE_SEED`` = the base seed, streams
``"train data"``, ``"test data"``, ``"init"``, ``"batches"``), keeps training the chain RNN and
evaluates it after each number of steps in ``--steps``: the first checkpoint is the notebook's run,
the last one is ten times its budget. One table row per seed, then the median over seeds:

    tree@300     test accuracy of the recursive net after the notebook's 300 steps, on the test
                 formulas with more operators than any training formula (7 to 12)
    chain@k      the same for the chain RNN after k steps
    gap@k        tree@300 - chain@k
    loss@k       the chain's mean training loss over the 50 steps before k

Not a test (about 40 s of CPU per seed for 3000 steps). Chapter 7 names this script where it says
what longer training does to the gap.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from rnncourse.claims import SEED_ENV, seed
from rnncourse.data.trees import BOOL_VOCAB, boolean_formulas, select_trees
from rnncourse.optim import Adam
from rnncourse.recursive import (
    init_tree_params, predict_trees, train_tree_classifier, tree_classifier_loss,
)

# the notebook's settings
H, BATCH, LR, NOTEBOOK_STEPS = 32, 64, 0.01, 300


def chain_checkpoints(forest, labels, params, checkpoints, test_forest, test_labels, longer):
    """Train like :func:`rnncourse.recursive.train_tree_classifier` (same Adam, same minibatch
    stream for the same seed), evaluating at every step count in ``checkpoints``."""
    rng = np.random.default_rng(seed("batches"))
    opt = Adam(lr=LR)
    n = labels.shape[0]
    losses, out = [], {}
    for step in range(1, max(checkpoints) + 1):
        idx = rng.choice(n, size=min(BATCH, n), replace=False)
        batch = select_trees(forest, idx)
        loss, grads = tree_classifier_loss(batch.children, batch.tokens, batch.roots, labels[idx], params)
        opt.update(params, grads)
        losses.append(loss)
        if step in checkpoints:
            acc = predict_trees(test_forest, params) == test_labels
            out[step] = (acc[longer].mean(), float(np.mean(losses[-50:])))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--steps", type=int, nargs="+", default=[300, 1000, 3000])
    args = ap.parse_args(argv)
    steps = sorted(set(args.steps))
    header = ["seed", "tree@300", *[f"chain@{k}" for k in steps], *[f"gap@{k}" for k in steps],
              *[f"loss@{k}" for k in steps], "cpu s"]
    print("  ".join(f"{h:>10s}" for h in header), flush=True)
    rows = []
    for base in args.seeds:
        os.environ[SEED_ENV] = str(base)
        start = time.process_time()
        train = boolean_formulas(2000, min_ops=1, max_ops=6, seed=seed("train data"))
        test = boolean_formulas(2400, min_ops=1, max_ops=12, seed=seed("test data"))
        longer = test.n_ops > 6
        tree_params = init_tree_params(len(BOOL_VOCAB), H, 2, seed=seed("init"))
        train_tree_classifier(train.tree, train.labels, tree_params, num_steps=NOTEBOOK_STEPS, lr=LR,
                              batch_size=BATCH, seed=seed("batches"))
        tree_acc = (predict_trees(test.tree, tree_params) == test.labels)[longer].mean()
        chain_params = init_tree_params(len(BOOL_VOCAB), H, 2, seed=seed("init"))
        res = chain_checkpoints(train.chain, train.labels, chain_params, steps, test.chain,
                                test.labels, longer)
        row = [tree_acc, *[res[k][0] for k in steps], *[tree_acc - res[k][0] for k in steps],
               *[res[k][1] for k in steps]]
        rows.append(row)
        print("  ".join([f"{base:>10d}", *[f"{v:10.3f}" for v in row],
                         f"{time.process_time() - start:10.1f}"]), flush=True)
    med = np.median(np.array(rows), axis=0)
    print("  ".join([f"{'median':>10s}", *[f"{v:10.3f}" for v in med]]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
