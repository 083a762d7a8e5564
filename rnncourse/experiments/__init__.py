"""Experiment code shared by the book's chapters (torch training loops on toy tasks).

Import from the submodules, e.g. ``from rnncourse.experiments.memory_tasks import train_longlag``;
torch is only imported when such a module is.
"""
__all__: list[str] = []
