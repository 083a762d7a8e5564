"""In-notebook check(): friendly feedback, never raises, and agrees with the reference."""
import numpy as np
import pytest

from rnncourse.grading import CheckResult, check
from rnncourse.grading.judge.registry import all_exercises, find_item
from rnncourse.grading.sandbox.compare import compare_output, to_plain_array
from rnncourse.grading.sandbox.plan import PlanError, execute_plan
from rnncourse.layers import (gru_step_backward, gru_step_forward, rnn_forward, rnn_step_forward,
                              softmax, temporal_softmax_loss)


def test_reference_implementations_pass(capsys):
    assert check("01_unfolding.softmax", softmax).ok
    assert check("01_unfolding.rnn_step_forward", rnn_step_forward).ok
    assert check("01_unfolding.rnn_forward", rnn_forward).ok
    r = check("01_unfolding.sequence_loss", lambda o, y, m: temporal_softmax_loss(o, y, m)[0])
    assert r.ok and r.points == r.max_points == 2
    assert "PASSED" in capsys.readouterr().out


def test_every_registered_item_passes_with_its_own_reference():
    for ex in all_exercises():
        for item in ex.items:
            assert check(f"{ex.id}.{item.name}", **item.reference(), verbose=False).ok, item.name


def test_not_implemented_is_reported_once(capsys):
    def stub(*args):
        raise NotImplementedError("rnn_forward: your code goes here")

    r = check("01_unfolding.rnn_forward", stub)
    out = capsys.readouterr().out
    assert not r.ok and r.points == 0
    assert out.count("not implemented yet") == 1 and "hint:" in out


def test_naive_softmax_gets_partial_credit_and_a_reason(capsys):
    def naive(o):
        with np.errstate(over="ignore", invalid="ignore"):
            return np.exp(o) / np.exp(o).sum(-1, keepdims=True)

    r = check("01_unfolding.softmax", naive)
    out = capsys.readouterr().out
    assert r.passed == r.total - 1 and 0 < r.points < r.max_points
    assert "NaN/inf" in out


@pytest.mark.parametrize("fn, expect", [
    (lambda x, h, Wx, Wh, b: (np.zeros((1, 1)), None), "wrong shape"),
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b), "should return 2 values"),
    (lambda x, h, Wx, Wh, b: (1 / 0, None), "raised ZeroDivisionError"),
    (lambda x, h, Wx, Wh, b: ("text", None), "expected a numeric array, got str"),
])
def test_wrong_answers_get_actionable_messages(capsys, fn, expect):
    r = check("01_unfolding.rnn_step_forward", fn)
    assert not r.ok and r.points == 0
    assert expect in capsys.readouterr().out


def test_objects_with_cheating_eq_do_not_pass(capsys):
    class Liar:
        def __eq__(self, other):
            return True

        def __array__(self, dtype=None, copy=None):
            return np.zeros(0)

    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return np.ones(np.shape(other), dtype=bool)

    def returns_liar(x, h, Wx, Wh, b):
        return Liar(), None

    def returns_subclass(x, h, Wx, Wh, b):
        return np.zeros((x.shape[0], Wh.shape[0])).view(Sneaky), None

    assert not check("01_unfolding.rnn_step_forward", returns_liar).ok
    assert not check("01_unfolding.rnn_step_forward", returns_subclass).ok


def test_check_never_raises_on_bad_calls(capsys):
    assert not check("no_such.item", softmax).ok
    assert not check("01_unfolding.softmax").ok                     # function missing
    assert not check("01_unfolding.softmax", softmax, softmax).ok    # one too many
    assert not check(None, softmax).ok
    out = capsys.readouterr().out
    assert "unknown exercise id 'no_such'" in out and "pass your softmax" in out


def test_inputs_are_not_shared_between_student_and_reference():
    _, item = find_item("01_unfolding.rnn_forward")
    case = item.draw(np.random.default_rng(0))[0]
    before = {k: v.copy() for k, v in case.items()}

    def vandal(x, h0, Wx, Wh, b):
        x[...] = 0
        Wx[...] = 0
        return rnn_forward(x, h0, Wx, Wh, b)

    execute_plan({"rnn_forward": vandal}, item.calls, case, item.outputs)
    for k in case:
        np.testing.assert_array_equal(case[k], before[k])


def test_plan_error_names_the_values():
    calls = [{"fn": "f", "args": ["a"], "returns": ["p", "q"]}]
    with pytest.raises(PlanError, match=r"f should return 2 values \(p, q\), got 3"):
        execute_plan({"f": lambda a: (1, 2, 3)}, calls, {"a": 1}, ["p"])


def test_compare_output_messages_do_not_leak_reference_values():
    expected = np.array([[0.123456789, 9.87654321]])
    v = compare_output("h", np.array([[0.0, 0.0]]), expected, rtol=1e-6, atol=1e-8)
    assert not v.ok and "2 of 2" in v.message
    assert "0.1234" not in v.message and "9.876" not in v.message
    assert compare_output("h", expected.copy(), expected, 1e-6, 1e-8).ok
    assert not compare_output("h", np.array([True]), np.array([1.0]), 1e-6, 1e-8).ok
    assert to_plain_array([1, 2]) is None            # lists are not accepted silently


def test_a_check_cell_shows_its_report_and_no_result_object(capsys):
    """In a notebook, ``check(...)`` as the last line must not echo ``CheckResult(...)``."""
    from IPython.core.formatters import DisplayFormatter

    r = check("01_unfolding.softmax", softmax)
    assert "PASSED" in capsys.readouterr().out
    assert isinstance(r, CheckResult) and r.ok            # still a useful object
    assert DisplayFormatter().format(r) == ({}, {})       # ... that displays nothing
    assert "4/4" in repr(r)


def test_a_wrong_forward_says_fix_it_first(capsys):
    """A backward graded on the student's forward's cache: a wrong forward is named, not blamed
    on the backward."""
    def bad_forward(x, prev_h, Wx, Wh, b, bhn):
        return gru_step_forward(1.1 * x, prev_h, Wx, Wh, b, bhn)

    def backward(dnext_h, cache):
        return gru_step_backward(dnext_h, cache)

    r = check("05_gru.gru_step_backward", bad_forward, backward)
    out = capsys.readouterr().out
    assert not r.ok and "fix gru_step_forward first" in out
    r = check("05_gru.gru_step_backward", gru_step_forward, backward)
    assert r.ok and "first" not in capsys.readouterr().out


def test_prescribed_cache_judges_a_backward_on_its_own(capsys):
    """Exercise 4 fixes the cache layout: the backward is checked on a correct forward's cache."""
    _, item = find_item("04_lstm.lstm_step_backward")
    assert item.objects == ["lstm_step_backward"]
    ref = item.reference()["lstm_step_backward"]
    assert check("04_lstm.lstm_step_backward", ref).ok
