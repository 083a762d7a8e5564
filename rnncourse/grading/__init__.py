"""Grading: ``check`` for students; ``release`` and the autograder for instructors.

The autograder is split along its trust boundary: :mod:`.sandbox` is what runs inside the sandbox
(and ``check``'s engine), :mod:`.judge` is the trusted side (registry, references, sandbox set-up,
judging, reports), which the sandbox never sees.
"""
from .check import CheckResult, check

__all__ = ["check", "CheckResult"]
