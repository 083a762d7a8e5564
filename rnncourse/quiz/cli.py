"""``rnncourse quiz``: E資格-style practice in the terminal, a timed mock exam, a review of missed
questions, or the score of an answers file."""
from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import sys
import time
from pathlib import Path

from .bank import BANK_DIR, LANGS, BankError, filter_syllabus, load_bank
from .book import book_sections, section_url
from .session import (LETTERS, items_for, make_exam, make_mock, parse_answer, score_by_item,
                      weak_items)
from .syllabus import MOCK_MINUTES, MOCK_SIZE, SYLLABUS, WEAK_BELOW
from .texmath import plain

__all__ = ["register", "run_quiz", "missed_ids"]

_UI = {
    "en": dict(prompt="{clock}your answer ({hint}, q to stop): ", invalid="  not a valid answer, try again",
               numeric="a number", result="Score: {score}/{total} ({pct:.0f}%)",
               right="correct", wrong="wrong", answer="answer", yours="yours", see="see",
               saved="results saved to {path}", none="(none)", left="[{t} left] ",
               scenario="Scenario", by_item="By syllabus item ({name}):", weak="Weak items (below {pct:.0f}%):",
               no_weak="No weak item: every item at {pct:.0f}% or more.", reread="reread",
               timeout="Time is up ({limit}): {n} question(s) unanswered, counted as wrong.",
               late="Time was up before this answer: it is not counted.",
               time="Time used: {used} of {limit}.",
               mock="Mock exam: {n} questions, {limit}. The real E資格 has about {size} questions in "
                    "{minutes} minutes; the split over the syllabus items is the course's estimate.",
               review="Review: {n} question(s) you missed before (from {files} results file(s)).",
               nothing="Nothing to review: every question in the results was answered correctly.",
               outside="outside the syllabus"),
    "ja": dict(prompt="{clock}解答 ({hint}、q で終了): ", invalid="  無効な解答です。もう一度入力してください",
               numeric="数値", result="得点: {score}/{total} ({pct:.0f}%)",
               right="正解", wrong="不正解", answer="正答", yours="あなたの解答", see="参照",
               saved="結果を {path} に保存しました", none="(無回答)", left="［残り {t}］",
               scenario="設定", by_item="シラバス項目別の得点（{name}）:", weak="弱点項目（{pct:.0f}% 未満）:",
               no_weak="弱点項目はありません（すべて {pct:.0f}% 以上）。", reread="読み直す箇所",
               timeout="時間切れです（{limit}）。未解答の {n} 問は不正解として数えます。",
               late="この解答は制限時間を過ぎていたため数えません。",
               time="所要時間: {used}（制限 {limit}）",
               mock="模擬試験: {n} 問、制限時間 {limit}。本試験は約 {size} 問・{minutes} 分です。"
                    "シラバス項目ごとの出題割合は本コースの推定です。",
               review="復習: 以前に間違えた {n} 問（結果ファイル {files} 個から）",
               nothing="復習する問題はありません。結果ファイルの問題はすべて正解でした。",
               outside="範囲外"),
}


class _SafeOut:
    """Writes to a stream until it breaks (``rnncourse quiz ... | head``), then drops the rest:
    no BrokenPipeError, and the quiz still saves its results."""

    def __init__(self, stream):
        self.stream, self.broken = stream, False

    def write(self, text):
        if not self.broken:
            try:
                self.stream.write(text)
            except (BrokenPipeError, ConnectionResetError):
                self.broken = True
        return len(text)

    def flush(self):
        if not self.broken:
            try:
                self.stream.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.broken = True


