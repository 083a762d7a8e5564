"""Time every notebook of book/, solutions/ and exercises/ (target: each under 30 s on 2 cores).

Usage: python benchmarks/notebooks.py [PATTERN ...]   e.g.  python benchmarks/notebooks.py 04_lstm
Prints a table: notebook, wall seconds, CPU seconds of the kernel, status. Not a test.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 30.0


def run(path: Path) -> tuple[float, float, str]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    cpu = 0.0
    status = "ok"
    with client.setup_kernel():
        proc = psutil.Process(client.km.provisioner.process.pid)
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        except Exception as exc:  # noqa: BLE001 - report, keep timing the others
            status = f"error: {type(exc).__name__}"
        times = proc.cpu_times()
        cpu = times.user + times.system + times.children_user + times.children_system
    return time.perf_counter() - start, cpu, status


def main(patterns: list[str]) -> int:
    paths = [p for folder in ("book", "solutions", "exercises")
             for p in sorted((ROOT / folder).glob("*.ipynb"))
             if not patterns or any(pat in str(p) for pat in patterns)]
    print(f"{'notebook':45s} {'wall s':>8s} {'cpu s':>8s}  status")
    slow = 0
    for p in paths:
        wall, cpu, status = run(p)
        flag = "" if wall < TARGET_S else f"  (over {TARGET_S:.0f} s)"
        slow += wall >= TARGET_S
        print(f"{str(p.relative_to(ROOT)):45s} {wall:8.1f} {cpu:8.1f}  {status}{flag}", flush=True)
    print(f"\n{len(paths)} notebooks, {slow} over the {TARGET_S:.0f} s target")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
