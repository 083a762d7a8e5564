"""`rnncourse quiz` as a candidate uses it: answers files, the mock exam and its clock, reviews of
missed questions, full-width input, pipes that close early, reports that name the sections.

Deterministic: the clock and the input are injected, seeds are fixed."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnncourse.quiz.bank import BankError, filter_syllabus, load_bank
from rnncourse.quiz.cli import missed_ids, run_quiz
from rnncourse.quiz.session import (ExamItem, make_exam, make_mock, mock_quotas, parse_answer,
                                    score_by_item, weak_items)
from rnncourse.quiz.syllabus import MOCK_MINUTES, MOCK_SIZE, SYLLABUS
from rnncourse.quiz.texmath import TexError, plain, to_unicode

ROOT = Path(__file__).resolve().parents[1]
BANK = load_bank()
BY_ID = {q.id: q for q in BANK}


class Clock:
    """Seconds since the start, moved by the fake candidate."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


class Typing(io.StringIO):
    """Answers that each take ``seconds`` of the candidate's time."""

    def __init__(self, text, clock, seconds):
        super().__init__(text)
        self.clock, self.seconds = clock, seconds

    def readline(self, *args):
        self.clock.t += self.seconds
        return super().readline(*args)


def _letter(q, correct=True):
    if q.kind == "numeric":
        return q.answer if correct else q.answer + 1000
    return "abcdefghij"[q.answer if correct else (q.answer + 1) % len(q.choices_in("en"))]


def _shown_letter(item, correct=True):
    """The letter (or number) the candidate must type for ``item`` as it is displayed."""
    q = item.question
    if q.kind == "numeric":
        return str(q.answer if correct else q.answer + 1000)
    pos = item.order.index(int(q.answer))
    return "abcdefghij"[pos if correct else (pos + 1) % len(item.order)]


def _quiet(**kw):
    kw.setdefault("out", io.StringIO())
    kw.setdefault("err", io.StringIO())
    return kw


# -- answers files -------------------------------------------------------------------------------

def test_answers_file_is_scored_by_its_ids_whatever_n_says(tmp_path):
    ids = ["01_unfolding.q03", "04_lstm.q06", "05_gru.q07", "10_attention.q10", "11_word2vec.q03"]
    answers = {i: _letter(BY_ID[i], correct=(k % 2 == 0)) for k, i in enumerate(ids)}
    answers["99_nowhere.q01"] = "a"
    answers["04_lstm.q999"] = "b"
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    err = io.StringIO()
    res = run_quiz(n=5, seed=1, answers=path, out_path=tmp_path / "r.json", **_quiet(err=err))
    assert [q["id"] for q in res["questions"]] == ids          # exactly the file's ids, in its order
    assert res["total"] == 5 and res["score"] == 3
    warning = err.getvalue()
    assert "99_nowhere.q01" in warning and "04_lstm.q999" in warning and "not scored" in warning
    assert "--n ignored" in warning
    saved = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert saved["mode"] == "answers" and saved["score"] == 3


def test_answers_file_without_known_ids_is_an_error(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"nope.q1": "a"}), encoding="utf-8")
    with pytest.raises(BankError, match="none of its ids"):
        run_quiz(answers=path, out_path=tmp_path / "r.json", **_quiet())


def test_answers_file_accepts_full_width_letters(tmp_path):
    q = BY_ID["04_lstm.q06"]
    full = chr(ord("Ａ") + q.answer)                           # Ａ, Ｂ, Ｃ ...
    path = tmp_path / "a.json"
    path.write_text(json.dumps({q.id: full}, ensure_ascii=False), encoding="utf-8")
    res = run_quiz(answers=path, out_path=tmp_path / "r.json", **_quiet())
    assert res["score"] == 1


# -- typed answers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, expected", [
    ("c", 2), ("C", 2), ("Ｃ", 2), ("ｃ", 2), ("(c)", 2), ("（ｃ）", 2), ("c)", 2), (" c ", 2),
    ("e", None), ("cc", None), ("3", None), ("", None),
])
def test_letters_in_any_width(typed, expected):
    item = ExamItem(BY_ID["04_lstm.q06"], [0, 1, 2, 3])
    assert parse_answer(item, typed) == expected


@pytest.mark.parametrize("typed, expected", [
    ("24832", 24832.0), ("２４８３２", 24832.0), ("24,832", 24832.0), ("０．６４", 0.64),
    ("−1.5", -1.5), ("-1.5", -1.5), ("abc", None),
])
def test_numbers_in_any_width(typed, expected):
    numeric = next(q for q in BANK if q.kind == "numeric")
    assert parse_answer(ExamItem(numeric, []), typed) == expected


