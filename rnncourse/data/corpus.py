"""A generated word corpus with planted structure, for word2vec (chapter 11), no downloads.

Sentences come from two families of templates:

* **countries**: eight (country, capital, language) triples such as (france, paris, french) in
  sentences like ``paris is the capital of france``, ``people in paris speak french``,
  ``france is a big country``, ``paris is a big city``;
* **things**: eight nouns with a singular and a plural form (``dog``/``dogs``, ``child``/
  ``children``, ...), each with its own adjective and place, in number-marked sentences like
  ``the dog lives in the kennel`` / ``the dogs live in the kennel``, ``this dog is loyal`` /
  ``these dogs are loyal``.

So each word's contexts carry two planted factors: *which entity* (the country, its capital and
its language share contexts; ``dog`` and ``dogs`` share the adjective and the place) and *which
role* (country vs city vs language; singular vs plural). Vector offsets such as
``paris - france`` should then be nearly the same for every country, and the analogies of
:func:`analogy_pairs` have a known answer: the ground truth of the chapter's evaluation.

>>> sents = corpus_sentences(3, seed=0)
>>> all(isinstance(w, str) for s in sents for w in s)
True
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "COUNTRIES", "NOUNS", "corpus_sentences", "CorpusVocab", "generate_corpus", "analogy_pairs",
    "word_classes", "word_entities",
]

#: (country, capital, language, food)
COUNTRIES = (("france", "paris", "french", "cheese"), ("japan", "tokyo", "japanese", "sushi"),
             ("italy", "rome", "italian", "pasta"), ("spain", "madrid", "spanish", "paella"),
             ("egypt", "cairo", "arabic", "falafel"), ("russia", "moscow", "russian", "borscht"),
             ("china", "beijing", "chinese", "dumplings"),
             ("germany", "berlin", "german", "sausages"))
#: (singular, plural, adjective, place)
NOUNS = (("dog", "dogs", "loyal", "kennel"), ("cat", "cats", "lazy", "basket"),
         ("horse", "horses", "fast", "stable"), ("bird", "birds", "small", "nest"),
         ("car", "cars", "new", "garage"), ("tree", "trees", "tall", "forest"),
         ("child", "children", "happy", "school"), ("king", "kings", "old", "castle"))

_COUNTRY_TEMPLATES = (
    "{k} is the capital of {c}", "the capital of {c} is {k}", "{k} is a city in {c}",
    "people in {c} speak {l}", "people in {k} speak {l}", "{l} is spoken in {c}",
    "{c} is a big country", "{k} is a big city", "i flew to {c}", "i flew to {k}",
    "people in {c} eat {f}", "people in {k} eat {f}", "{f} is popular in {c}",
    "{f} is popular in {k}",
)
_NOUN_TEMPLATES = (      # (singular, plural)
    ("the {s} lives in the {p}", "the {pl} live in the {p}"),
    ("this {s} is {a}", "these {pl} are {a}"),
    ("i saw a {a} {s}", "i saw two {a} {pl}"),
    ("a {s} was in the {p}", "many {pl} were in the {p}"),
)


def corpus_sentences(num: int, seed: int = 0, p_country: float = 0.5) -> list[list[str]]:
    """``num`` sentences (lists of words), deterministic given ``seed``.

    Args:
        num: number of sentences (>= 1).
        seed: seed of ``np.random.default_rng``.
        p_country: probability of a country sentence (else a singular/plural one).
    """
    if num < 1:
        raise ValueError(f"num: expected >= 1, got {num}")
    if not 0.0 <= p_country <= 1.0:
        raise ValueError(f"p_country: expected a probability in [0, 1], got {p_country}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num):
        if rng.random() < p_country:
            c, k, lang, f = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
            t = _COUNTRY_TEMPLATES[int(rng.integers(len(_COUNTRY_TEMPLATES)))]
            text = t.format(c=c, k=k, l=lang, f=f)
        else:
            s, pl, a, p = NOUNS[int(rng.integers(len(NOUNS)))]
            t = _NOUN_TEMPLATES[int(rng.integers(len(_NOUN_TEMPLATES)))][int(rng.integers(2))]
            text = t.format(s=s, pl=pl, a=a, p=p)
        out.append(text.split())
    return out


class CorpusVocab:
    """Words <-> ids 0..V-1, ordered by decreasing frequency (ties alphabetically)."""

    def __init__(self, sentences):
        words, counts = np.unique([w for s in sentences for w in s], return_counts=True)
        order = sorted(range(len(words)), key=lambda i: (-counts[i], words[i]))
        self.itos = [str(words[i]) for i in order]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.counts = np.array([counts[i] for i in order], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, words) -> np.ndarray:
        unknown = sorted(set(words) - set(self.stoi))
        if unknown:
            raise ValueError(f"words: {unknown} are not in the vocabulary")
        return np.array([self.stoi[w] for w in words], dtype=np.int64)

    def decode(self, ids) -> list[str]:
        return [self.itos[int(i)] for i in np.asarray(ids).reshape(-1)]


def generate_corpus(num_sentences: int, seed: int = 0, **kwargs):
    """The corpus as one stream of word ids (sentences joined), and its vocabulary.

    Keyword arguments go to :func:`corpus_sentences`.

    Returns:
        ids: (num_words,) int64; vocab: :class:`CorpusVocab`.
    """
    sentences = corpus_sentences(num_sentences, seed=seed, **kwargs)
    vocab = CorpusVocab(sentences)
    ids = vocab.encode([w for s in sentences for w in s])
    return ids, vocab


def analogy_pairs() -> dict:
    """The planted relations: ``{relation: [(a, b), ...]}`` with ``a : b`` the same relation for
    every pair (``capital``: country -> capital, ``language``: country -> language, ``plural``:
    singular -> plural)."""
    return {
        "capital": [(c, k) for c, k, _, _ in COUNTRIES],
        "language": [(c, lang) for c, _, lang, _ in COUNTRIES],
        "plural": [(s, pl) for s, pl, _, _ in NOUNS],
    }


def word_classes() -> dict:
    """``{word: class}`` for the content words (the ground truth of the similarity plots)."""
    classes = {}
    for c, k, lang, f in COUNTRIES:
        classes.update({c: "country", k: "capital", lang: "language", f: "food"})
    for s, pl, a, p in NOUNS:
        classes.update({s: "singular", pl: "plural", a: "adjective", p: "place"})
    return classes


def word_entities() -> dict:
    """``{word: entity}`` for the content words: the country (``france`` for ``paris``, ``french``,
    ``cheese``) or the singular noun (``dog`` for ``dogs``, ``loyal``, ``kennel``) whose sentences
    the word appears in. The second planted factor, beside the role of :func:`word_classes`."""
    entities = {}
    for c, k, lang, f in COUNTRIES:
        entities.update({c: c, k: c, lang: c, f: c})
    for s, pl, a, p in NOUNS:
        entities.update({s: s, pl: s, a: s, p: s})
    return entities
