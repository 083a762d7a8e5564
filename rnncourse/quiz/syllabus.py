"""The JDLA E資格 syllabus items that the question bank is tagged with.

The exam in force is the E資格 of JDLA's シラバス2024 (announced 2023-09-15, applied from the exam
E2024#2). It splits deep learning into "3. 深層学習の基礎" and "4. 深層学習の応用"; the sequence-model
items are 3-5 リカレントニューラルネットワーク, 3-6 Transformer and 4-4 自然言語処理. The ids below
are the course's: ``<big item>-<middle item>[-<group>]`` in the order of シラバス2024, with the
recurrent and NLP items split into the groups of keywords the course teaches (3-5-1 .. 3-5-3,
4-4-1 .. 4-4-3). ``x`` tags a question on a topic outside the syllabus (recursive networks, echo
state networks and leaky units, HRED/VHRED, the cells of chapter 12, ...): such questions stay in
the chapters and in ``rnncourse quiz``, but the mock exam never draws them.

``weight`` is the share of a 100-question mock exam that the item gets. JDLA publishes the exam's
format (120 minutes, about 100 multiple-choice questions) but not how the questions split over the
syllabus items, so the weights are the course's own estimate (see the exam page).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Item", "ITEMS", "OUTSIDE", "SYLLABUS", "SYLLABUS_NAME", "item", "valid_ids", "sequence_items",
           "MOCK_SIZE", "MOCK_MINUTES", "WEAK_BELOW", "OUTSIDE_SECTIONS"]

SYLLABUS_NAME = "JDLA E資格 シラバス2024"
OUTSIDE = "x"
MOCK_SIZE = 100          # the real exam: about 100 questions ...
MOCK_MINUTES = 120       # ... in 120 minutes (JDLA's exam outline)
WEAK_BELOW = 0.6         # an item scored below this share is reported as weak (the course's threshold)


@dataclass(frozen=True)
class Item:
    id: str
    en: str
    ja: str
    keywords_en: str
    keywords_ja: str
    weight: int = 0                 # questions per 100 in the mock exam (0: never drawn)
    sequence: bool = False          # a sequence-model item: the bank must cover it with >= 12 questions
    taught: tuple = ()              # book labels of the sections that teach it


ITEMS = (
    Item("1-2", "Information theory", "情報理論",
         "entropy, cross-entropy, KL divergence", "エントロピー、交差エントロピー、KLダイバージェンス",
         weight=4, taught=("sec-bptt-loss", "sec-hred-kl")),
    Item("3-1", "Feed-forward networks", "順伝播型ネットワーク",
         "softmax, cross-entropy loss, backpropagation and the chain rule",
         "ソフトマックス、交差エントロピー損失、誤差逆伝播法と連鎖律",
         weight=5, taught=("sec-unfolding-vanilla", "sec-bptt-loss")),
    Item("3-4", "Convolutional neural networks", "畳み込みニューラルネットワーク",
         "output size of a convolution (taught outside this course)",
         "畳み込みの出力サイズ（本コースの範囲外で学ぶ）",
         weight=1, taught=()),
    Item("3-5-1", "Recurrent neural networks: forward pass, BPTT, bidirectional RNNs",
         "リカレントニューラルネットワーク: 順伝播、BPTT、双方向RNN",
         "unfolding, parameter sharing, BPTT, truncated BPTT, bidirectional RNN",
         "展開、パラメータ共有、通時的誤差逆伝播（BPTT）、打ち切りBPTT、双方向RNN",
         weight=16, sequence=True,
         taught=("ch-unfolding", "ch-bptt", "sec-birnn", "sec-birnn-backward")),
    Item("3-5-2", "Gating: vanishing gradients, LSTM, GRU", "ゲート機構: 勾配消失、LSTM、GRU",
         "vanishing and exploding gradients, gradient clipping, LSTM, CEC, peepholes, GRU",
         "勾配消失・勾配爆発、勾配クリッピング、LSTM、CEC、覗き穴結合、GRU",
         weight=16, sequence=True,
         taught=("sec-bptt-vanishing", "sec-bptt-clipping", "ch-lstm", "ch-gru")),
    Item("3-5-3", "Sequence transduction: encoder-decoder, seq2seq, attention",
         "系列変換: エンコーダ・デコーダ、seq2seq、注意機構",
         "encoder-decoder, teacher forcing, greedy and beam search, attention",
         "エンコーダ・デコーダ、教師強制、貪欲法とビームサーチ、注意機構",
         weight=14, sequence=True, taught=("ch-seq2seq", "sec-attention-mechanism", "sec-attention-decoder")),
    Item("3-6-1", "Transformer", "Transformer",
         "self-attention, scaled dot-product attention, source-target attention, masked attention, "
         "multi-head attention, positional encoding",
         "Self-Attention、Scaled Dot-Product Attention、Source-Target Attention、Masked Attention、"
         "Multi-Head Attention、Positional Encoding",
         weight=18, sequence=True,
         taught=("sec-attention-self", "sec-tf-multihead", "sec-tf-masks", "sec-tf-positional",
                 "sec-tf-layernorm", "sec-tf-blocks")),
    Item("4-4-1", "Word embeddings", "単語埋め込み（WordEmbedding）",
         "word2vec, skip-gram, CBOW, negative sampling", "word2vec、スキップグラム、CBOW、負例サンプリング",
         weight=10, sequence=True, taught=("ch-word2vec",)),
    Item("4-4-2", "BERT", "BERT",
         "masked language model, pre-training and fine-tuning", "マスク言語モデル、事前学習とファインチューニング",
         weight=5, sequence=True, taught=("sec-tf-pretraining", "sec-tf-decoding")),
    Item("4-4-3", "GPT-n", "GPT-n",
         "causal (next-token) language model, pre-training", "因果的（次トークン予測）言語モデル、事前学習",
         weight=5, sequence=True, taught=("sec-tf-pretraining", "sec-tf-decoding")),
    Item("4-5", "Generative models", "生成モデル",
         "autoencoder, variational autoencoder, reparameterisation", "自己符号化器、変分自己符号化器、再パラメータ化",
         weight=6, taught=("sec-hred-autoencoder", "sec-hred-vae")),
    Item(OUTSIDE, "Outside the E資格 syllabus", "E資格の範囲外",
         "recursive networks, echo state networks, leaky units, deep transitions, HRED/VHRED, chapter 12",
         "再帰的ニューラルネットワーク、エコーステートネットワーク、リーキーユニット、HRED/VHRED、第12章",
         weight=0),
)
SYLLABUS = {it.id: it for it in ITEMS}

# Book sections (labels) outside the syllabus: they carry the badge of render.OUTSIDE_SYLLABUS_BADGE.
# A chapter label means the whole chapter.
OUTSIDE_SECTIONS = (
    "sec-unfolding-graphical",                                     # RNNs as directed graphical models
    "ch-long-term",                                                # ESN, leaky units, skips, memory
    "sec-deep", "sec-birnn-2d",                                    # deep RNNs, four-direction RNNs
    "ch-recursive",
    "sec-hred-hred", "sec-hred-vhred",                             # HRED, VHRED
    "ch-beyond-lstm",
)


def item(item_id: str) -> Item:
    try:
        return SYLLABUS[item_id]
    except KeyError:
        raise KeyError(f"unknown syllabus item {item_id!r}; known: {', '.join(SYLLABUS)}") from None


def valid_ids() -> tuple:
    return tuple(SYLLABUS)


def sequence_items() -> tuple:
    return tuple(it for it in ITEMS if it.sequence)
