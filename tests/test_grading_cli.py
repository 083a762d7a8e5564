"""``rnncourse grade`` and ``rnncourse gradescope-bundle``: the command-line contract."""
from __future__ import annotations

import csv
import json
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fixtures.grading_nb import STUB, solution_cells, write

from rnncourse.cli import main
from rnncourse.grading.judge.bundle import main as gradescope_main
from rnncourse.grading.judge.bundle import requirements
from rnncourse.grading.judge.cases import build_plan
from rnncourse.grading.judge.registry import get_exercise

ROOT = Path(__file__).resolve().parents[1]
SEED = 987654321
FAST = ["--cell-timeout", "5", "--case-timeout", "2", "--timeout", "60", "--memory-mb", "2048",
        "--seed", str(SEED), "--quiet"]
# Gradescope's results.json, exactly: no top-level max_score, a visibility on every test
TOP = {"score", "execution_time", "output", "tests", "extra_data"}
TEST = {"name", "score", "max_score", "status", "output", "visibility"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One batch: a correct solution, a stub, a broken file, two files with the same stem."""
    root = tmp_path_factory.mktemp("cli")
    subs, out = root / "subs", root / "out"
    write(subs / 'a,"quoted" name.ipynb', solution_cells())
    write(subs / "stub.ipynb", solution_cells(**STUB))
    write(subs / "more" / "stub.ipynb", solution_cells(softmax=STUB["softmax"]))
    (subs / "broken.ipynb").write_text("{not json", encoding="utf-8")
    write(subs / ".ipynb_checkpoints" / "stub-checkpoint.ipynb", solution_cells())
    done = subprocess.run([sys.executable, "-m", "rnncourse", "grade", str(subs), "--out", str(out),
                           "--jobs", "2", *FAST], capture_output=True, text=True, timeout=300)
    return {"code": done.returncode, "out": out, "subs": subs}


def _load(graded, name):
    return json.loads((graded["out"] / name).read_text(encoding="utf-8"))


def test_results_files_follow_gradescope_format(graded):
    assert graded["code"] == 1     # broken.ipynb could not be graded
    names = sorted(p.name for p in graded["out"].iterdir())
    assert names == ['a,"quoted" name.json', "batch.json", "broken.json", "grades.csv",
                     "similarity.csv", "stub-2.json", "stub.json"]
    for name in names:
        if name.endswith(".json") and name != "batch.json":
            data = _load(graded, name)
            assert set(data) == TOP
            assert all(set(t) == TEST and t["status"] in ("passed", "failed") and
                       t["visibility"] == "visible" for t in data["tests"])
            assert data["score"] == sum(t["score"] for t in data["tests"])
            text = (graded["out"] / name).read_text()
            assert str(SEED) not in text and "seed" not in text   # the seed is the instructor's
            assert len(text) < 1024 * 1024
    good = _load(graded, 'a,"quoted" name.json')
    assert (good["score"], good["extra_data"]["max_score"], len(good["tests"])) == (8.0, 8.0, 4)
    assert good["extra_data"]["exercise"] == "01_unfolding"
    batch = _load(graded, "batch.json")
    assert batch["seed"] == SEED and (graded["out"] / "batch.json").stat().st_mode & 0o077 == 0
    # stems clash: the first in (sorted) input order keeps the plain name
    assert _load(graded, "stub.json")["extra_data"]["file"] == "stub.ipynb"
    assert _load(graded, "stub.json")["score"] == 7.0          # more/stub.ipynb
    assert _load(graded, "stub-2.json")["score"] == 0.0        # stub.ipynb


def test_ungradable_file_still_gets_a_results_file(graded):
    data = _load(graded, "broken.json")
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"].startswith("Not graded: this is not a notebook: it is not valid JSON")


def test_csv_gradebook_is_safe_with_commas_and_quotes(graded):
    with open(graded["out"] / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert header[:3] == ["file", "score", "max_score"] and header[-2:] == ["exercise", "status"]
    assert "sequence_loss: Masked softmax cross-entropy summed over time, averaged over the batch" in header
    by_file = {r[0]: r for r in rows[1:]}
    assert by_file['a,"quoted" name.ipynb'][1:3] == ["8", "8"]
    assert by_file["broken.ipynb"][-1].startswith("not graded: ")
    assert len(rows) == 5 and all(len(r) == len(header) for r in rows)
    # two submissions called stub.ipynb: the path and the results file tell them apart
    stubs = {r[header.index("path")]: r for r in rows[1:] if r[0] == "stub.ipynb"}
    assert {Path(p).parent.name for p in stubs} == {"subs", "more"}
    assert {r[header.index("results")] for r in stubs.values()} == {"stub.json", "stub-2.json"}
    assert {r[header.index("results")]: r[1] for r in stubs.values()} == {"stub.json": "7", "stub-2.json": "0"}


def test_summary_table_and_exit_zero_when_all_graded(tmp_path, capsys):
    nb = write(tmp_path / "renamed by student.ipynb", solution_cells())
    assert main(["grade", str(nb), "--out", str(tmp_path / "o"), *FAST[:-1]]) == 0
    out = capsys.readouterr().out
    assert "renamed by student.ipynb" in out and "8/8" in out and "1 of 1 submission(s) graded." in out


def test_same_seed_same_verdict_and_seed_file(tmp_path):
    nb = write(tmp_path / "s.ipynb", solution_cells(rnn_forward=(
        "def rnn_forward(x, h0, Wx, Wh, b):\n    if x.shape[1] > 5:\n        raise ValueError('long')\n"
        "    h = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))\n    prev = h0\n"
        "    for t in range(x.shape[1]):\n        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)\n"
        "        h[:, t] = prev\n    return h, None\n")))
    runs = []
    for k in range(2):
        assert main(["grade", str(nb), "--out", str(tmp_path / f"o{k}"), *FAST]) == 0
        runs.append(json.loads((tmp_path / f"o{k}" / "s.json").read_text())["tests"])
    fast = [a for a in FAST if a not in ("--seed", str(SEED))]
    assert main(["grade", str(nb), "--out", str(tmp_path / "o2"), *fast,
                 "--seed-file", str(tmp_path / "o0" / "batch.json")]) == 0
    runs.append(json.loads((tmp_path / "o2" / "s.json").read_text())["tests"])
    cases = build_plan(get_exercise("01_unfolding"), SEED).cases[2]    # hidden shapes: drawn
    short = sum(c["x"].shape[1] <= 5 for c in cases)
    assert runs[0] == runs[1] == runs[2] and runs[0][2]["score"] == 3.0 * short / 4


def test_exercise_override_grades_a_notebook_without_metadata(tmp_path):
    nb = write(tmp_path / "plain.ipynb", solution_cells(), exercise=None)
    assert main(["grade", str(nb), "--out", str(tmp_path / "a"), *FAST]) == 1
    assert main(["grade", str(nb), "--out", str(tmp_path / "b"), "--exercise", "01_unfolding", *FAST]) == 0
    assert json.loads((tmp_path / "b" / "plain.json").read_text())["score"] == 8.0


@pytest.mark.parametrize("args", [
    ["grade", "{tmp}/missing.ipynb", "--out", "{tmp}/o"],
    ["grade", "{tmp}/empty_dir", "--out", "{tmp}/o"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--jobs", "0"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--cell-timeout", "-1"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--exercise", "nope"],
    ["grade", "{nb}", "--out", "{nb}"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--seed", "1", "--seed-file", "{nb}"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--seed-file", "{tmp}/missing"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--item-visibility", "nope=hidden"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--item-visibility", "softmax"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--isolation", "user", "--seed", "1"],
    ["grade", "{nb}", "--out", "{tmp}/o", "--memory-mb", "300"],
    ["gradescope-bundle", "{tmp}/b", "--exercise", "nope"],
])
def test_usage_errors_exit_2(tmp_path, capsys, args):
    (tmp_path / "empty_dir").mkdir()
    nb = write(tmp_path / "x.ipynb", solution_cells())
    assert main([a.format(tmp=tmp_path, nb=nb) for a in args]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["grade", "x.ipynb"],                                     # --out is required
    ["gradescope-bundle", "dist"],                            # so is the bundle's --exercise
    ["grade", "x.ipynb", "--out", "o", "--visibility", "soon"],
    ["grade", "x.ipynb", "--out", "o", "--isolation", "none"],
])
def test_argparse_errors_exit_2(capsys, args):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2


def test_a_notebook_of_another_exercise_gets_the_assignments_tests_at_zero(tmp_path):
    nb = write(tmp_path / "ex1.ipynb", solution_cells())
    assert main(["grade", str(nb), "--out", str(tmp_path / "o"), "--exercise", "04_lstm",
                 *FAST]) == 1
    data = json.loads((tmp_path / "o" / "ex1.json").read_text())
    lstm = get_exercise("04_lstm")
    assert [t["name"] for t in data["tests"]] == [f"{i.name}: {i.title}" for i in lstm.items]
    assert data["score"] == 0 and data["extra_data"]["max_score"] == lstm.max_score == 9.0
    assert "this notebook is exercise 01_unfolding, but this assignment is 04_lstm" in data["output"]
    assert all("this assignment is 04_lstm" in t["output"] for t in data["tests"])


def test_visibility_options(tmp_path):
    nb = write(tmp_path / "v.ipynb", solution_cells())
    assert main(["grade", str(nb), "--out", str(tmp_path / "o"), "--visibility", "after_due_date",
                 "--item-visibility", "softmax=hidden", *FAST]) == 0
    tests = json.loads((tmp_path / "o" / "v.json").read_text())["tests"]
    assert [t["visibility"] for t in tests] == ["hidden"] + ["after_due_date"] * 3


def test_console_script_grades_every_course_notebook(tmp_path):
    """Every solution earns full marks and every released stub earns nothing, on hidden cases."""
    from rnncourse.grading.judge.registry import all_exercises

    ids = [ex.id for ex in all_exercises()
           if (ROOT / "solutions" / f"{ex.id}.ipynb").exists()
           and (ROOT / "exercises" / f"{ex.id}.ipynb").exists()]
    assert "01_unfolding" in ids
    exe = Path(sys.executable).parent / "rnncourse"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rnncourse"]
    notebooks = [str(ROOT / d / f"{i}.ipynb") for d in ("solutions", "exercises") for i in ids]
    done = subprocess.run([*cmd, "grade", *notebooks, "--out", str(tmp_path), "--jobs", "2",
                           "--cell-timeout", "120", "--seed", "5", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for i in ids:
        solved = json.loads((tmp_path / f"{i}.json").read_text())
        stub = json.loads((tmp_path / f"{i}-2.json").read_text())
        assert solved["score"] == solved["extra_data"]["max_score"] > 0, (i, solved["tests"])
        assert stub["score"] == 0, (i, stub["tests"])


def test_gradescope_bundle(tmp_path, capsys):
    assert main(["gradescope-bundle", str(tmp_path), "--exercise", "01_unfolding",
                 "--visibility", "after_due_date", "--item-visibility", "softmax=hidden"]) == 0
    path = tmp_path / "rnncourse-autograder.zip"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt",
                "rnncourse/grading/judge/grade.py",
                "rnncourse/grading/judge/exercises/ex01_unfolding.py"} <= names
        assert not any("__pycache__" in n for n in names)
        for script in ("setup.sh", "run_autograder"):
            assert stat.S_IMODE(zf.getinfo(script).external_attr >> 16) == 0o755
            text = zf.read(script).decode()
            assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0
        run = zf.read("run_autograder").decode()
        assert "/autograder/submission" in run and "--exercise 01_unfolding" in run
        assert "--isolation bwrap" in run and "--visibility after_due_date" in run
        assert "--item-visibility softmax=hidden" in run
        assert "bubblewrap" in zf.read("setup.sh").decode()
        reqs = zf.read("requirements.txt").decode().split()
    assert reqs == requirements()
    assert any(r.startswith("numpy==") for r in reqs) and any(r.startswith("ipykernel==") for r in reqs)


def test_gradescope_entry_point_grades_the_best_notebook(tmp_path):
    sub = tmp_path / "submission"
    write(sub / "attempt1.ipynb", solution_cells(**STUB))
    write(sub / "nested" / "attempt2.ipynb", solution_cells(softmax=STUB["softmax"]))
    results = tmp_path / "results" / "results.json"
    assert gradescope_main(["--submission", str(sub), "--results", str(results), "--seed",
                            str(SEED), "--exercise", "01_unfolding"]) == 0
    data = json.loads(results.read_text())
    assert set(data) == TOP and data["score"] == 7.0 and str(SEED) not in results.read_text()
    assert data["output"].startswith("2 notebooks were submitted")
    shutil.rmtree(sub)
    sub.mkdir()
    gradescope_main(["--submission", str(sub), "--results", str(results), "--exercise", "01_unfolding"])
    data = json.loads(results.read_text())
    assert "No .ipynb notebook was found" in data["output"] and len(data["tests"]) == 4
    write(sub / "other.ipynb", solution_cells())
    gradescope_main(["--submission", str(sub), "--results", str(results), "--exercise", "02_bptt"])
    data = json.loads(results.read_text())
    bptt = get_exercise("02_bptt")
    assert [t["name"] for t in data["tests"]] == [f"{i.name}: {i.title}" for i in bptt.items]
    assert data["score"] == 0 and "this assignment is 02_bptt" in data["output"]
