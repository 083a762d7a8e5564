"""The student kit: an allow-list per exercise that never holds a reference; iterative cleanup."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rnncourse.grading.judge.cleanup import remove_tree, sweep_owned
from rnncourse.grading.judge.kit import KitError, build_kit, distributions, kit_modules
from rnncourse.grading.judge.registry import Exercise, all_exercises

EXERCISES = all_exercises()


def _reference_modules(ex) -> set:
    found = set()
    for item in ex.items:
        for fn in item.reference().values():
            target = getattr(fn, "__wrapped__", fn)
            found.add(getattr(target, "__module__", ""))
            for cell in getattr(target, "__closure__", None) or ():   # wrappers of references
                inner = cell.cell_contents
                if callable(inner) and getattr(inner, "__module__", "").startswith("rnncourse"):
                    found.add(inner.__module__)
    return {m for m in found if m.startswith("rnncourse") and ".grading." not in m}


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.id for e in EXERCISES])
def test_no_kit_holds_a_reference_of_its_exercise(ex):
    kit = set(kit_modules(ex))
    refs = _reference_modules(ex)
    assert refs                                    # the exercise does use the library's code ...
    for module in refs:
        assert module not in kit, module           # ... and its sandbox does not hold it
    assert not any(m.startswith("rnncourse.grading.judge") for m in kit)
    assert {"rnncourse.grading.sandbox.kit_check", "rnncourse.gradcheck"} <= kit


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_kit_builds_and_imports_on_its_own(ex, tmp_path):
    kit = build_kit(ex, tmp_path)
    files = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert "rnncourse/grading/visible.json" in files and not any("judge" in f for f in files)
    code = ("import sys; sys.path[:0] = [sys.argv[1]]\nimport importlib\n"
            f"for m in {kit.modules!r}:\n    importlib.import_module(m)\n"
            "from rnncourse.grading import check\nimport rnncourse\nprint(rnncourse.__file__)")
    done = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(tmp_path))


def test_third_party_packages_are_an_allow_list_too():
    names = distributions()
    assert {"numpy", "ipython", "matplotlib", "tqdm"} <= set(names)
    assert not {"torch", "scipy", "rnncourse", "jupyter-book"} & set(names)


def test_an_allow_list_that_does_not_hold_together_is_refused(tmp_path):
    broken = Exercise("99_x", "x", "x", items=EXERCISES[0].items,
                      kit=("rnncourse.layers.rnn",))      # rnn.py needs _checks and _common
    with pytest.raises(KitError, match="rnncourse.layers.rnn imports"):
        build_kit(broken, tmp_path)


def test_remove_tree_is_iterative_and_never_follows_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    victim = tmp_path / "victim"
    victim.mkdir()
    here = os.getcwd()
    try:
        os.chdir(victim)
        for _ in range(1500):                     # deeper than the recursion limit
            os.mkdir("d")
            os.chdir("d")
        os.symlink(outside, "link")
        os.mkfifo("fifo")
        os.chmod(".", 0o500)                      # read-only folders are emptied too
    finally:
        os.chdir(here)
    assert remove_tree(victim) == 0 and not victim.exists()
    assert (outside / "keep").read_text() == "x"
    assert remove_tree(tmp_path / "missing") == 0


def test_sweep_removes_only_what_the_uid_owns(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "f").write_text("x")
    (tmp_path / "theirs").write_text("y")
    if os.geteuid() == 0:
        os.chown(tmp_path / "theirs", 12345, 12345)
        assert sweep_owned([tmp_path], os.geteuid()) == 0
        assert not (tmp_path / "mine").exists() and (tmp_path / "theirs").exists()