def test_interactive_full_width_answer_is_accepted(tmp_path):
    exam = make_exam(load_bank(["04"]), 1, 3)                  # what run_quiz(["04"], n=1, seed=3) asks
    q = exam[0].question
    letter = _shown_letter(exam[0])
    if q.kind == "numeric":
        typed = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in letter)
    else:
        typed = chr(ord(letter.upper()) + 0xFEE0)                # "c" -> "Ｃ"
    screen = io.StringIO()
    res = run_quiz(["04"], n=1, seed=3, out_path=tmp_path / "r.json", inp=io.StringIO(typed + "\n"),
                   **_quiet(out=screen))
    assert res["score"] == 1, screen.getvalue()
    assert "not a valid answer" not in screen.getvalue()


# -- the mock exam -----------------------------------------------------------------------------------

def test_mock_quotas_follow_the_weights_and_fill_100():
    quotas = mock_quotas(BANK)
    assert sum(quotas.values()) == MOCK_SIZE
    available = {}
    for q in BANK:
        if q.in_syllabus:
            available[q.syllabus[0]] = available.get(q.syllabus[0], 0) + 1
    for item_id, n in quotas.items():
        assert n <= available.get(item_id, 0)
    # items with enough questions get at least their weight (deficits of others are redistributed)
    for item_id, n in quotas.items():
        if available.get(item_id, 0) >= SYLLABUS[item_id].weight * 2:
            assert n >= SYLLABUS[item_id].weight, item_id


def test_mock_quotas_redistribute_a_missing_item():
    few = [q for q in BANK if q.in_syllabus and q.syllabus[0] != "3-6-1"]
    quotas = mock_quotas(few)
    assert quotas.get("3-6-1", 0) == 0 and sum(quotas.values()) == MOCK_SIZE


def test_mock_draws_about_100_in_syllabus_questions_reproducibly():
    a, b, c = make_mock(BANK, seed=7), make_mock(BANK, seed=7), make_mock(BANK, seed=8)
    ids = [it.question.id for it in a]
    assert ids == [it.question.id for it in b] and ids != [it.question.id for it in c]
    assert MOCK_SIZE <= len(a) <= MOCK_SIZE + 4                 # a scenario may overshoot a quota
    assert len(set(ids)) == len(ids)
    assert all(it.question.in_syllabus for it in a)
    quotas = mock_quotas(BANK)
    for item_id, n in quotas.items():
        drawn = sum(it.question.syllabus[0] == item_id for it in a)
        assert n <= drawn <= n + 4, (item_id, n, drawn)


def test_scenario_sets_are_drawn_together_and_in_order():
    sets = {}
    for q in BANK:
        if q.scenario:
            sets.setdefault((q.chapter, q.scenario), []).append(q.id)
    assert sets and all(len(v) >= 2 for v in sets.values()), "the bank has no shared-scenario sets"
    for seed in range(5):
        for items in (make_mock(BANK, seed), make_exam(BANK, 60, seed)):
            ids = [it.question.id for it in items]
            for members in sets.values():
                present = [i for i in members if i in ids]
                if present:
                    assert present == members, "a scenario set was split"
                    start = ids.index(members[0])
                    assert ids[start:start + len(members)] == members


def test_scenario_text_is_shown_once_before_its_set(tmp_path):
    q0 = next(q for q in BANK if q.scenario)
    tag = list(q0.syllabus[:1])
    items = make_exam(filter_syllabus(BANK, tag), 200, 0)      # what run_quiz(syllabus=tag, n=200, seed=0) asks
    first = next(k for k, it in enumerate(items) if it.question.scenario)
    size = sum(1 for it in items if (it.question.chapter, it.question.scenario)
               == (items[first].question.chapter, items[first].question.scenario))
    screen = io.StringIO()
    answers = "\n".join(_shown_letter(it) for it in items[:first + size]) + "\n"
    run_quiz(seed=0, out_path=tmp_path / "r2.json", syllabus=tag, n=200, inp=io.StringIO(answers),
             **_quiet(out=screen))
    text = screen.getvalue()
    scenario = plain(items[first].question.scenario_text["en"])
    assert text.count(scenario) == 1
    assert text.index(scenario) < text.index(f"[{items[first].question.id}]")


