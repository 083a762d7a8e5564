"""Japanese exercise notebooks (issue 14 item 5): exercises/ja/ is what `rnncourse release --lang ja`
makes from solutions/ and the catalogues locales/ja/exercises/*.po; every Japanese notebook's
catalogue is complete; check() and the grader speak Japanese for a Japanese notebook and grade it
exactly as the English one."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from babel.messages.pofile import read_po, write_po

from rnncourse.cli import main
from rnncourse.grading import messages
from rnncourse.grading.messages import LANG_CELL, TABLE, translate
from rnncourse.grading.release import (ReleaseError, catalogue_problems, release_dir_lang,
                                       release_notebook, translate_notebook, update_catalogue)

ROOT = Path(__file__).resolve().parents[1]
CATS = ROOT / "locales" / "ja" / "exercises"
JA = ROOT / "exercises" / "ja"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
JA_NOTEBOOKS = sorted(JA.glob("*.ipynb"))


def test_exercises_ja_are_what_release_makes():
    changed, _, errors = release_dir_lang(ROOT / "solutions", JA, CATS, "ja", check=True)
    assert errors == [], "\n".join(errors)
    assert changed == [], f"run `rnncourse release solutions exercises --lang ja`: {changed}"
    assert {p.stem for p in JA_NOTEBOOKS} == {p.stem for p in CATS.glob("*.po")}
    assert {"04_lstm", "13_transformer"} <= {p.stem for p in JA_NOTEBOOKS}


def test_cli_lang_check_mode(tmp_path):
    assert main(["release", str(ROOT / "solutions"), str(ROOT / "exercises"), "--lang", "ja",
                 "--check"]) == 0
    assert main(["release", str(ROOT / "solutions"), str(tmp_path), "--lang", "ja", "--check"]) == 1
    assert main(["release", str(ROOT / "solutions"), str(tmp_path), "--lang", "ja"]) == 0
    assert sorted(p.name for p in (tmp_path / "ja").iterdir()) == [p.name for p in JA_NOTEBOOKS]


@pytest.mark.parametrize("path", JA_NOTEBOOKS, ids=lambda p: p.stem)
def test_japanese_notebook_is_complete_and_same_exercise(path):
    sol = nbformat.read(ROOT / "solutions" / path.name, as_version=4)
    assert catalogue_problems(sol, CATS / f"{path.stem}.po") == []
    ja = nbformat.read(path, as_version=4)
    en = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    assert ja.metadata["rnncourse"] == {**en.metadata["rnncourse"], "lang": "ja"}
    code_ja = [c.source for c in ja.cells if c.cell_type == "code"]
    code_en = [c.source for c in en.cells if c.cell_type == "code"]
    assert code_ja[0] == LANG_CELL["ja"]
    assert [s.replace("ここにコードを書くこと", "your code goes here") for s in code_ja[1:]] == code_en
    md_ja = [c.source for c in ja.cells if c.cell_type == "markdown"]
    md_en = [c.source for c in en.cells if c.cell_type == "markdown"]
    assert len(md_ja) == len(md_en) and all(JAPANESE.search(s) for s in md_ja)
    assert md_ja != md_en


def _read(po):
    with Path(po).open("rb") as fh:
        return read_po(fh)


def _copy_po(tmp_path, name="04_lstm"):
    po = tmp_path / f"{name}.po"
    shutil.copy(CATS / f"{name}.po", po)
    return po


def _edit(po, fn):
    cat = _read(po)
    fn([m for m in cat if m.id])
    with po.open("wb") as fh:
        write_po(fh, cat, width=76)


def test_partial_catalogue_is_refused_with_what_is_missing(tmp_path):
    sol = nbformat.read(ROOT / "solutions" / "04_lstm.ipynb", as_version=4)
    po = _copy_po(tmp_path)
    _edit(po, lambda ms: setattr(ms[1], "string", ""))
    with pytest.raises(ReleaseError, match=r"not complete.*\n.*cell 3 untranslated: '## 4.1"):
        translate_notebook(sol, po, "ja", "04")
    po = _copy_po(tmp_path)
    _edit(po, lambda ms: ms[-1].flags.add("fuzzy"))
    with pytest.raises(ReleaseError, match=r"hint fuzzy"):
        translate_notebook(sol, po, "ja", "04")
    po.unlink()
    with pytest.raises(ReleaseError, match="no catalogue"):
        translate_notebook(sol, po, "ja", "04")


def test_cli_refuses_partial_catalogue(tmp_path, capsys):
    cats = tmp_path / "cats"
    cats.mkdir()
    po = _copy_po(cats)
    _edit(po, lambda ms: setattr(ms[0], "string", ""))
    out = tmp_path / "ex"
    assert main(["release", str(ROOT / "solutions"), str(out), "--lang", "ja",
                 "--catalogues", str(cats)]) == 1
    assert "cell 1 untranslated: '# Exercise 4" in capsys.readouterr().err
    assert not (out / "ja" / "04_lstm.ipynb").exists()


def test_update_po_keeps_translations_and_marks_changes_fuzzy(tmp_path):
    sol = nbformat.read(ROOT / "solutions" / "04_lstm.ipynb", as_version=4)
    po = _copy_po(tmp_path)
    assert update_catalogue(sol, po, "ja") is False or catalogue_problems(sol, po) == []
    assert catalogue_problems(sol, po) == []
    changed = nbformat.read(ROOT / "solutions" / "04_lstm.ipynb", as_version=4)
    md = [c for c in changed.cells if c.cell_type == "markdown"]
    md[1].source = md[1].source.replace("(2 points)", "(2 points, forward)")
    assert update_catalogue(changed, po, "ja") is True
    problems = catalogue_problems(changed, po)
    assert len(problems) == 1 and "fuzzy" in problems[0] and "4.1" in problems[0]
    cat = _read(po)
    fuzzy = [m for m in cat if m.id and m.fuzzy]
    assert len(fuzzy) == 1 and fuzzy[0].string.startswith("## 4.1 LSTM")   # old text kept
    new = tmp_path / "new.po"
    update_catalogue(sol, new, "ja")
    assert len(catalogue_problems(sol, new)) == len([m for m in _read(new) if m.id])


def test_release_stub_message_in_japanese():
    sol = nbformat.read(ROOT / "solutions" / "04_lstm.ipynb", as_version=4)
    src = "\n".join(c.source for c in release_notebook(sol, lang="ja").cells if c.cell_type == "code")
    assert 'raise NotImplementedError("lstm_step_forward: ここにコードを書くこと")' in src


# --- messages -----------------------------------------------------------------------------------

def test_every_table_entry_is_japanese():
    for pattern, ja in TABLE:
        re.compile(pattern)
        assert JAPANESE.search(ja) or ja == r"check: ", pattern


@pytest.mark.parametrize("english, japanese", [
    ("  => PASSED: 5/5 cases, 2/2 points", "  => 合格: 5/5 ケース、2/2 点"),
    ("  case 2 [x (3, 4)]: FAIL - next_h: wrong shape: expected (3, 5), got (5, 3)",
     "  ケース 2 [x (3, 4)]: 不合格 - next_h: 形状が違う: 期待値 (3, 5)、実際 (5, 3)"),
    ("  cases 1, 3: fix f first: g is run on what your f returns, and your f is wrong on this case",
     "  ケース 1, 3: 先に f を直すこと: g はあなたの f の返り値の上で実行されるが、"
     "このケースではその f が誤っている"),
    ("  case 1: took longer than 2 s", "  ケース 1: 2 秒を超えた（時間切れ）"),
    ("0 points: this item must not use torch.", "0 点: この項目では torch を使ってはならない。"),
    ("3/5 hidden cases passed.", "非公開のテストケース 5 個中 3 個に合格した。"),
    ("Hint: unknown hint", "ヒント: unknown hint"),
])
def test_translate_lines(english, japanese):
    assert translate(english, "ja", "04_lstm") == japanese
    assert translate(english, "en", "04_lstm") == english


def test_check_speaks_the_notebook_language(monkeypatch, capsys):
    from rnncourse.grading.check import check
    from rnncourse.layers.lstm import lstm_step_forward

    def stub(*args):
        raise NotImplementedError("lstm_step_forward: ここにコードを書くこと")

    monkeypatch.setenv(messages.ENV_VAR, "ja")
    good = check("04_lstm.lstm_step_forward", lstm_step_forward)
    bad = check("04_lstm.lstm_step_forward", stub)
    out = capsys.readouterr().out
    assert good.ok and not bad.ok and bad.points == 0
    assert "lstm_step_forward（2 点）: LSTM の 1 ステップ" in out
    assert "=> 合格: " in out and "=> 未完成: 0/" in out and "ヒント: a = x @ Wx" in out
    assert not re.search(r"\b(PASSED|not yet|FAIL|hint:|case \d)", out)
    monkeypatch.setenv(messages.ENV_VAR, "en")
    en = check("04_lstm.lstm_step_forward", lstm_step_forward)
    assert not JAPANESE.search(capsys.readouterr().out)
    assert (en.passed, en.total, en.points) == (good.passed, good.total, good.points)


# --- the grader: the same points, Japanese words -------------------------------------------------

def _japanese_solution(name: str, path: Path) -> None:
    """The solution's code in the Japanese notebook's text and metadata."""
    sol = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    table = {m.id: m.string for m in _read(CATS / f"{name}.po")
             if m.id and not m.context}
    for c in sol.cells:
        if c.cell_type == "markdown" and c.source in table:
            c.source = table[c.source]
    first = next(i for i, c in enumerate(sol.cells) if c.cell_type == "code")
    sol.cells.insert(first, nbformat.v4.new_code_cell(LANG_CELL["ja"]))
    sol.metadata["rnncourse"]["lang"] = "ja"
    nbformat.write(sol, path)


def test_grader_grades_japanese_as_english_and_says_it_in_japanese(tmp_path):
    name = "04_lstm"
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    _japanese_solution(name, subs / "ja_solution.ipynb")
    shutil.copy(JA / f"{name}.ipynb", subs / "ja_stub.ipynb")
    shutil.copy(ROOT / "solutions" / f"{name}.ipynb", subs / "en_solution.ipynb")
    shutil.copy(ROOT / "exercises" / f"{name}.ipynb", subs / "en_stub.ipynb")
    done = subprocess.run([sys.executable, "-m", "rnncourse", "grade", str(subs), "--out", str(out),
                           "--seed", "12345", "--quiet", "--case-timeout", "5"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    r = {p: json.loads((out / f"{p}.json").read_text(encoding="utf-8"))
         for p in ("ja_solution", "ja_stub", "en_solution", "en_stub")}
    assert r["ja_solution"]["score"] == r["en_solution"]["score"] == 9
    assert r["ja_stub"]["score"] == r["en_stub"]["score"] == 0
    for lang in ("solution", "stub"):
        ja, en = r[f"ja_{lang}"], r[f"en_{lang}"]
        assert [(t["name"], t["score"], t["status"]) for t in ja["tests"]] == \
               [(t["name"], t["score"], t["status"]) for t in en["tests"]]
        assert ja["output"].startswith("演習 04_lstm（長・短期記憶（LSTM））")
        assert all(JAPANESE.search(t["output"]) for t in ja["tests"])
        assert not JAPANESE.search(en["output"] + "".join(t["output"] for t in en["tests"]))
    stub_out = r["ja_stub"]["tests"][0]["output"]
    assert "未実装（NotImplementedError: lstm_step_forward: ここにコードを書くこと）" in stub_out
    assert "ヒント: " in stub_out and "Hint:" not in stub_out


_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)


def _markup(text: str):
    """(fenced code blocks, verbatim; the markup spans of the rest, as test_i18n_markup counts them).
    A cell message holds whole code blocks, which test_i18n_markup (made for Sphinx's messages, where
    code blocks are not messages) would pair with the inline code after them."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_i18n_markup import protected_spans

    return _FENCE.findall(text), protected_spans(_FENCE.sub(" ", text))


def test_markup_check_sees_a_changed_code_block_or_formula():
    en = "Hint:\n\n```python\nx = 1\n```\n\nthen `h[:, -1]` and $a$."
    assert _markup("ヒント:\n\n```python\nx = 1\n```\n\nそれから `h[:, -1]` と $a$。") == _markup(en)
    assert _markup("ヒント:\n\n```python\nx = 2\n```\n\nそれから `h[:, -1]` と $a$。") != _markup(en)
    assert _markup("ヒント:\n\n```python\nx = 1\n```\n\nそれから `h[:, -1]` と $b$。") != _markup(en)


@pytest.mark.parametrize("po", sorted(CATS.glob("*.po")), ids=lambda p: p.stem)
def test_exercise_catalogue_keeps_the_english_markup(po):
    bad = [m.id[:60] for m in _read(po) if m.id and m.string and _markup(m.id) != _markup(m.string)]
    assert bad == []
