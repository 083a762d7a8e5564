"""rnncourse.claims: seeds derived from RNNCOURSE_SEED, and claims that fail loudly and are recorded."""
import json

import numpy as np
import pytest

from rnncourse import claims
from rnncourse.claims import base_seed, claim, seed


def test_base_seed_reads_the_environment(monkeypatch):
    monkeypatch.delenv("RNNCOURSE_SEED", raising=False)
    assert base_seed() == 0
    monkeypatch.setenv("RNNCOURSE_SEED", "3")
    assert base_seed() == 3
    for bad in ["-1", "x", "1.5"]:
        monkeypatch.setenv("RNNCOURSE_SEED", bad)
        with pytest.raises(ValueError, match="RNNCOURSE_SEED"):
            base_seed()


def test_streams_are_distinct_and_change_with_the_base_seed(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_SEED", "0")
    at0 = [seed(0), seed(1), seed("init"), seed("data")]
    assert len(set(at0)) == 4 and seed("init") == at0[2]          # deterministic
    monkeypatch.setenv("RNNCOURSE_SEED", "1")
    at1 = [seed(0), seed(1), seed("init"), seed("data")]
    assert all(a != b for a, b in zip(at0, at1))
    assert all(0 <= s < 2 ** 32 for s in at0 + at1)
    with pytest.raises(ValueError, match="stream"):
        seed(-1)
    with pytest.raises(ValueError, match="stream"):
        seed(1.5)


def test_seed_all_makes_numpy_and_torch_repeatable(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("RNNCOURSE_SEED", "2")
    claims.seed_all("x")
    a = np.random.rand(3), torch.rand(3)
    claims.seed_all("x")
    b = np.random.rand(3), torch.rand(3)
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize("op, value, threshold, ok", [
    (">", 0.95, 0.9, True), (">", 0.9, 0.9, False), (">=", 0.9, 0.9, True),
    ("<", 0.1, 0.2, True), ("<", 0.2, 0.2, False), ("<=", 0.2, 0.2, True),
    (">", float("nan"), 0.0, False),
])
def test_claim_checks_records_and_names_itself(tmp_path, monkeypatch, op, value, threshold, ok):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("RNNCOURSE_CLAIMS_LOG", str(log))
    monkeypatch.setenv("RNNCOURSE_SEED", "4")
    if ok:
        out = claim("acc", np.float64(value), op, threshold, "accuracy")
        assert float(out) == value and out.threshold == threshold
    else:
        with pytest.raises(AssertionError, match=r"claim 'acc' does not hold.*RNNCOURSE_SEED=4"):
            claim("acc", value, op, threshold, "accuracy")
    row = json.loads(log.read_text())
    assert row["name"] == "acc" and row["ok"] is ok and row["seed"] == 4 and row["op"] == op
    if ok:
        assert row["margin"] >= 0


def test_claim_rejects_bad_input():
    with pytest.raises(ValueError, match="op"):
        claim("x", 1.0, "==", 1.0)
    with pytest.raises(ValueError, match="one number"):
        claim("x", np.ones(3), ">", 0.0)
