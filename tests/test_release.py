"""solutions/ is the single source: exercises/ must be exactly what `rnncourse release` makes."""
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from rnncourse.cli import main
from rnncourse.grading.judge.registry import all_exercises
from rnncourse.grading.release import ReleaseError, release_dir, release_notebook

ROOT = Path(__file__).resolve().parents[1]


def test_exercises_are_what_release_makes():
    stale = release_dir(ROOT / "solutions", ROOT / "exercises", check=True)
    assert stale == [], f"run `rnncourse release solutions exercises`: {stale}"


def test_cli_check_mode(tmp_path, capsys):
    assert main(["release", str(ROOT / "solutions"), str(ROOT / "exercises"), "--check"]) == 0
    # an empty target is out of date
    assert main(["release", str(ROOT / "solutions"), str(tmp_path), "--check"]) == 1
    assert list(tmp_path.iterdir()) == []          # --check writes nothing
    assert main(["release", str(ROOT / "solutions"), str(tmp_path)]) == 0
    assert main(["release", str(ROOT / "solutions"), str(tmp_path), "--check"]) == 0
    assert main(["release", str(tmp_path / "missing"), str(tmp_path)]) == 2


def test_every_exercise_has_one_solution_notebook():
    ids = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        ids[nb.metadata["rnncourse"]["exercise"]] = path.name
    assert set(ids) == {ex.id for ex in all_exercises()}
    for ex_id, name in ids.items():
        assert name == f"{ex_id}.ipynb"


@pytest.mark.parametrize("folder", ["book", "solutions", "exercises"])
def test_notebooks_are_committed_without_outputs(folder):
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


def _nb(*cells, exercise="99_test"):
    nb = new_notebook(cells=list(cells))
    if exercise:
        nb.metadata["rnncourse"] = {"exercise": exercise}
    return nb


def test_release_replaces_regions_keeps_the_rest():
    src = (
        "def f(x):\n"
        "    '''doc'''\n"
        "    ### BEGIN SOLUTION hint: double it\n"
        "    y = 2 * x\n"
        "    ### END SOLUTION\n"
        "    return y\n"
    )
    nb = _nb(
        new_code_cell(src),
        new_markdown_cell("Why? <!-- BEGIN SOLUTION -->Because.<!-- END SOLUTION --> Done."),
        new_code_cell("assert f(1) == 2", metadata={"tags": ["solution-only"]}),
    )
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="x")]
    nb.cells[0].execution_count = 3
    out = release_notebook(nb)
    assert len(out.cells) == 2
    code = out.cells[0].source
    assert "y = 2 * x" not in code
    assert "    # Hint: double it\n    # YOUR CODE HERE\n" in code
    assert '    raise NotImplementedError("f: your code goes here")' in code
    assert code.endswith("    return y\n")
    compile(code, "<stub>", "exec")
    assert out.cells[0].outputs == [] and out.cells[0].execution_count is None
    assert out.cells[1].source == "Why? *Your answer here.* Done."
    assert out.metadata["rnncourse"] == {"exercise": "99_test", "role": "exercise"}
    # the input notebook is untouched
    assert "y = 2 * x" in nb.cells[0].source and len(nb.cells) == 3


def test_top_level_region_and_stub_raises():
    nb = _nb(new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"))
    code = release_notebook(nb).cells[0].source
    with pytest.raises(NotImplementedError, match="this cell"):
        exec(compile(code, "<stub>", "exec"), {})


@pytest.mark.parametrize("source, match", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a matching BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
])
def test_malformed_regions_are_reported_with_the_cell(source, match):
    with pytest.raises(ReleaseError, match=match) as info:
        release_notebook(_nb(new_code_cell(source)), where="nb.ipynb")
    assert "nb.ipynb, cell 1" in str(info.value)


def test_missing_exercise_id_is_an_error():
    with pytest.raises(ReleaseError, match="metadata.rnncourse.exercise"):
        release_notebook(_nb(new_code_cell("x = 1"), exercise=None))


def test_release_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    release_dir(ROOT / "solutions", a)
    release_dir(ROOT / "solutions", b)
    for pa in a.glob("*.ipynb"):
        assert pa.read_bytes() == (b / pa.name).read_bytes()