def test_mock_shows_the_clock_and_ends_at_the_limit(tmp_path):
    clock = Clock()
    items = make_mock(BANK, seed=11)
    answers = "\n".join(_shown_letter(it) for it in items) + "\n"
    screen = io.StringIO()
    # 100 seconds per answer against a 5-minute limit: the answers read at 100 and 200 s count, the
    # one read at 300 s (the limit) is too late
    res = run_quiz(mock=True, seed=11, minutes=5, out_path=tmp_path / "m.json", clock=clock,
                   inp=Typing(answers, clock, 100), **_quiet(out=screen))
    text = screen.getvalue()
    assert res["mode"] == "mock" and res["total"] == len(items)
    assert res["answered"] == 2 and res["score"] == 2, res["answered"]
    assert res["timed_out"] and res["time_limit_s"] == 300
    assert "[0:05:00 left]" in text and "[0:03:20 left]" in text
    assert "Time is up (0:05:00)" in text and "not counted" in text


def test_mock_default_limit_is_120_minutes_and_untimed_quizzes_have_none(tmp_path):
    clock = Clock()
    res = run_quiz(mock=True, seed=1, out_path=tmp_path / "m.json", clock=clock,
                   inp=Typing("q\n", clock, 1), **_quiet())
    assert res["time_limit_s"] == MOCK_MINUTES * 60 and not res["timed_out"]
    screen = io.StringIO()
    res = run_quiz(n=2, seed=1, out_path=tmp_path / "q.json", inp=io.StringIO("q\n"), **_quiet(out=screen))
    assert res["time_limit_s"] is None and " left]" not in screen.getvalue()


def test_mock_in_japanese_reports_per_item_scores_and_weak_items(tmp_path):
    clock = Clock()
    items = make_mock(BANK, seed=5)
    # right on every 3-5-2 question, wrong on everything else
    typed = [_shown_letter(it, correct=it.question.syllabus[0] == "3-5-2") for it in items]
    screen = io.StringIO()
    res = run_quiz(mock=True, seed=5, lang="ja", out_path=tmp_path / "m.json", clock=clock,
                   inp=Typing("\n".join(typed) + "\n", clock, 30), **_quiet(out=screen))
    text = screen.getvalue()
    assert not res["timed_out"] and res["answered"] == len(items)
    by = res["by_syllabus"]
    assert by["3-5-2"]["correct"] == by["3-5-2"]["total"] > 0
    assert "3-5-2" not in res["weak"] and "3-6-1" in res["weak"]
    assert "シラバス項目別の得点" in text and "弱点項目" in text and "読み直す箇所" in text
    assert "模擬試験: " in text and "［残り 2:00:00］" in text
    saved = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert saved["by_syllabus"] == by and saved["weak"] == res["weak"]


def test_mock_refuses_chapter_filters():
    with pytest.raises(BankError, match="--mock"):
        run_quiz(mock=True, chapters=["04"], **_quiet())


def test_score_by_item_and_weak_items():
    qa, qb = BY_ID["04_lstm.q06"], BY_ID["10_attention.q10"]
    items = [ExamItem(qa, [0, 1, 2, 3], qa.answer), ExamItem(qb, [0, 1, 2, 3], (qb.answer + 1) % 4)]
    scores = score_by_item(items)
    assert scores == {"3-5-2": {"correct": 1, "total": 1}, "3-6-1": {"correct": 0, "total": 1}}
    assert weak_items(scores) == ["3-6-1"]


# -- review ---------------------------------------------------------------------------------------------

def _results(path, outcomes, when):
    path.write_text(json.dumps({"finished_at": when, "questions": [
        {"id": i, "correct": ok, "given": None, "answer": 0} for i, ok in outcomes.items()]}),
        encoding="utf-8")
    return path


def test_missed_ids_take_the_latest_attempt(tmp_path):
    older = _results(tmp_path / "a.json", {"04_lstm.q06": False, "05_gru.q07": False}, "2026-01-01T10:00:00")
    newer = _results(tmp_path / "b.json", {"04_lstm.q06": True, "10_attention.q10": False}, "2026-01-02T10:00:00")
    from rnncourse.quiz.cli import _load_results
    assert sorted(missed_ids(_load_results([newer, older]))) == ["05_gru.q07", "10_attention.q10"]


