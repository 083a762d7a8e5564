"""Seeds, asserted claims and glued numbers for the book's notebooks.

Every measured claim in the book must hold on any machine and for any seed, and every number the
prose states must come from the executed code. Three small tools make that the easy path:

- :func:`seed` derives all of a notebook's randomness from one base seed, read from the environment
  variable ``RNNCOURSE_SEED`` (default 0), so ``RNNCOURSE_SEED=3 make book`` runs every chapter on a
  different draw of data, initial weights and minibatches;
- :func:`claim` asserts a measured quantity against a threshold, with a readable message, records it
  for the claims table (``make claims``, ``benchmarks/claims.py``) and glues it for the prose;
- :func:`glue` puts any other computed value into the prose (MyST-NB ``{glue:text}`` role), so the
  text and the outputs cannot drift.

Example, in a chapter::

    from rnncourse.claims import seed, claim
    data = delayed_recall(32, 1000, delay=4, seed=seed("train data"))
    ...
    claim("bptt-acc-k5", acc[5], ">", 0.9, "test accuracy with chunk length 5")

and in the markdown: ``the network reaches {glue:text}`bptt-acc-k5:.2f` with k = 5``.
"""
from __future__ import annotations

import json
import math
import operator
import os
import random
import zlib

import numpy as np

__all__ = ["SEED_ENV", "LOG_ENV", "base_seed", "seed", "seed_all", "rng", "claim", "glue", "Claim"]

SEED_ENV = "RNNCOURSE_SEED"
LOG_ENV = "RNNCOURSE_CLAIMS_LOG"      # set by benchmarks/claims.py: a JSON-lines file to append to

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def base_seed() -> int:
    """The notebook's base seed: ``RNNCOURSE_SEED`` from the environment, 0 when unset."""
    raw = os.environ.get(SEED_ENV, "").strip()
    if raw == "":
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be a non-negative integer, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{SEED_ENV} must be a non-negative integer, got {value}")
    return value


def seed(stream: int | str = 0) -> int:
    """A seed for one source of randomness (``stream``: a number or a name such as ``"test data"``).

    Different streams give independent seeds, and every one of them changes with the base seed, so
    a notebook never hides a hand-picked seed: ``seed("init")`` at base seed 0 and at base seed 3 are
    unrelated draws. The result fits in 32 bits (torch, numpy and ``random`` all accept it).
    """
    if isinstance(stream, str):
        key = zlib.crc32(stream.encode("utf-8"))
    elif isinstance(stream, (int, np.integer)) and not isinstance(stream, bool) and stream >= 0:
        key = int(stream)
    else:
        raise ValueError(f"stream must be a non-negative int or a str, got {stream!r}")
    return int(np.random.SeedSequence([base_seed(), key]).generate_state(1)[0])


def rng(stream: int | str = 0) -> np.random.Generator:
    """``np.random.default_rng(seed(stream))``."""
    return np.random.default_rng(seed(stream))


def seed_all(stream: int | str = 0) -> int:
    """Seed Python's ``random``, numpy's global generator and torch (if installed) from
    ``seed(stream)``; returns that seed. Call it at the top of a notebook, and again before each
    experiment whose result should not depend on what ran before it."""
    s = seed(stream)
    random.seed(s)
    np.random.seed(s)
    try:
        import torch
    except ImportError:  # the numpy-only student kit
        return s
    torch.manual_seed(s)
    return s


class Claim(float):
    """The value of a checked claim (a float that remembers its threshold)."""

    name: str
    threshold: float
    op: str
    margin: float


def _as_float(name: str, value) -> float:
    try:
        out = float(np.asarray(value).item()) if np.ndim(value) == 0 else None
    except (TypeError, ValueError):
        out = None
    if out is None:
        raise ValueError(f"claim {name!r}: expected one number, got {type(value).__name__} "
                         f"{np.shape(value) if hasattr(value, 'shape') else ''}".rstrip())
    return out


def claim(name: str, value, op: str, threshold: float, text: str = "") -> Claim:
    """Assert ``value op threshold`` for a measured quantity and record it.

    Args:
        name: a unique, stable id (also the glue name), e.g. ``"bptt-acc-k5"``.
        value: the measured number (a Python or numpy scalar).
        op: one of ``">"``, ``">="``, ``"<"``, ``"<="``.
        threshold: the bound the book claims. Choose it so the claims table shows a margin on
            every seed and thread count, not just the one in front of you.
        text: what the claim says, in words (shown in the claims table and the error).

    Returns the value (a :class:`Claim`, usable as a float). Raises ``AssertionError`` naming the
    claim, the value, the threshold and the seed when the claim does not hold.
    """
    if op not in _OPS:
        raise ValueError(f"claim {name!r}: op must be one of {sorted(_OPS)}, got {op!r}")
    v = _as_float(name, value)
    t = _as_float(name + " threshold", threshold)
    margin = (v - t) if op in (">", ">=") else (t - v)
    ok = bool(_OPS[op](v, t)) and math.isfinite(v)
    _record({"name": name, "text": text, "value": v, "op": op, "threshold": t,
             "margin": margin, "ok": ok, "seed": base_seed()})
    glue(name, v)
    if not ok:
        raise AssertionError(f"claim {name!r} does not hold: {v:.6g} {op} {t:.6g} is false "
                             f"({text or 'no description'}; {SEED_ENV}={base_seed()})")
    out = Claim(v)
    out.name, out.threshold, out.op, out.margin = name, t, op, margin
    return out


def _record(row: dict) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


class _Text(str):
    """A string whose repr is itself, so ``{glue:text}`` shows it without quotes."""

    def __repr__(self) -> str:
        return str(self)


def glue(name: str, value) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`name``` (or ``name:.2f``) in the prose.

    Numbers are glued as plain Python numbers (a numpy scalar would print as ``np.float64(...)``),
    strings without quotes. Outside a Jupyter kernel this does nothing.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:
        return
    try:
        from myst_nb import glue as _glue
    except ImportError:  # the book's build tools are not installed: nothing reads glued values
        return

    if isinstance(value, (bool, np.bool_)):
        value = _Text(str(bool(value)))
    elif isinstance(value, (int, np.integer)):
        value = int(value)
    elif isinstance(value, (float, np.floating)):
        value = float(value)
    elif isinstance(value, str):
        value = _Text(value)
    _glue(name, value, display=False)
