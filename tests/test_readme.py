"""What the README (and the landing page) tells a new user to run exists: make targets and venv commands."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "book" / "index.md"]
BIN = Path(sys.executable).parent          # the venv the tests run in: .venv/bin under make test


def _commands(pattern: str) -> set[str]:
    found = set()
    for doc in DOCS:
        found |= set(re.findall(pattern, doc.read_text(encoding="utf-8")))
    return found


def test_make_targets_named_in_the_docs_exist():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = _commands(r"\bmake ([a-z][\w-]*)")
    assert {"book", "test"} <= named
    assert named <= targets, f"the docs name make targets that do not exist: {named - targets}"


def test_venv_commands_named_in_the_docs_exist():
    named = _commands(r"\.venv/bin/([\w.-]+)")
    assert {"jupyter", "rnncourse"} <= named
    missing = sorted(n for n in named if not (BIN / n).exists())
    assert not missing, f"the docs name commands the venv lacks: {missing}"


@pytest.mark.parametrize("sub", sorted(_commands(r"\.venv/bin/jupyter (\w+)")))
def test_jupyter_subcommands_named_in_the_docs_exist(sub):
    # `jupyter lab` needs the jupyter-lab entry point; `--version` does not start a server
    assert (BIN / f"jupyter-{sub}").exists(), f"`jupyter {sub}` is not installed in the venv"
    out = subprocess.run([str(BIN / f"jupyter-{sub}"), "--version"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
