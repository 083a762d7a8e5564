"""rnncourse: an open course on recurrent neural networks.

Subpackages: ``layers`` (numpy forward/backward), ``models`` (torch), ``data`` (offline toy tasks),
``grading`` (check, release, autograder); modules ``gradcheck`` and ``plot``.
"""
__version__ = "0.1.0"
__all__ = ["__version__"]
