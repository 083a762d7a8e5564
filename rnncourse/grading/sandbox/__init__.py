"""What runs inside the grading sandbox, and ``check()`` in the student's own kernel.

This folder is copied as is into the *student kit*, the ``rnncourse`` that a sandbox sees. So it
imports nothing of :mod:`rnncourse.grading.judge` (registry, references, judge): only the standard
library, numpy and, in the cell runner, IPython. Nothing here is trusted by the grader; it runs in
the student's process, which may rewrite any of it. The grader reads what comes back as plain data.
"""
__all__: list[str] = []
