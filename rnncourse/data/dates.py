"""Date-format conversion (chapter 10): ``"september 27, 1994"`` -> ``"1994-09-27"``.

Dates are drawn uniformly from a range of years and written in one of several human formats, from
``"9/27/94"`` (7 symbols) to ``"wednesday, september 27, 1994"`` (29 symbols); the target is always
the ISO form ``yyyy-mm-dd``. Month and weekday names are spelled out here, not taken from the
locale, so the data are the same on every machine. Two-digit years follow one fixed pivot:
``yy >= 50`` is 19yy, otherwise 20yy (the default range of years is 1950-2049).
"""
from __future__ import annotations

import datetime as _dt
from typing import Sequence

import numpy as np

from .addition import BOS, EOS
from .chars import CharVocab

__all__ = ["DATE_FORMATS", "MONTHS", "WEEKDAYS", "date_vocab", "format_date", "date_pairs"]

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _fmt(d: _dt.date, name: str) -> str:
    month, day = MONTHS[d.month - 1], d.day
    table = {
        "m/d/yy": f"{d.month}/{day}/{d.year % 100:02d}",
        "dd.mm.yyyy": f"{day:02d}.{d.month:02d}.{d.year}",
        "mon d, yyyy": f"{month[:3]} {day}, {d.year}",
        "d mon yy": f"{day} {month[:3]} {d.year % 100:02d}",
        "month d, yyyy": f"{month} {day}, {d.year}",
        "d month yyyy": f"{day} {month} {d.year}",
        "weekday, month d, yyyy": f"{WEEKDAYS[d.weekday()]}, {month} {day}, {d.year}",
        "weekday d month yyyy": f"{WEEKDAYS[d.weekday()]} {day} {month} {d.year}",
    }
    return table[name]


DATE_FORMATS = ("m/d/yy", "dd.mm.yyyy", "mon d, yyyy", "d mon yy", "month d, yyyy",
                "d month yyyy", "weekday, month d, yyyy", "weekday d month yyyy")


def format_date(d: _dt.date, fmt: str) -> str:
    """Write ``d`` in the format ``fmt`` (one of :data:`DATE_FORMATS`).

    >>> format_date(_dt.date(1994, 9, 27), "month d, yyyy")
    'september 27, 1994'
    """
    if fmt not in DATE_FORMATS:
        raise ValueError(f"fmt: expected one of {DATE_FORMATS}, got {fmt!r}")
    return _fmt(d, fmt)


def date_vocab() -> CharVocab:
    """Every symbol that any format or the ISO target uses, plus :data:`BOS` and :data:`EOS`."""
    letters = sorted(set("".join(MONTHS + WEEKDAYS)))
    return CharVocab("0123456789" + "".join(letters) + " ,./-" + BOS + EOS)


def date_pairs(num: int, seed: int = 0, formats: Sequence[str] = DATE_FORMATS,
               years: tuple[int, int] = (1950, 2049)) -> list[tuple[str, str]]:
    """``num`` pairs ``(date in a random format, "yyyy-mm-dd")``, distinct as pairs.

    Args:
        num: number of pairs.
        seed: seed of the generator; the same seed gives the same list.
        formats: the formats to draw from uniformly (names from :data:`DATE_FORMATS`).
        years: first and last year, inclusive. Two-digit formats need a range within 1950-2049.
    """
    formats = tuple(formats)
    if not formats or any(f not in DATE_FORMATS for f in formats):
        raise ValueError(f"formats: expected a non-empty subset of {DATE_FORMATS}, got {formats}")
    y0, y1 = years
    if y0 > y1 or y0 < 1 or y1 > 9999:
        raise ValueError(f"years: expected first <= last within 1..9999, got {years}")
    if any("yy" in f and "yyyy" not in f for f in formats) and (y0 < 1950 or y1 > 2049):
        raise ValueError(f"years: two-digit-year formats need years within 1950-2049, got {years}")
    first = _dt.date(y0, 1, 1).toordinal()
    days = _dt.date(y1, 12, 31).toordinal() - first + 1
    if not 1 <= num <= days * len(formats) // 2:
        raise ValueError(f"num: expected 1 <= num <= {days * len(formats) // 2}, got {num}")
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, int]] = set()
    out: list[tuple[str, str]] = []
    while len(out) < num:
        k = int(rng.integers(days))
        f = int(rng.integers(len(formats)))
        if (k, f) in seen:
            continue
        seen.add((k, f))
        d = _dt.date.fromordinal(first + k)
        out.append((_fmt(d, formats[f]), d.isoformat()))
    return out
