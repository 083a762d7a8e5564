"""In-notebook feedback: ``check("01_unfolding.rnn_forward", rnn_forward)``.

Feedback, not grading: it runs the visible test cases (a fixed seed, the shapes the notebook shows)
in the student's own kernel, prints pass/fail per case with the largest error or the shape
mismatch, and never raises, so a notebook with unsolved exercises still runs from top to bottom.
The grade comes from ``rnncourse grade``, which judges hidden cases (other values, other shapes)
outside the student's kernel. The result displays nothing in a notebook: the printed report is
the feedback.
"""
from __future__ import annotations

from .messages import env_lang, translate
from .sandbox.feedback import CheckResult, run_check

__all__ = ["check", "CheckResult", "CHECK_SEED"]

CHECK_SEED = 0


def check(item_id: str, *objects, verbose: bool = True, **named) -> CheckResult:
    """Run the visible cases of a graded item against your implementation and print feedback.

    Args:
        item_id: ``"<exercise>.<item>"`` as written in the notebook, e.g. ``"01_unfolding.softmax"``.
        *objects: your function(s), in the order the item uses them (usually just one).
        verbose: print the per-case report (default True).
        **named: alternatively, pass functions by name.

    Returns:
        A :class:`CheckResult` (``.ok``, ``.passed``, ``.total``, ``.points``). Never raises.
    """
    from .judge.registry import UnknownExercise, find_item
    from .judge.visible import visible_item

    result = CheckResult(item=str(item_id))
    try:
        run_check(visible_item(*find_item(item_id)), objects, named, result)
    except UnknownExercise as exc:
        result.messages.append(f"check: {str(exc).strip(chr(34))}")
    except Exception as exc:  # noqa: BLE001 - check() must never raise
        result.messages.append(f"check: could not run the check: {type(exc).__name__}: {exc}")
    lang = env_lang()
    if lang != "en":   # the same result, said in the notebook's language (RNNCOURSE_LANG)
        ex_id = str(item_id).split(".")[0]
        result.messages = [translate(m, lang, ex_id) for m in result.messages]
    if verbose:
        print("\n".join(result.messages))
    return result
