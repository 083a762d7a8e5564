"""Torch reference models (seq2seq, attention decoders, HRED/VHRED, beyond-LSTM cells).

Import from the submodules, e.g. ``from rnncourse.models.seq2seq import Seq2Seq``; torch is only
imported when a model module is.
"""
__all__: list[str] = []
