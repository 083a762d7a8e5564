"""Exercise registry, in-notebook checks, release (solutions -> exercises) and the autograder."""
from .check import CheckResult, check
from .registry import Exercise, Item, all_exercises, find_item, get_exercise

__all__ = ["check", "CheckResult", "Exercise", "Item", "all_exercises", "find_item", "get_exercise"]
