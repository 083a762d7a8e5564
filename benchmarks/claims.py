"""The claims table: every asserted claim of the book, for several seeds and BLAS thread counts.

Usage:
    python benchmarks/claims.py                      # every book notebook, seeds 0-4, 1 and 2 threads
    python benchmarks/claims.py 02_bptt 04_lstm      # only these chapters
    python benchmarks/claims.py --seeds 0 1 --threads 1 --jobs 2

Each run executes a notebook in a fresh kernel with ``RNNCOURSE_SEED`` and ``OPENBLAS_NUM_THREADS`` /
``OMP_NUM_THREADS`` set, and reads back what :func:`rnncourse.claims.claim` recorded. The table has one
row per claim: chapter, claim, value for each seed (the worse of the thread counts when they differ;
``*`` marks a seed whose value depended on the thread count), threshold, worst margin, and FAIL where
any run broke the claim (or the notebook stopped before reaching it). Runs are cached in
``_build/claims/`` by the notebook's and the library's content, so a rerun after editing one chapter
only executes that chapter. Not a test, and not part of CI: a full run takes about half an hour.
Exit status 1 if any claim failed or any run errored.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / "claims"
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# Parts of the package that cannot change a measured claim: the question bank and glossary (rendered
# as text), the autograder and the quiz. Editing them does not invalidate the cached runs.
_NOT_NUMERIC = ("rnncourse/quiz/", "rnncourse/grading/")


def _library_hash() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "rnncourse").rglob("*")):
        rel = p.relative_to(ROOT).as_posix()
        if rel.startswith(_NOT_NUMERIC):
            continue
        if p.is_file() and p.suffix in {".py", ".json", ".txt", ".yml"}:
            h.update(str(p.relative_to(ROOT)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def run_one(path: Path, seed: int, threads: int, lib: str) -> dict:
    """Execute one notebook; return {"claims": [...], "error": str|None, "seconds": float}."""
    key = hashlib.sha256(path.read_bytes() + lib.encode()).hexdigest()[:16]
    cached = CACHE / f"{path.stem}.s{seed}.t{threads}.{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    nb = nbformat.read(path, as_version=4)
    with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False) as log:
        log_path = log.name
    env = dict(os.environ, RNNCOURSE_SEED=str(seed), RNNCOURSE_CLAIMS_LOG=log_path,
               **{v: str(threads) for v in THREAD_VARS})
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error = None
    try:
        with client.setup_kernel(env=env):          # passed on to the kernel manager's launch
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
    except Exception as exc:  # noqa: BLE001 - a failing notebook is a row in the table, not a crash
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
    claims = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line.strip()]
    os.unlink(log_path)
    result = {"claims": claims, "error": error, "seconds": time.perf_counter() - start}
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result))
    return result


def table(runs: dict, seeds: list[int], threads: list[int]) -> tuple[str, int]:
    """Format the claims table; return it and the number of failing rows."""
    rows, failures = [], 0
    header = ["chapter", "claim", *[f"seed {s}" for s in seeds], "threshold", "worst margin", "status"]
    for chapter in sorted({c for c, _, _ in runs}):
        names: list[str] = []
        for (c, s, t), res in runs.items():
            if c == chapter:
                for row in res["claims"]:
                    if row["name"] not in names:
                        names.append(row["name"])
        errors = {(s, t): res["error"] for (c, s, t), res in runs.items() if c == chapter and res["error"]}
        for name in names:
            per_seed, margins, bad, op_thr = [], [], False, ""
            for s in seeds:
                vals = []
                for t in threads:
                    hits = [r for r in runs[chapter, s, t]["claims"] if r["name"] == name]
                    if not hits:
                        bad = True
                        continue
                    r = hits[-1]
                    vals.append(r)
                    margins.append(r["margin"])
                    bad |= not r["ok"]
                    op_thr = f"{r['op']} {r['threshold']:.4g}"
                if not vals:
                    per_seed.append("missing")
                    continue
                worst = min(vals, key=lambda r: r["margin"])
                differs = len({round(r["value"], 12) for r in vals}) > 1
                per_seed.append(f"{worst['value']:.4g}{'*' if differs else ''}")
            failures += bad
            rows.append([chapter, name, *per_seed, op_thr,
                         f"{min(margins):.3g}" if margins else "-", "FAIL" if bad else "ok"])
        for (s, t), err in sorted(errors.items()):
            failures += 1
            rows.append([chapter, f"(run error, seed {s}, {t} thread(s))", *[""] * len(seeds), "", "",
                         f"FAIL: {err}"])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines), failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chapters", nargs="*", help="substrings of notebook names (default: all of book/)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--jobs", type=int, default=1, help="notebooks run at once (each with its own threads)")
    ap.add_argument("--no-cache", action="store_true", help="re-execute even when a cached run exists")
    args = ap.parse_args(argv)
    paths = [p for p in sorted((ROOT / "book").glob("*.ipynb"))
             if not args.chapters or any(c in p.name for c in args.chapters)]
    if not paths:
        print(f"no book notebook matches {args.chapters}", file=sys.stderr)
        return 2
    if args.no_cache and CACHE.exists():
        for f in CACHE.glob("*.json"):
            f.unlink()
    lib = _library_hash()
    jobs = [(p, s, t) for p in paths for s in args.seeds for t in args.threads]
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        tqdm = None
    runs = {}
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {job: pool.submit(run_one, job[0], job[1], job[2], lib) for job in jobs}
        it = futures.items()
        bar = tqdm(total=len(futures), desc="notebook runs", file=sys.stderr) if tqdm else None
        for (p, s, t), fut in it:
            runs[p.stem, s, t] = fut.result()
            if bar:
                bar.update()
        if bar:
            bar.close()
    text, failures = table(runs, args.seeds, args.threads)
    print(text)
    n_claims = sum(1 for line in text.splitlines()[2:] if "(run error" not in line)
    print(f"\n{n_claims} claims over {len(paths)} notebooks, seeds {args.seeds}, threads {args.threads}: "
          f"{failures} failing row(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
