"""Subset webfont for the Japanese edition (issue 14, item 8): Japanese shows without a system font.

Writes ``book/_static/fonts/rnncourse-ja.woff``: Noto Sans JP (Regular, from Noto Sans CJK; SIL Open
Font License 1.1, ``book/_static/fonts/OFL.txt``) cut down to the kana, CJK punctuation, full-width
forms and every kanji that the book's sources, catalogues and question bank use. ``rnncourse.css``
loads it for those code points only (``unicode-range``), after the system fonts of the stack, so a
reader with Hiragino, Yu Gothic, Meiryo or Noto CJK installed never downloads it.
``tests/test_i18n.py`` fails when a translation uses a character the subset lacks; then rerun:

    .venv/bin/python locales/make_webfont.py [--font /path/NotoSansCJK-Regular.ttc]

(fontTools comes with matplotlib).

The source font is Debian's ``fonts-noto-cjk`` (``apt-get install fonts-noto-cjk``, or
``apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb x`` without installing it).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "book" / "_static" / "fonts" / "rnncourse-ja.woff"
DEFAULT_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

# code points always in the subset (and in the CSS unicode-range): CJK punctuation, kana, full-width
FIXED_RANGES = [(0x3000, 0x30FF), (0xFF00, 0xFFEF)]
# code points taken from the texts when used: CJK ideographs (unified + extension A), compatibility
TEXT_RANGES = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)]
UNICODE_RANGE = "U+3000-30FF, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF"


def in_ranges(ch: str, ranges) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in ranges)


def source_files() -> list[Path]:
    files = sorted((ROOT / "locales").rglob("*.po"))
    files += sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))
    files += sorted((ROOT / "rnncourse" / "quiz" / "bank").glob("*.json"))
    return files


def used_characters() -> set[str]:
    """Every character of the text ranges in the book's sources, catalogues and question bank."""
    chars = set()
    for path in source_files():
        chars |= {c for c in path.read_text(encoding="utf-8") if in_ranges(c, TEXT_RANGES)}
    return chars


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--font", type=Path, default=DEFAULT_FONT, help="Noto Sans CJK Regular (.ttc/.otf)")
    parser.add_argument("--font-number", type=int, default=0, help="index of the JP face in the .ttc (0)")
    args = parser.parse_args(argv)
    if not args.font.is_file():
        parser.error(f"{args.font}: not found (Debian: apt-get install fonts-noto-cjk; see --help)")
    from fontTools import subset
    from fontTools.ttLib import TTFont

    face = TTFont(args.font, fontNumber=args.font_number)
    family = face["name"].getDebugName(1)
    if "JP" not in family:
        parser.error(f"face {args.font_number} of {args.font} is {family!r}, not the JP one")
    cmap = face.getBestCmap()
    wanted = {chr(c) for lo, hi in FIXED_RANGES for c in range(lo, hi + 1)} | used_characters()
    missing = sorted(c for c in wanted if ord(c) not in cmap and in_ranges(c, TEXT_RANGES))
    unicodes = sorted(ord(c) for c in wanted if ord(c) in cmap)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    options = subset.Options()
    options.flavor = "woff"  # zlib: readable by fontTools without brotli (woff2 saved only ~12 %)
    options.font_number = args.font_number
    options.layout_features = ["kern", "palt", "halt", "liga", "ccmp", "locl"]  # no vertical forms
    options.name_IDs = ["*"]          # keep the copyright and licence records
    options.name_legacy = True
    options.name_languages = ["*"]
    options.hinting = False
    font = subset.load_font(str(args.font), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    subset.save_font(font, str(OUT), options)
    print(f"{OUT.relative_to(ROOT)}: {family}, {len(unicodes)} code points "
          f"({len(used_characters())} kanji from the texts), {OUT.stat().st_size // 1024} KiB")
    if missing:
        print(f"not in the font: {''.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