def _hms(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _show(item, k, total, lang, out, scenario=False):
    q, t = item.question, item.question.text[lang]
    if scenario:
        print(f"\n[{_UI[lang]['scenario']}] {plain(q.scenario_text[lang])}", file=out)
        if q.scenario_text["figure"]:
            print("\n" + "\n".join("    " + line for line in q.scenario_text["figure"].splitlines()), file=out)
    print(f"\nQ{k}/{total}  [{q.id}]  {plain(t['question'])}", file=out)
    if q.figure:
        print("\n" + "\n".join("    " + line for line in q.figure.splitlines()) + "\n", file=out)
    if q.kind == "code":
        print("\n" + "\n".join("    " + line for line in q.code.splitlines()) + "\n", file=out)
    choices = q.choices_in(lang)
    for pos, orig in enumerate(item.order):
        shown = choices[orig] if q.kind == "code" else plain(choices[orig])
        print(f"  ({LETTERS[pos]}) {shown}", file=out)


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _readline(inp, timeout):
    """A line of input, ``""`` at the end of input, ``None`` if ``timeout`` seconds pass first (only
    a terminal is waited on with a timeout; other inputs are read and the clock checked after)."""
    if timeout is not None and _is_tty(inp):
        import select
        try:
            ready, _, _ = select.select([inp], [], [], max(0.0, timeout))
        except (OSError, ValueError):
            ready = [inp]
        if not ready:
            return None
    return inp.readline()


def _ask(item, lang, inp, out, left) -> str:
    """Read an answer: ``"ok"``, ``"stop"`` (q or end of input) or ``"timeout"``. ``left`` is a
    function giving the seconds left (``None``: no limit)."""
    ui = _UI[lang]
    hint = ui["numeric"] if item.question.kind == "numeric" else f"a-{LETTERS[len(item.order) - 1]}"
    while True:
        remaining = left()
        clock = ui["left"].format(t=_hms(remaining)) if remaining is not None else ""
        print(ui["prompt"].format(clock=clock, hint=hint), end="", file=out, flush=True)
        line = _readline(inp, remaining)
        if line is None:
            return "timeout"
        if not line or line.strip().lower() in ("q", "ｑ"):
            return "stop"
        value = parse_answer(item, line)
        if value is not None:
            if remaining is not None and left() <= 0:
                print("\n" + ui["late"], file=out)
                return "timeout"
            item.given = value
            return "ok"
        print(ui["invalid"], file=out)


def _answers_questions(path: Path, bank, err):
    """The questions named in an answers file (in the file's order) and their answers; warns about
    ids that are not in the bank."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BankError(f"answers file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise BankError(f"answers file {path}: expected an object mapping question ids to answers")
    by_id = {q.id: q for q in bank}
    unknown = [k for k in data if k not in by_id]
    if unknown:
        print(f"rnncourse quiz: warning: {len(unknown)} id(s) in {path} are not in the question bank and "
              f"were not scored: {', '.join(unknown)}", file=err)
    known = [k for k in data if k in by_id]
    if not known:
        raise BankError(f"answers file {path}: none of its ids is in the question bank")
    return [by_id[k] for k in known], data


def _load_results(paths) -> list[dict]:
    runs = []
    for p in paths:
        try:
            data = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BankError(f"results file {p}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            raise BankError(f"results file {p}: not a results file of rnncourse quiz")
        data.setdefault("finished_at", "")
        data["_mtime"] = Path(p).stat().st_mtime
        runs.append(data)
    return sorted(runs, key=lambda d: (str(d["finished_at"]), d["_mtime"]))


def missed_ids(runs) -> list[str]:
    """Ids whose most recent attempt (over the results ``runs``, oldest first) was not correct."""
    last = {}
    for run in runs:
        for q in run["questions"]:
            if isinstance(q, dict) and "id" in q:
                last[q["id"]] = bool(q.get("correct"))
    return [qid for qid, ok in last.items() if not ok]


def _where(q, lang, sections) -> str:
    sec = sections.get(q.ref)
    if sec is None:
        return q.ref
    return f"{sec.describe(lang)}: {section_url(sec, lang=lang)}"


def _report(items, res, lang, out, sections):
    ui = _UI[lang]
    total = len(items)
    print("\n" + ui["result"].format(score=res["score"], total=total, pct=100 * res["score"] / total), file=out)
    if res["time_limit_s"]:
        limit = _hms(res["time_limit_s"])
        if res["timed_out"]:
            print(ui["timeout"].format(limit=limit, n=total - res["answered"]), file=out)
        print(ui["time"].format(used=_hms(res["time_used_s"]), limit=limit), file=out)
    print("\n" + ui["by_item"].format(name="JDLA E資格 シラバス2024"), file=out)
    for item_id, s in res["by_syllabus"].items():
        it = SYLLABUS[item_id]
        name = it.en if lang == "en" else it.ja
        print(f"  {item_id:<6} {s['correct']:>3}/{s['total']:<3} {100 * s['correct'] / s['total']:4.0f}%  {name}",
              file=out)
    if res["weak"]:
        print("\n" + ui["weak"].format(pct=100 * WEAK_BELOW), file=out)
        for item_id in res["weak"]:
            it, s = SYLLABUS[item_id], res["by_syllabus"][item_id]
            name = it.en if lang == "en" else it.ja
            print(f"  {item_id} {name} ({100 * s['correct'] / s['total']:.0f}%)", file=out)
            for label in it.taught:
                if label in sections:
                    sec = sections[label]
                    print(f"    {ui['reread']}: {sec.describe(lang)}: {section_url(sec, lang=lang)}", file=out)
    else:
        print("\n" + ui["no_weak"].format(pct=100 * WEAK_BELOW), file=out)
    for k, item in enumerate(items, 1):
        q = item.question
        mark = ui["right"] if item.correct else ui["wrong"]
        print(f"\nQ{k} [{q.id}] {mark}: {ui['answer']} {item.correct_display()}, "
              f"{ui['yours']} {item.given_display() or ui['none']}", file=out)
        print(f"  {plain(q.text[lang]['explanation'])}", file=out)
        print(f"  ({ui['see']} {_where(q, lang, sections)})", file=out)


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it: a quiz killed while saving
    (a closed terminal) leaves the old file or none, never half a JSON file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _default_out(now: _dt.datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    path, k = Path(f"quiz-results-{stamp}.json"), 1
    while path.exists():
        k += 1
        path = Path(f"quiz-results-{stamp}-{k}.json")
    return path


def run_quiz(chapters=None, n=None, lang="en", seed=None, answers=None, out_path=None,
             inp=sys.stdin, out=sys.stdout, err=sys.stderr, *, syllabus=None, mock=False, review=None,
             minutes=None, clock=time.monotonic, now=None, bank_dir=BANK_DIR) -> dict:
    """Run a quiz and return (and save) the results as a dict.

    Exactly one way to choose the questions: ``answers`` (score the ids of an answers file),
    ``review`` (a list of results files: re-ask the questions whose latest attempt was wrong),
    ``mock`` (about 100 in-syllabus questions in the exam's proportions, 120 minutes), or a shuffled
    quiz of ``n`` questions (default 20) from ``chapters`` and ``syllabus`` items. ``minutes`` sets a
    time limit (the mock exam's default is 120); ``clock`` (seconds) and ``now`` (a datetime) can be
    injected for tests. The results are written before the report is printed.
    """
    out = out if isinstance(out, _SafeOut) else _SafeOut(out)
    err = err if isinstance(err, _SafeOut) else _SafeOut(err)    # `... 2>&1 | head` breaks both
    if lang not in _UI:
        raise BankError(f"lang: expected one of {', '.join(_UI)}, got {lang!r}")
    ui = _UI[lang]
    modes = [m for m, on in (("answers", answers is not None), ("review", review is not None),
                             ("mock", mock)) if on]
    if len(modes) > 1:
        raise BankError(f"choose one of --answers, --review and --mock, not {' and '.join(modes)}")
    mode = modes[0] if modes else "quiz"
    if mode == "mock" and (chapters or syllabus):
        raise BankError("--mock draws from the whole syllabus: leave out --chapters and --syllabus")
    if n is not None and n < 1:
        raise BankError("--n must be at least 1")
    bank = load_bank(None, bank_dir=bank_dir)
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    rng_seed = seed
    given = {}
    if mode == "answers":
        ignored = [f"--{o}" for o, v in (("n", n), ("chapters", chapters), ("syllabus", syllabus)) if v]
        if ignored:
            print(f"rnncourse quiz: note: {', '.join(ignored)} ignored: --answers scores the ids in the file",
                  file=err)
        questions, given = _answers_questions(Path(answers), bank, err)
        items = items_for(questions, None, shuffle_choices=False)
    elif mode == "review":
        runs = _load_results(review)
        ids = missed_ids(runs)
        by_id = {q.id: q for q in bank}
        gone = [i for i in ids if i not in by_id]
        if gone:
            print(f"rnncourse quiz: warning: {len(gone)} missed id(s) are no longer in the question bank: "
                  f"{', '.join(gone)}", file=err)
        questions = [by_id[i] for i in ids if i in by_id]
        if chapters:
            questions = [q for q in questions if any(q.chapter.startswith(str(c)) for c in chapters)]
        if syllabus:
            questions = filter_syllabus(questions, syllabus)
        if not questions:
            print(ui["nothing"], file=out)
            return {"mode": "review", "score": 0, "total": 0, "questions": []}
        print(ui["review"].format(n=len(questions), files=len(runs)), file=out)
        items = make_exam(questions, len(questions), rng_seed)
    elif mode == "mock":
        items = make_mock(bank, rng_seed)
        minutes = MOCK_MINUTES if minutes is None else minutes
    else:
        questions = load_bank(chapters, bank_dir=bank_dir) if chapters else bank
        if syllabus:
            questions = filter_syllabus(questions, syllabus)
        if not questions:
            raise BankError(f"no questions for chapters {chapters or 'all'} and syllabus items {syllabus or 'all'}")
        items = make_exam(questions, 20 if n is None else n, rng_seed)
    limit = None if minutes is None else float(minutes) * 60
    if mode == "mock":
        print(ui["mock"].format(n=len(items), limit=_hms(limit), size=MOCK_SIZE, minutes=MOCK_MINUTES), file=out)

    start = clock()
    left = (lambda: limit - (clock() - start)) if limit is not None else (lambda: None)
    timed_out = False
    if mode == "answers":
        for item in items:
            item.given = parse_answer(item, given[item.question.id], displayed=False)
    else:
        prev = None
        try:
            for k, item in enumerate(items, 1):
                q = item.question
                if limit is not None and left() <= 0:
                    timed_out = True
                    break
                first = bool(q.scenario) and (prev is None or (prev.chapter, prev.scenario) != (q.chapter, q.scenario))
                _show(item, k, len(items), lang, out, scenario=first)
                status = _ask(item, lang, inp, out, left)
                prev = q
                if status == "timeout":
                    timed_out = True
                    break
                if status == "stop":
                    break
        except KeyboardInterrupt:               # Ctrl-C stops the exam like "q": score and save what was answered
            print(file=out)
    used = clock() - start
    scores = score_by_item(items)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    res = {
        "mode": mode, "seed": seed, "lang": lang, "chapters": list(chapters or []),
        "syllabus_filter": list(syllabus or []),
        "score": sum(item.correct for item in items), "total": len(items),
        "answered": sum(item.given is not None for item in items),
        "time_limit_s": limit, "time_used_s": round(used, 3), "timed_out": timed_out,
        "finished_at": now.isoformat(), "by_syllabus": scores, "weak": weak_items(scores),
        "questions": [{"id": it.question.id, "given": it.given, "correct": it.correct,
                       "answer": it.question.answer, "syllabus": list(it.question.syllabus)} for it in items],
    }
    out_path = Path(out_path) if out_path is not None else _default_out(now)
    _write_atomically(out_path, json.dumps(res, ensure_ascii=False, indent=2) + "\n")
    _report(items, res, lang, out, book_sections())
    print("\n" + ui["saved"].format(path=out_path), file=out)
    out.flush()
    if out.broken:
        print(ui["saved"].format(path=out_path), file=err)
    return res


def _silence_stdout():
    """After a broken pipe, point stdout at /dev/null so that the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _run(args) -> int:
    from ..cli import UsageError

    if args.n is not None and args.n < 1:
        raise UsageError("--n must be at least 1")
    if args.minutes is not None and args.minutes <= 0:
        raise UsageError("--minutes must be positive")
    review = None
    if args.review is not None:
        review = args.review or sorted(Path(".").glob("quiz-results-*.json"))
        if not review:
            raise UsageError("--review: no results files given and no quiz-results-*.json here")
    out = _SafeOut(sys.stdout)
    try:
        run_quiz(args.chapters, args.n, args.lang, args.seed, args.answers, args.out, out=out,
                 syllabus=args.syllabus, mock=args.mock, review=review, minutes=args.minutes)
    except BankError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if out.broken:
            _silence_stdout()
    return 0


def register(sub) -> None:
    p = sub.add_parser("quiz", help="E資格-style practice: quiz, timed mock exam, review of missed questions",
                       description="Multiple-choice, numeric and fill-in-the-code questions from the "
                                   "course's question bank, in Japanese or English, tagged with the items "
                                   "of the JDLA E資格 syllabus (シラバス2024).")
    p.add_argument("--chapters", nargs="+", metavar="CH",
                   help="chapter ids or prefixes, e.g. 01 04_lstm (default: all)")
    p.add_argument("--syllabus", nargs="+", metavar="ITEM",
                   help="E資格 syllabus items, e.g. 3-6-1 or 3-5 (all of 3-5-1 .. 3-5-3); x = outside the syllabus")
    p.add_argument("--n", type=int, default=None, help="number of questions (default 20)")
    p.add_argument("--mock", action="store_true",
                   help=f"a mock exam: about {MOCK_SIZE} in-syllabus questions in the exam's proportions "
                        f"(the course's estimate), {MOCK_MINUTES} minutes, score per syllabus item")
    p.add_argument("--review", nargs="*", metavar="RESULTS",
                   help="re-ask the questions whose latest attempt was wrong, from these results files "
                        "(default: every quiz-results-*.json here)")
    p.add_argument("--minutes", type=float, default=None,
                   help=f"time limit in minutes, shown and enforced (default: none; {MOCK_MINUTES} for --mock)")
    p.add_argument("--lang", choices=LANGS, default="en", help="language (default en)")
    p.add_argument("--seed", type=int, help="seed for the question order (default: random, saved)")
    p.add_argument("--answers", metavar="FILE",
                   help="score exactly the ids of a JSON file {question id: letter in bank order | number} "
                        "instead of asking (ids are shown in the book and in every report)")
    p.add_argument("--out", metavar="FILE", help="where to save the results JSON "
                                                 "(default quiz-results-<time>.json)")
    p.set_defaults(func=_run)
