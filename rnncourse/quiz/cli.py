"""``rnncourse quiz``: an E資格-style mock exam in the terminal, or scored from an answers file."""
from __future__ import annotations

import datetime as _dt
import json
import secrets
import sys
from pathlib import Path

from .bank import LANGS, BankError, load_bank
from .book import book_labels
from .session import make_exam, parse_answer

__all__ = ["register", "run_quiz"]

_UI = {
    "en": dict(prompt="your answer ({hint}, q to stop): ", invalid="  not a valid answer, try again",
               numeric="a number", result="Score: {score}/{total} ({pct:.0f}%)",
               right="correct", wrong="wrong", answer="answer", yours="yours", see="see",
               saved="results saved to {path}", none="(none)"),
    "ja": dict(prompt="解答 ({hint}、q で終了): ", invalid="  無効な解答です。もう一度入力してください",
               numeric="数値", result="得点: {score}/{total} ({pct:.0f}%)",
               right="正解", wrong="不正解", answer="正答", yours="あなたの解答", see="参照",
               saved="結果を {path} に保存しました", none="(無回答)"),
}


def _show(item, k, total, lang, out):
    q, t = item.question, item.question.text[lang]
    print(f"\nQ{k}/{total}  [{q.chapter}]  {t['question']}", file=out)
    if q.kind == "code":
        print("\n" + "\n".join("    " + line for line in q.code.splitlines()) + "\n", file=out)
    choices = q.choices_in(lang)
    for pos, orig in enumerate(item.order):
        print(f"  ({'abcdefghij'[pos]}) {choices[orig]}", file=out)


def _ask(item, lang, ui, inp, out) -> bool:
    """Read an answer; False when the candidate stops (q or end of input)."""
    hint = ui["numeric"] if item.question.kind == "numeric" else f"a-{'abcdefghij'[len(item.order) - 1]}"
    while True:
        print(ui["prompt"].format(hint=hint), end="", file=out, flush=True)
        line = inp.readline()
        if not line or line.strip().lower() == "q":
            return False
        value = parse_answer(item, line)
        if value is not None:
            item.given = value
            return True
        print(ui["invalid"], file=out)


def _load_answers(path: Path, items) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BankError(f"answers file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise BankError(f"answers file {path}: expected an object mapping question ids to answers")
    for item in items:
        if item.question.id in data:
            item.given = parse_answer(item, data[item.question.id], displayed=False)


def run_quiz(chapters=None, n=20, lang="en", seed=None, answers=None, out_path=None,
             inp=sys.stdin, out=sys.stdout) -> dict:
    """Run a mock exam and return (and save) the results as a dict."""
    questions = load_bank(chapters)
    if not questions:
        raise BankError(f"no questions for chapters {chapters}")
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    items = make_exam(questions, n, seed)
    ui = _UI[lang]
    if answers is not None:
        _load_answers(Path(answers), items)
    else:
        for k, item in enumerate(items, 1):
            _show(item, k, len(items), lang, out)
            if not _ask(item, lang, ui, inp, out):
                break
    labels = book_labels()
    score = sum(item.correct for item in items)
    print("\n" + ui["result"].format(score=score, total=len(items), pct=100 * score / len(items)),
          file=out)
    for k, item in enumerate(items, 1):
        q = item.question
        mark = ui["right"] if item.correct else ui["wrong"]
        where = labels.get(q.ref, q.ref)
        print(f"\nQ{k} {mark}: {ui['answer']} {item.correct_display()}, "
              f"{ui['yours']} {item.given_display() or ui['none']}", file=out)
        print(f"  {q.text[lang]['explanation']} ({ui['see']} {where}, {q.ref})", file=out)
    results = {
        "seed": seed, "lang": lang, "chapters": list(chapters or []), "score": score,
        "total": len(items),
        "questions": [{"id": it.question.id, "given": it.given, "correct": it.correct,
                       "answer": it.question.answer} for it in items],
    }
    if out_path is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out_path = Path(f"quiz-results-{stamp}.json")
    Path(out_path).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print("\n" + ui["saved"].format(path=out_path), file=out)
    return results


def _run(args) -> int:
    from ..cli import UsageError

    if args.n < 1:
        raise UsageError("--n must be at least 1")
    try:
        run_quiz(args.chapters, args.n, args.lang, args.seed, args.answers, args.out)
    except BankError as exc:
        raise UsageError(str(exc)) from None
    return 0


def register(sub) -> None:
    p = sub.add_parser("quiz", help="E資格-style mock exam in the terminal",
                       description="Multiple-choice, numeric and fill-in-the-code questions from the "
                                   "course's question bank, in Japanese or English.")
    p.add_argument("--chapters", nargs="+", metavar="CH",
                   help="chapter ids or prefixes, e.g. 01 04_lstm (default: all)")
    p.add_argument("--n", type=int, default=20, help="number of questions (default 20)")
    p.add_argument("--lang", choices=LANGS, default="en", help="language (default en)")
    p.add_argument("--seed", type=int, help="seed for the question order (default: random, saved)")
    p.add_argument("--answers", metavar="FILE",
                   help="score a JSON file {question id: letter in bank order | number} instead of asking")
    p.add_argument("--out", metavar="FILE", help="where to save the results JSON "
                                                 "(default quiz-results-<time>.json)")
    p.set_defaults(func=_run)
