"""The E資格 question bank, the glossary, the book rendering and the `rnncourse quiz` command."""
import importlib
import io
import json
import re
from pathlib import Path

import pytest

from rnncourse.cli import main
from rnncourse.quiz.bank import BankError, load_bank, load_glossary
from rnncourse.quiz.book import book_labels
from rnncourse.quiz.cli import run_quiz
from rnncourse.quiz.render import glossary_markdown, questions_markdown

ROOT = Path(__file__).resolve().parents[1]
BANK = load_bank()
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def test_every_chapter_has_ten_questions_in_both_languages():
    for chapter in CHAPTERS:
        qs = [q for q in BANK if q.chapter == chapter]
        assert len(qs) >= 10, f"{chapter}: {len(qs)} questions"
        assert {q.kind for q in qs} >= {"choice", "numeric"} or {q.kind for q in qs} >= {"choice", "code"}
    assert {q.chapter for q in BANK} <= set(CHAPTERS), "questions for a chapter the book lacks"


def test_links_point_to_sections_of_the_book():
    labels = book_labels(ROOT / "book")
    for q in BANK:
        assert q.ref in labels, f"{q.id}: no section labelled {q.ref!r}"
    for e in load_glossary():
        assert e["ref"] in labels, f"glossary {e['en']!r}: no section labelled {e['ref']!r}"


def test_numeric_answers_are_recomputed_from_rnncourse():
    computed = [q for q in BANK if q.compute]
    assert computed, "no numeric answer is checked against the library"
    for q in computed:
        module, _, name = q.compute["fn"].rpartition(".")
        assert module.startswith("rnncourse"), q.id
        fn = getattr(importlib.import_module(module), name)
        value = fn(**q.compute.get("kwargs", {}))
        assert abs(value - q.answer) <= q.tolerance, f"{q.id}: bank says {q.answer}, library {value}"


def test_one_correct_answer_and_explanations_in_both_languages():
    for q in BANK:
        assert q.is_correct(q.answer)
        if q.kind != "numeric":
            n = len(q.choices_in("en"))
            assert sum(q.is_correct(k) for k in range(n)) == 1, q.id
        for lang in ("en", "ja"):
            assert q.text[lang]["explanation"].strip()
        # the Japanese text is Japanese
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", q.text["ja"]["question"]), q.id


def test_glossary_is_bilingual_and_unique():
    entries = load_glossary()
    assert len(entries) >= 10
    names = [e["en"].lower() for e in entries]
    assert len(names) == len(set(names))
    for e in entries:
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", e["ja"]), e["en"]


def test_schema_errors_are_reported(tmp_path):
    good = json.loads((ROOT / "rnncourse/quiz/bank/01_unfolding.json").read_text(encoding="utf-8"))
    bad = json.loads(json.dumps(good))
    bad["questions"][1]["answer"] = 7
    (tmp_path / "01_unfolding.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(BankError, match="answer must be the index of exactly one choice"):
        load_bank(bank_dir=tmp_path)
    bad = json.loads(json.dumps(good))
    del bad["questions"][0]["ja"]
    (tmp_path / "01_unfolding.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(BankError, match="missing the 'ja' text"):
        load_bank(bank_dir=tmp_path)


def _answers(correct: bool):
    out = {}
    for q in load_bank(["01"]):
        if q.kind == "numeric":
            out[q.id] = q.answer if correct else q.answer + 1000
        else:
            out[q.id] = "abcdefghij"[q.answer if correct else (q.answer + 1) % len(q.choices_in("en"))]
    return out


@pytest.mark.parametrize("correct", [True, False])
def test_quiz_scores_an_answers_file(tmp_path, correct):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(_answers(correct)), encoding="utf-8")
    out = tmp_path / "results.json"
    assert main(["quiz", "--chapters", "01", "--n", "50", "--seed", "1", "--answers", str(answers),
                 "--out", str(out)]) == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["total"] == len(load_bank(["01"]))
    assert res["score"] == (res["total"] if correct else 0)


def test_quiz_interactive_session_in_japanese(tmp_path):
    # questions and choices are shuffled, so answer from what is shown: find the correct letter
    first = run_quiz(["01"], n=3, lang="ja", seed=5, answers=None, out_path=tmp_path / "probe.json",
                     inp=io.StringIO("q\n"), out=io.StringIO())
    assert first["total"] == 3 and first["score"] == 0
    screen = io.StringIO()
    res = run_quiz(["01"], n=3, lang="ja", seed=5, answers=None, out_path=tmp_path / "r.json",
                   inp=io.StringIO("zz\na\nb\nc\n"), out=screen)
    text = screen.getvalue()
    assert "無効な解答です" in text and "得点:" in text and "参照" in text
    assert [q["id"] for q in res["questions"]] == [q["id"] for q in first["questions"]]


def test_quiz_usage_errors(tmp_path, capsys):
    assert main(["quiz", "--chapters", "99", "--answers", str(tmp_path / "a.json")]) == 2
    assert main(["quiz", "--n", "0"]) == 2
    (tmp_path / "a.json").write_text("[1, 2]", encoding="utf-8")
    assert main(["quiz", "--answers", str(tmp_path / "a.json"), "--out", str(tmp_path / "r.json")]) == 2
    assert "error" in capsys.readouterr().err


def test_rendered_markdown_folds_every_answer():
    qs = load_bank(["01"])
    text = questions_markdown(qs, "both")
    assert text.count(":class: dropdown") == 2 * len(qs)
    assert text.count("{ref}`") == 2 * len(qs)
    assert glossary_markdown(load_glossary()).count("{ref}`") == len(load_glossary())


def test_rendered_answers_are_inside_the_fold():
    # a dropdown admonition shows its title when folded, so the title must not give the answer away
    for q in load_bank(["01", "04"]):
        md = questions_markdown([q], lang="both")
        titles = [line for line in md.splitlines() if line.startswith(":::{admonition}")]
        assert titles == [":::{admonition} Answer", ":::{admonition} 解答"], titles
        answer = f"({'abcdefghij'[int(q.answer)]})" if q.kind != "numeric" else f"{q.answer:g}"
        body = md.split(":::{admonition} Answer")[1].split(":::")[0]
        assert f"**{answer}**" in body and ":class: dropdown" in body
