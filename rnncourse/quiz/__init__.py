"""Exam-prep track: the bilingual question bank, the mock exam CLI, book rendering."""
from .bank import Question, load_bank, load_glossary
from .render import show_glossary, show_questions

__all__ = ["Question", "load_bank", "load_glossary", "show_questions", "show_glossary"]