def test_review_reasks_exactly_the_missed_questions_and_then_nothing(tmp_path):
    first = tmp_path / "quiz-results-1.json"
    wrong = ["04_lstm.q06", "05_gru.q07", "11_word2vec.q03"]
    _results(first, {**{i: False for i in wrong}, "01_unfolding.q03": True}, "2026-01-01T10:00:00")
    screen = io.StringIO()
    items = make_exam([BY_ID[i] for i in wrong], 3, 4)      # what the review asks, with seed 4
    # the review draws the same three with seed 4: answer them all correctly
    res = run_quiz(review=[first], seed=4, out_path=tmp_path / "quiz-results-2.json",
                   inp=io.StringIO(""), **_quiet(out=screen))
    assert sorted(q["id"] for q in res["questions"]) == wrong and res["mode"] == "review"
    asked = [q["id"] for q in res["questions"]]
    by = {it.question.id: it for it in items}
    typed = "\n".join(_shown_letter(by[i]) for i in asked) + "\n"
    res = run_quiz(review=[first], seed=4, out_path=tmp_path / "quiz-results-2.json",
                   inp=io.StringIO(typed), now=__import__("datetime").datetime(2026, 1, 3), **_quiet())
    assert res["score"] == 3
    screen = io.StringIO()
    res = run_quiz(review=[first, tmp_path / "quiz-results-2.json"], **_quiet(out=screen))
    assert res["total"] == 0 and "Nothing to review" in screen.getvalue()


# -- output: ids, sections, links, Unicode math, closed pipes --------------------------------------------

def test_report_shows_ids_section_titles_and_links(tmp_path):
    q = BY_ID["04_lstm.q06"]
    path = tmp_path / "a.json"
    path.write_text(json.dumps({q.id: "a"}), encoding="utf-8")
    for lang, see in (("en", "chapter 4 “Long short-term memory”, section “The LSTM cell”"),
                      ("ja", "第4章「長・短期記憶（LSTM）」の節「LSTM セル」")):  # the Japanese edition's titles
        screen = io.StringIO()
        run_quiz(answers=path, lang=lang, out_path=tmp_path / "r.json", **_quiet(out=screen))
        text = screen.getvalue()
        assert f"[{q.id}]" in text
        assert see in text and "04_lstm.html#sec-lstm-equations" in text
        assert ("/ja/book/04_lstm.html" in text) == (lang == "ja")   # Japanese links go to the Japanese book
        assert "book/04_lstm," not in text                       # the old "(参照 book/04_lstm, label)"


def test_links_use_the_published_book_when_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNCOURSE_BOOK_URL", "https://example.org/rnn/")
    q = BY_ID["04_lstm.q06"]
    path = tmp_path / "a.json"
    path.write_text(json.dumps({q.id: "a"}), encoding="utf-8")
    screen = io.StringIO()
    run_quiz(answers=path, out_path=tmp_path / "r.json", **_quiet(out=screen))
    assert "https://example.org/rnn/book/04_lstm.html#sec-lstm-equations" in screen.getvalue()


def test_terminal_text_has_no_tex_left():
    for q in BANK:
        for lang in ("en", "ja"):
            t = q.text[lang]
            for s in [t["question"], t["explanation"], *(t.get("choices") or [])]:
                shown = plain(s)
                assert "$" not in shown and "\\" not in shown, (q.id, shown)
                assert "^{" not in shown and "_{" not in shown, (q.id, shown)


@pytest.mark.parametrize("tex, text", [
    (r"v_a^\top \tanh(W_q^\top q + W_k^\top k)", "vₐᵀ tanh(W_qᵀq + Wₖᵀk)"),
    (r"\operatorname{softmax}\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V", "softmax((Q Kᵀ)/√dₖ) V"),
    (r"c^{(t)} = f \odot c^{(t-1)} + i \odot g", "c⁽ᵗ⁾ = f ⊙ c⁽ᵗ⁻¹⁾ + i ⊙ g"),
    (r"\lVert g \rVert > v", "‖g‖ > v"),
    (r"0.95^{99} \approx 0.0062", "0.95⁹⁹ ≈ 0.0062"),
    (r"\mathbb{R}^{T \times d}", "ℝ^(T × d)"),
])
def test_tex_to_unicode(tex, text):
    assert to_unicode(tex) == text


def test_unknown_tex_is_refused():
    with pytest.raises(TexError, match="unknown command"):
        to_unicode(r"\frobnicate x")
    with pytest.raises(TexError, match="unpaired"):
        plain("a $b")


