"""Generated data of chapters 9 and 11: dialogues whose reply depends on an earlier turn, and a
word corpus with planted relations. Deterministic, padded correctly, with the promised structure."""
import numpy as np
import pytest

from rnncourse.data.corpus import (
    COUNTRIES, NOUNS, CorpusVocab, analogy_pairs, corpus_sentences, generate_corpus, word_classes,
    word_entities,
)
from rnncourse.data.dialogues import (
    DRINKS, PETS, dialogue_batch, dialogue_vocab, format_dialogue, generate_dialogues,
)


def test_dialogues_are_deterministic_and_well_formed():
    a, b = generate_dialogues(200, seed=3), generate_dialogues(200, seed=3)
    assert a == b and a != generate_dialogues(200, seed=4)
    for d in a:
        assert len(d.turns) in (5, 7) and d.reply in d.valid_replies
        assert len(d.valid_replies) == 4
        text = " ".join(w for t in d.turns for w in t)
        assert f"i like {d.drink} ." in text and f"my pet is a {d.pet} ." in text
        if d.kind == "drink":
            assert d.turns[-1] == ("what", "should", "i", "drink", "?")
            assert all(d.drink in r for r in d.valid_replies)
        if d.kind == "pet":
            assert all(d.pet in r for r in d.valid_replies)
    kinds = [d.kind for d in a]
    assert {k: kinds.count(k) for k in set(kinds)}.keys() == {"drink", "pet", "free"}


def test_the_question_alone_does_not_determine_the_reply():
    """For each question, every slot value occurs: a one-turn model must guess."""
    ds = generate_dialogues(600, seed=0)
    for kind, values in (("drink", DRINKS), ("pet", PETS)):
        seen = {getattr(d, kind) for d in ds if d.kind == kind}
        assert seen == set(values)


def test_dialogue_batch_padding_and_round_trip():
    vocab = dialogue_vocab()
    ds = generate_dialogues(30, seed=1)
    b = dialogue_batch(ds, vocab)
    N, M, Tu = b.ctx.shape
    assert b.utt_len.shape == (N, M) and b.n_turns.shape == (N,)
    for n, d in enumerate(ds):
        assert b.n_turns[n] == len(d.turns)
        for m, turn in enumerate(d.turns):
            assert vocab.decode(b.ctx[n, m, :b.utt_len[n, m]]) == turn
        assert np.all(b.utt_len[n, len(d.turns):] == 0) and np.all(b.ctx[n, len(d.turns):] == 0)
        assert vocab.decode(b.tgt_out[n]) == d.reply
        assert b.tgt_in[n, 0] == vocab.bos
        np.testing.assert_array_equal(b.tgt_in[n, 1:len(d.reply) + 1], b.tgt_out[n, :len(d.reply)])
    assert np.array_equal(b.tgt_mask, b.tgt_out != 0)
    assert "B: " + " ".join(ds[0].reply) == format_dialogue(ds[0]).splitlines()[-1]


def test_dialogue_errors():
    with pytest.raises(ValueError, match="num"):
        generate_dialogues(0)
    with pytest.raises(ValueError, match="last_turns"):
        dialogue_batch(generate_dialogues(2), dialogue_vocab(), last_turns=0)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        dialogue_vocab().encode(["zebra"])


def test_corpus_is_deterministic_and_has_the_planted_words():
    ids, vocab = generate_corpus(500, seed=2)
    ids2, vocab2 = generate_corpus(500, seed=2)
    np.testing.assert_array_equal(ids, ids2)
    assert vocab.itos == vocab2.itos
    assert np.all(np.diff(vocab.counts) <= 0)                      # ids by decreasing frequency
    np.testing.assert_array_equal(np.bincount(ids, minlength=len(vocab)), vocab.counts)
    for rel, pairs in analogy_pairs().items():
        assert len(pairs) == 8
        for a, b in pairs:
            assert a in vocab.stoi and b in vocab.stoi
    classes = word_classes()
    assert classes["paris"] == "capital" and classes["children"] == "plural"
    assert len(classes) == 4 * len(COUNTRIES) + 4 * len(NOUNS)
    entities = word_entities()
    assert entities.keys() == classes.keys()
    assert entities["paris"] == entities["cheese"] == "france" and entities["kennel"] == "dog"
    # role and entity together identify each content word
    assert len({(classes[w], entities[w]) for w in classes}) == len(classes)


def test_corpus_relations_co_occur():
    """A capital appears in sentences with its own country and never with another country."""
    sents = corpus_sentences(3000, seed=0)
    capital = {c: k for c, k, _, _ in COUNTRIES}
    for s in sents:
        countries = [w for w in s if w in capital]
        capitals = [w for w in s if w in capital.values()]
        if countries and capitals:
            assert capitals == [capital[countries[0]]]
    plural = {s: p for s, p, _, _ in NOUNS}
    assert not any(w in plural and v in plural.values() for s in sents for w in s for v in s)


def test_corpus_errors():
    with pytest.raises(ValueError, match="num"):
        corpus_sentences(0)
    with pytest.raises(ValueError, match="p_country"):
        corpus_sentences(3, p_country=1.5)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CorpusVocab([["a", "b"]]).encode(["c"])
