"""Seq2seq toy data: addition, copying and dates are deterministic, distinct and correctly padded."""
import datetime as dt

import numpy as np
import pytest

from rnncourse.data.addition import (
    BOS, EOS, addition_pairs, addition_vocab, copy_pairs, reverse_padded, seq2seq_batch,
)
from rnncourse.data.dates import DATE_FORMATS, date_pairs, date_vocab, format_date


def test_addition_pairs_are_correct_distinct_and_seeded():
    pairs = addition_pairs(500, max_digits=3, seed=3)
    assert pairs == addition_pairs(500, max_digits=3, seed=3)
    assert pairs != addition_pairs(500, max_digits=3, seed=4)
    assert len(set(pairs)) == 500
    for q, a in pairs:
        x, y = q.split("+")
        assert int(x) + int(y) == int(a)
        assert str(int(x)) == x and str(int(y)) == y      # no leading zeros
    lengths = {len(q) for q, _ in pairs}
    assert lengths == set(range(3, 8))                    # every length from 1+1 to 3+3 digits


def test_addition_pairs_validate_arguments():
    with pytest.raises(ValueError, match="num"):
        addition_pairs(60, max_digits=1)                  # only 100 problems exist
    with pytest.raises(ValueError, match="min_digits"):
        addition_pairs(10, max_digits=2, min_digits=3)


def test_copy_pairs():
    pairs = copy_pairs(200, max_len=6, seed=1)
    assert pairs == copy_pairs(200, max_len=6, seed=1)
    assert all(s == t and s.isdigit() and 1 <= len(s) <= 6 for s, t in pairs)
    assert {len(s) for s, _ in pairs} == set(range(1, 7))


def test_seq2seq_batch_pads_shifts_and_masks():
    vocab = addition_vocab()
    b = seq2seq_batch([("57+38", "95"), ("1+2", "3")], vocab)
    assert b.src.shape == (2, 5) and b.tgt_in.shape == (2, 3)
    assert vocab.decode(b.src[1]) == "1+2" and b.src[1, 3:].tolist() == [0, 0]
    assert b.src_len.tolist() == [5, 3]
    assert vocab.decode(b.tgt_in[0]) == BOS + "95"
    assert vocab.decode(b.tgt_out[0]) == "95" + EOS
    assert vocab.decode(b.tgt_out[1]) == "3" + EOS and b.tgt_out[1, 2] == 0
    assert b.tgt_mask.tolist() == [[True, True, True], [True, True, False]]
    # teacher forcing: the input at t+1 is the target at t
    assert np.array_equal(b.tgt_in[:, 1:][b.tgt_mask[:, 1:]], b.tgt_out[:, :-1][b.tgt_mask[:, 1:]])


def test_reverse_keeps_padding_at_the_end():
    vocab = addition_vocab()
    b = seq2seq_batch([("57+38", "95"), ("1+23", "24")], vocab, reverse_source=True)
    assert vocab.decode(b.src[0]) == "83+75"
    assert vocab.decode(b.src[1]) == "32+1" and b.src[1, 4] == 0
    ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0], [6, 0, 0, 0]])
    assert reverse_padded(ids, np.array([3, 2, 1])).tolist() == [[3, 2, 1, 0], [5, 4, 0, 0],
                                                                  [6, 0, 0, 0]]
    assert np.array_equal(reverse_padded(reverse_padded(ids, [3, 2, 1]), [3, 2, 1]), ids)
    with pytest.raises(ValueError, match="lengths"):
        reverse_padded(ids, np.array([5, 1, 1]))


def test_date_formats():
    d = dt.date(1994, 9, 27)
    out = {f: format_date(d, f) for f in DATE_FORMATS}
    assert out["month d, yyyy"] == "september 27, 1994"
    assert out["m/d/yy"] == "9/27/94"
    assert out["dd.mm.yyyy"] == "27.09.1994"
    assert out["weekday, month d, yyyy"] == "tuesday, september 27, 1994"
    with pytest.raises(ValueError, match="fmt"):
        format_date(d, "yyyy/mm/dd")


def test_date_pairs_are_seeded_valid_and_encodable():
    pairs = date_pairs(400, seed=5)
    assert pairs == date_pairs(400, seed=5)
    assert len(set(pairs)) == 400
    vocab = date_vocab()
    for src, tgt in pairs:
        d = dt.date.fromisoformat(tgt)
        assert 1950 <= d.year <= 2049
        assert src in {format_date(d, f) for f in DATE_FORMATS}
        vocab.encode(src)
    b = seq2seq_batch(pairs, vocab)
    assert b.tgt_out.shape[1] == 11 and b.tgt_mask.all()   # "yyyy-mm-dd" + EOS
    with pytest.raises(ValueError, match="two-digit"):
        date_pairs(10, years=(1900, 1999))
    with pytest.raises(ValueError, match="formats"):
        date_pairs(10, formats=("nope",))
