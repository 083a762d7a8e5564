"""The quiz's pointers into the book in Japanese: the Japanese edition's titles and its pages (issue 14)."""
from __future__ import annotations

from rnncourse.quiz.book import book_sections, japanese_titles, section_url


def test_japanese_description_uses_the_translated_titles():
    sections = book_sections()
    sec = sections["sec-tf-decoding"]
    ja = sec.describe("ja")
    assert ja.startswith("第13章「")
    assert sec.chapter not in ja and sec.title not in ja       # both titles come from the catalogue
    titles = japanese_titles("book/13_transformer")
    assert ja == f"第13章「{titles[sec.chapter]}」の節「{titles[sec.title]}」"
    assert sec.describe("en") == f"chapter 13 “{sec.chapter}”, section “{sec.title}”"


def test_a_title_without_translation_stays_english(tmp_path):
    assert japanese_titles("book/13_transformer", catalogues=tmp_path) == {}


def test_japanese_links_go_to_the_japanese_edition():
    sec = book_sections()["sec-lstm-cec"] if "sec-lstm-cec" in book_sections() else next(iter(book_sections().values()))
    en, ja = section_url(sec, base="https://x.org/book"), section_url(sec, base="https://x.org/book", lang="ja")
    assert en == f"https://x.org/book/{sec.file}.html#{sec.label}"
    assert ja == f"https://x.org/book/ja/{sec.file}.html#{sec.label}"
