"""Chapter 8's addition experiment for several base seeds: how much of each gain is luck?

Usage:
    python benchmarks/seq2seq_seeds.py              # base seeds 0-7
    python benchmarks/seq2seq_seeds.py --seeds 0 1 2

For each base seed (``RNNCOURSE_SEED``) this runs, in a fresh process, the very cells of
``book/08_seq2seq.ipynb`` that train the three addition models (imports, vocabulary, and the cell
that trains baseline, reversed and reversed + peeky with the same budget), and prints one row per
seed: the three test accuracies, the gain of reversal over the baseline and the gain of peeking
over reversal alone, then the minimum, median and maximum of each column. The chapter's prose
names this table where it says that the gain of reversal alone varies from run to run. Not a
test, and not part of CI: about half a minute of CPU time per seed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "book" / "08_seq2seq.ipynb"
CELLS = ("c01", "c03", "c12")          # imports, vocabulary, the three addition models
COLUMNS = ("baseline", "reversed", "reversed + peeky")


def run_cells() -> dict:
    """Execute the notebook's addition cells here; return the three test accuracies."""
    import contextlib
    import io

    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    by_id = {c.get("id"): c for c in nb.cells}
    missing = [c for c in CELLS if c not in by_id]
    if missing:
        raise SystemExit(f"cells {missing} not found in {NOTEBOOK.name}: update CELLS")
    namespace: dict = {"__name__": "__seq2seq_seeds__"}
    os.chdir(NOTEBOOK.parent)
    with contextlib.redirect_stdout(io.StringIO()):
        for cid in CELLS:
            exec(compile(by_id[cid].source, f"{NOTEBOOK.name}:{cid}", "exec"), namespace)
    return {name: float(namespace["acc"][name]) for name in COLUMNS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)   # internal: run one seed, print JSON
    args = ap.parse_args(argv)
    if args.one is not None:
        print(json.dumps(run_cells()))
        return 0
    rows = []
    header = f"{'seed':>4}  {'baseline':>8}  {'reversed':>8}  {'rev+peeky':>9}  {'rev - base':>10}  {'peeky - rev':>11}"
    print(header)
    print("-" * len(header))
    for s in args.seeds:
        env = dict(os.environ, RNNCOURSE_SEED=str(s), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MPLBACKEND="Agg")
        out = subprocess.run([sys.executable, __file__, "--one", str(s)], env=env, check=True,
                             capture_output=True, text=True).stdout
        acc = json.loads(out.strip().splitlines()[-1])
        row = [acc[c] for c in COLUMNS]
        row += [row[1] - row[0], row[2] - row[1]]
        rows.append(row)
        print(f"{s:4d}  {row[0]:8.3f}  {row[1]:8.3f}  {row[2]:9.3f}  {row[3]:10.3f}  {row[4]:11.3f}",
              flush=True)
    a = np.array(rows)
    print("-" * len(header))
    for label, f in [("min", np.min), ("median", np.median), ("max", np.max)]:
        v = f(a, axis=0)
        print(f"{label:>6}{v[0]:8.3f}  {v[1]:8.3f}  {v[2]:9.3f}  {v[3]:10.3f}  {v[4]:11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