class _Pipe(io.StringIO):
    """A stdout whose reader goes away after ``n`` writes (``... | head``)."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def write(self, s):
        self.n -= 1
        if self.n < 0:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(s)


def test_closed_pipe_loses_neither_the_results_nor_the_quiz(tmp_path):
    ids = [q.id for q in BANK[:8]]
    path = tmp_path / "a.json"
    path.write_text(json.dumps({i: _letter(BY_ID[i]) for i in ids}), encoding="utf-8")
    err = io.StringIO()
    res = run_quiz(answers=path, out_path=tmp_path / "r.json", out=_Pipe(3), err=err)
    assert res["score"] == 8
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["score"] == 8
    assert "results saved to" in err.getvalue()


def test_cli_piped_into_a_closed_reader_exits_cleanly(tmp_path):
    ids = [q.id for q in BANK[:30]]
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({i: _letter(BY_ID[i]) for i in ids}), encoding="utf-8")
    out = tmp_path / "r.json"
    read_end, write_end = os.pipe()
    os.close(read_end)                                        # like `| head` that has already exited
    try:
        proc = subprocess.run([sys.executable, "-m", "rnncourse", "quiz", "--answers", str(answers),
                               "--out", str(out)], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=300, cwd=ROOT)
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["score"] == 30
    assert f"results saved to {out}" in proc.stderr


def test_syllabus_filter(tmp_path):
    res = run_quiz(syllabus=["3-6-1"], n=500, seed=2, out_path=tmp_path / "r.json", inp=io.StringIO(""),
                   **_quiet())
    assert res["total"] == len(filter_syllabus(BANK, ["3-6-1"])) >= 12
    assert all("3-6-1" in q["syllabus"] for q in res["questions"])
    res = run_quiz(syllabus=["3-5"], n=500, seed=2, out_path=tmp_path / "r.json", inp=io.StringIO(""),
                   **_quiet())
    assert {t[:3] for q in res["questions"] for t in q["syllabus"]} >= {"3-5"}
    assert all(any(t.startswith("3-5-") for t in q["syllabus"]) for q in res["questions"])
    with pytest.raises(BankError, match="unknown item"):
        run_quiz(syllabus=["9-9"], **_quiet())


def test_cli_syllabus_option_and_usage_errors(tmp_path):
    from rnncourse.quiz.cli import register
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["quiz", "--syllabus", "3-6-1", "--n", "3", "--seed", "1", "--out",
                              str(tmp_path / "r.json"), "--lang", "ja"])
    assert args.syllabus == ["3-6-1"]
    from rnncourse.cli import UsageError
    for bad in (["quiz", "--minutes", "0"], ["quiz", "--n", "0"], ["quiz", "--syllabus", "7-7"],
                ["quiz", "--mock", "--chapters", "04"], ["quiz", "--mock", "--answers", "a.json"]):
        a = parser.parse_args(bad)
        with pytest.raises(UsageError):
            a.func(a)


class _Interrupting(io.StringIO):
    """The candidate answers once, then presses Ctrl-C."""

    def __init__(self, first):
        super().__init__(first + "\n")
        self.calls = 0

    def readline(self, *args):
        self.calls += 1
        if self.calls > 1:
            raise KeyboardInterrupt
        return super().readline(*args)


def test_ctrl_c_ends_the_quiz_but_keeps_its_results(tmp_path):
    items = make_exam(load_bank(["05"]), 3, 9)
    res = run_quiz(["05"], n=3, seed=9, out_path=tmp_path / "r.json", inp=_Interrupting(_shown_letter(items[0])),
                   **_quiet())
    assert res["answered"] == 1 and res["score"] == 1 and res["total"] == 3
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["answered"] == 1


def test_results_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    from rnncourse.quiz import cli

    target = tmp_path / "r.json"
    target.write_text('{"old": true}', encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(cli.os, "replace", broken_replace)
    with pytest.raises(OSError):
        cli._write_atomically(target, '{"new": ' + "1" * 100000 + "}")
    assert target.read_text(encoding="utf-8") == '{"old": true}'         # never a half-written file
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]             # and no temporary file left


def test_cli_with_both_streams_into_a_closed_reader_exits_cleanly(tmp_path):
    """`rnncourse quiz ... 2>&1 | head`: stdout and stderr both break."""
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({q.id: _letter(q) for q in BANK[:20]}), encoding="utf-8")
    out = tmp_path / "r.json"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "rnncourse", "quiz", "--answers", str(answers),
                               "--out", str(out)], stdout=write_end, stderr=write_end, timeout=300, cwd=ROOT)
    finally:
        os.close(write_end)
    assert proc.returncode == 0
    assert json.loads(out.read_text(encoding="utf-8"))["score"] == 20
