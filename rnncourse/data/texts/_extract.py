"""Rebuild the shipped texts from the Debian source package they come from (not imported).

    apt-get source --download-only sentencepiece        # needs a deb-src line for bookworm
    tar xzf sentencepiece_0.1.97.orig.tar.gz sentencepiece-0.1.97/data
    python rnncourse/data/texts/_extract.py sentencepiece-0.1.97/data

Writes ``botchan_en.txt`` and ``neko_ja.txt`` beside this file (see README.md): Project Gutenberg's
header, licence, footer and the transcriber's list of the print's typos are removed from
the English text; Aozora Bunko's notation (ruby in
double angle brackets, the ruby start mark, the editors' notes in full-width [# ...]) and its front and back matter are
removed from the Japanese one, which is then cut after its first ``JA_CHAPTERS`` chapters.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
JA_CHAPTERS = 2


def english(raw: str) -> str:
    lines = raw.replace("\r\n", "\n").lstrip("\ufeff").split("\n")
    start = next(i for i, s in enumerate(lines) if s.startswith("*** START OF THIS PROJECT"))
    end = next(i for i, s in enumerate(lines) if s.startswith("End of Project Gutenberg"))
    body = [s for s in lines[start + 1:end] if not s.startswith("Produced by")]
    body = body[:body.index("--(THE END)--") + 1]      # drop the transcriber's list of typos
    return "\n".join(body).strip() + "\n"


def japanese(raw: str) -> str:
    text = raw.replace("\r\n", "\n").lstrip("\ufeff")
    text = text.split("-" * 55 + "\n", 2)[2]           # title, author and the notation key
    text = text.split("\n\u5e95\u672c\uff1a", 1)[0]   # "teihon:", the bibliographic back matter
    text = re.sub("\u300a[^\u300b]*\u300b", "", text)  # ruby (readings of kanji)
    text = re.sub("\uff3b\uff03[^\uff3d]*\uff3d", "", text)  # editors' notes, layout marks
    text = text.replace("\uff5c", "")                 # where a ruby starts
    numerals = "\u4e00\u4e8c\u4e09\u56db\u4e94\u516d\u4e03\u516b\u4e5d\u5341"  # 1..10
    chapters = re.split(f"\n(?=[{numerals}]+\n)", "\n" + text)
    return "\n".join(c.strip("\n") for c in chapters[1:JA_CHAPTERS + 1]) + "\n"


def main(folder: str) -> None:
    src = Path(folder)
    en = english((src / "botchan.txt").read_text(encoding="utf-8"))
    ja = japanese((src / "wagahaiwa_nekodearu.txt").read_text(encoding="utf-8"))
    (HERE / "botchan_en.txt").write_text(en, encoding="utf-8")
    (HERE / "neko_ja.txt").write_text(ja, encoding="utf-8")
    for name, t in (("botchan_en.txt", en), ("neko_ja.txt", ja)):
        print(f"{name}: {len(t)} characters, {len(t.encode('utf-8'))} bytes, {len(set(t))} distinct")


if __name__ == "__main__":
    main(sys.argv[1])
