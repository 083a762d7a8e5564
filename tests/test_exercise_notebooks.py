"""check() inside the notebooks: the solution passes every item, the released stub passes none.

nbval also runs every notebook; here the *printed feedback* is inspected, item by item.
"""
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from rnncourse.grading.judge.registry import all_exercises

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = [ex.id for ex in all_exercises()]
_VERDICT = re.compile(r"^  => (PASSED|not yet): (\d+)/(\d+) cases", re.M)
_TITLE = re.compile(r"^(\w+) \([\d.]+ points?\):", re.M)


def _run(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    chunks = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                chunks.append(out["text"])
            # a check(...) cell shows its printed report only, never the returned object's repr
            assert "CheckResult" not in str(out.get("data", {}).get("text/plain", "")), path.name
    return "".join(chunks)


def _verdicts(text: str) -> dict:
    titles = _TITLE.findall(text)
    verdicts = _VERDICT.findall(text)
    assert len(titles) == len(verdicts), text
    return {name: v[0] for name, v in zip(titles, verdicts)}


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_solution_passes_every_item(exercise_id):
    ex = next(e for e in all_exercises() if e.id == exercise_id)
    verdicts = _verdicts(_run(ROOT / "solutions" / f"{exercise_id}.ipynb"))
    assert verdicts == {item.name: "PASSED" for item in ex.items}


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_released_stub_runs_and_fails_every_item(exercise_id):
    ex = next(e for e in all_exercises() if e.id == exercise_id)
    verdicts = _verdicts(_run(ROOT / "exercises" / f"{exercise_id}.ipynb"))
    assert verdicts == {item.name: "not yet" for item in ex.items}
