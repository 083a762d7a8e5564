"""The trusted side of the autograder: it runs only in the grader's process, never in a sandbox.

:mod:`.registry` and :mod:`.exercises` (what is graded, the references), :mod:`.kit` (what a sandbox
may see), :mod:`.jail` (the sandbox itself), :mod:`.session` (running one notebook there),
:mod:`.judge` (points from plain data), :mod:`.grade` (a batch), :mod:`.report`,
:mod:`.similarity`, :mod:`.bundle` (Gradescope) and :mod:`.cli`.
"""
__all__: list[str] = []
