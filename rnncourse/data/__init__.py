"""Offline toy tasks, deterministic given a seed. Nothing is downloaded."""
from .chars import CharVocab, anbn_strings, next_char_batch

__all__ = ["CharVocab", "anbn_strings", "next_char_batch"]
