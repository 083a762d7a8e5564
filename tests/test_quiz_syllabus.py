"""The question bank against the E資格 syllabus: tags, coverage, the seed's 確認テスト, the kinds of
questions, the Japanese terms, formulas, and the book pages that show them (exam page, badge)."""
import json
import re
from pathlib import Path

import pytest

from rnncourse.quiz.bank import BankError, filter_syllabus, load_bank, load_glossary
from rnncourse.quiz.book import book_labels, book_sections
from rnncourse.quiz.render import (OUTSIDE_SYLLABUS_BADGE, questions_markdown, sample_questions,
                                   syllabus_markdown, syllabus_section)
from rnncourse.quiz.syllabus import ITEMS, OUTSIDE, OUTSIDE_SECTIONS, SYLLABUS, sequence_items
from rnncourse.quiz.texmath import plain

ROOT = Path(__file__).resolve().parents[1]
BANK = load_bank()
BY_ID = {q.id: q for q in BANK}
LABELS = book_labels(ROOT / "book")
GLOSSARY = load_glossary()

# Items the book does not teach yet (none since chapter 13 teaches BERT and GPT-n). An item listed
# here may have no question; as soon as a chapter teaches it, it needs 12 questions like the others.
NOT_TAUGHT_YET: set[str] = set()


def _texts(q, lang):
    t = q.text[lang]
    yield t["question"]
    yield t["explanation"]
    if q.kind == "choice":
        yield from t["choices"]


# -- tags ----------------------------------------------------------------------------------------

def test_every_question_carries_valid_syllabus_items():
    for q in BANK:
        assert q.syllabus, q.id
        assert set(q.syllabus) <= set(SYLLABUS), q.id
        assert OUTSIDE not in q.syllabus or q.syllabus == (OUTSIDE,), q.id


def test_every_sequence_model_item_has_twelve_questions():
    counts = {it.id: sum(it.id in q.syllabus for q in BANK) for it in sequence_items()}
    pending = {i for i, n in counts.items()
               if n == 0 and not any(label in LABELS for label in SYLLABUS[i].taught)}
    assert pending <= NOT_TAUGHT_YET, f"sequence-model items without any question: {pending - NOT_TAUGHT_YET}"
    short = {i: n for i, n in counts.items() if i not in pending and n < 12}
    assert not short, f"sequence-model items with fewer than 12 questions: {short}"


def test_bert_gpt_and_transformer_items_point_to_the_transformer_chapter():
    assert {"4-4-2", "4-4-3", "3-6-1"} <= {it.id for it in sequence_items()}
    for i in ("4-4-2", "4-4-3"):
        assert "sec-tf-pretraining" in SYLLABUS[i].taught, i
    assert {"sec-tf-multihead", "sec-tf-masks", "sec-tf-positional", "sec-tf-blocks"} <= set(
        SYLLABUS["3-6-1"].taught)
    for i in ("4-4-2", "4-4-3", "3-6-1"):
        assert all(LABELS[label] == "book/13_transformer" for label in SYLLABUS[i].taught
                   if label.startswith("sec-tf")), i


def test_questions_on_parts_outside_the_syllabus_are_tagged_x():
    outside_chapters = {LABELS[label] for label in OUTSIDE_SECTIONS if label.startswith("ch-")}
    for q in BANK:
        if LABELS[q.ref] in outside_chapters:
            assert q.syllabus == (OUTSIDE,), f"{q.id} sits in a chapter outside the syllabus"
        if q.ref in OUTSIDE_SECTIONS and q.syllabus != ("3-4",):    # the convolution 確認テスト
            assert q.syllabus == (OUTSIDE,), f"{q.id} sits in a section outside the syllabus"


def test_the_outside_sections_and_taught_labels_exist():
    for label in OUTSIDE_SECTIONS:
        assert label in LABELS, label
    for it in ITEMS:
        for label in it.taught:
            assert label in LABELS, (it.id, label)


def test_syllabus_filter_matches_prefixes():
    assert {q.id for q in filter_syllabus(BANK, ["3-5"])} == {
        q.id for q in BANK if any(t in ("3-5-1", "3-5-2", "3-5-3") for t in q.syllabus)}
    assert all(q.syllabus == (OUTSIDE,) for q in filter_syllabus(BANK, ["x"]))
    with pytest.raises(BankError, match="unknown item"):
        filter_syllabus(BANK, ["3-9"])


def _one_file_bank(tmp_path, mutate):
    good = json.loads((ROOT / "rnncourse/quiz/bank/01_unfolding.json").read_text(encoding="utf-8"))
    mutate(good)
    (tmp_path / "01_unfolding.json").write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
    return lambda: load_bank(bank_dir=tmp_path)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["questions"][0].pop("syllabus"), "syllabus: a non-empty list"),
    (lambda d: d["questions"][0].update(syllabus=[]), "syllabus: a non-empty list"),
    (lambda d: d["questions"][0].update(syllabus=["3-5-9"]), "unknown item '3-5-9'"),
    (lambda d: d["questions"][0].update(syllabus=["x", "3-5-1"]), "cannot be combined"),
    (lambda d: d["questions"][0].update(scenario="nowhere"), "scenario 'nowhere'"),
    (lambda d: d["questions"][0]["en"].update(question="an unpaired $ sign"), "unpaired"),
    (lambda d: d["questions"][0].update(source={"en": "somewhere"}), "source must give"),
])
def test_schema_errors_name_the_problem(tmp_path, mutate, message):
    load = _one_file_bank(tmp_path, mutate)
    with pytest.raises(BankError, match=re.escape(message)):
        load()


def test_glossary_cells_cannot_contain_a_pipe(tmp_path):
    (tmp_path / "glossary.json").write_text(json.dumps(
        [{"en": "t", "ja": "用語", "definition": "p(x | z)", "ref": "ch-unfolding"}]), encoding="utf-8")
    with pytest.raises(BankError, match="no '\\|'"):
        load_glossary(bank_dir=tmp_path)


# -- the seed's 確認テスト and the kinds of questions -----------------------------------------------

def test_all_eleven_confirmation_tests_of_seed_002_are_in_the_bank():
    seeded = [q for q in BANK if q.source and "shared/seeds/002" in q.source["en"]]
    tests = set()
    for q in seeded:
        m = re.search(r"確認テスト (\d+) \(([^)]*)\)", q.source["en"])
        assert m, q.source["en"]
        tests.add((m.group(2), int(m.group(1))))
        assert "確認テスト" in q.source["ja"] and "ラビット・チャレンジ" in q.source["ja"]
    assert len(seeded) == len(tests) == 11, sorted(tests)
    per_section = {}
    for section, n in tests:
        per_section.setdefault(section, set()).add(n)
    assert sorted(len(v) for v in per_section.values()) == [1, 1, 2, 3, 4]     # RNN 4, LSTM 1, GRU 2, ...
    conv = [q for q in seeded if q.syllabus == ("3-4",)]
    assert len(conv) == 1
    assert "Outside the RNN chapters" in conv[0].text["en"]["question"]
    assert "RNN の章の範囲外" in conv[0].text["ja"]["question"]


def test_parameter_count_trivia_and_experiment_questions_are_gone():
    counts = [q.id for q in BANK if q.compute and q.compute["fn"].endswith("_param_count")]
    assert len(counts) <= 2, counts
    for q in BANK:
        question = q.text["en"]["question"]
        assert not re.search(r"torch\.nn\.\w+\([^)]*\).{0,40}(report|parameters)", question), q.id
        assert not re.search(r"\bchapter'?s?\b", question.replace("Outside the RNN chapters", "")), q.id
        assert "本章" not in q.text["ja"]["question"], q.id


def test_exam_style_kinds_are_well_represented():
    code = [q for q in BANK if q.kind == "code"]
    assert sum("torch" in q.code or "nn." in q.code for q in code) >= 10, "PyTorch fill-ins"
    assert sum("np." in q.code for q in code) >= 15, "numpy fill-ins"
    figures = [q for q in BANK if q.figure or (q.scenario and q.scenario_text["figure"])]
    assert len(figures) >= 6, "diagram-reading questions"
    shapes = [q for q in BANK if re.search(r"shape", q.text["en"]["question"])]
    assert len(shapes) >= 5


# -- Japanese ---------------------------------------------------------------------------------------

def _all_japanese():
    for q in BANK:
        yield q.id, " ".join(_texts(q, "ja"))
        if q.scenario:
            yield q.id, q.scenario_text["ja"]
    for e in GLOSSARY:
        yield e["en"], e["ja"] + " " + e["definition"]


def test_one_japanese_name_for_additive_and_multiplicative_attention():
    for where, text in _all_japanese():
        assert "乗法的注意" not in text and "加法的注意" not in text, where
    names = {e["en"]: e["ja"] for e in GLOSSARY}
    assert names["additive attention"].startswith("加法注意")
    assert names["multiplicative attention"].startswith("乗法注意")


def test_hred_is_recurrent_not_recursive_in_japanese():
    hred = next(e for e in GLOSSARY if e["en"].startswith("hierarchical recurrent encoder-decoder"))
    assert "リカレント" in hred["ja"] and "再帰" not in hred["ja"]
    chapter = (ROOT / "book/09_hred_vhred.ipynb").read_text(encoding="utf-8")
    assert "階層型リカレントエンコーダ・デコーダ" in chapter and "階層型再帰" not in chapter
    for where, text in _all_japanese():
        assert "再帰結合" not in text, where              # a recurrent connection is 回帰結合


def test_coined_terms_are_not_presented_as_standard():
    for where, text in _all_japanese():
        assert "覗き見デコーダ" not in text and "リセット後置" not in text, where
    names = {e["en"]: e for e in GLOSSARY}
    assert "ゼロから作るDeep Learning" in names["peeky decoder"]["ja"]
    assert "本コース" in names["reset-after formulation (cuDNN-style GRU)"]["ja"]
    assert "course's own rendering" in names["reset-after formulation (cuDNN-style GRU)"]["definition"]


def test_recursive_network_question_reads_naturally():
    q = BY_ID["07_recursive.q07"]
    assert "どの木の上の" not in q.text["ja"]["question"]
    assert "特定の形の木" in q.text["ja"]["question"]


# -- formulas ---------------------------------------------------------------------------------------

_ASCII_MATH = re.compile(r"\b[a-zA-Z]~?\((t|t-1|t\+1|τ)\)|\^|(?<![`\w])[A-Za-z]_[A-Za-z0-9]|sqrt\(|\|\||"
                         r"\b(exp|log|tanh|softmax)\(|σ\(|⊙|∂|∇|\b\d+ x \d+\b")


def test_formulas_are_tex_for_the_book_and_unicode_for_the_terminal():
    for q in BANK:
        for lang in ("en", "ja"):
            for s in _texts(q, lang):
                outside = re.sub(r"`[^`]*`", "", re.sub(r"\$[^$]*\$", "", s))
                m = _ASCII_MATH.search(outside)
                assert not m, f"{q.id} {lang}: ASCII math outside $...$: ...{outside[max(0, m.start() - 30):m.end() + 30]}"
                assert "\\" not in plain(s), (q.id, plain(s))
        if q.scenario:
            for lang in ("en", "ja"):
                assert "\\" not in plain(q.scenario_text[lang]), q.id
    for e in GLOSSARY:
        outside = re.sub(r"`[^`]*`", "", re.sub(r"\$[^$]*\$", "", e["definition"]))
        assert not _ASCII_MATH.search(outside), (e["en"], outside)
        assert "\\" not in plain(e["definition"]), e["en"]


# -- what the book shows -------------------------------------------------------------------------------

def test_rendered_questions_show_ids_tags_sources_and_scenarios_once():
    qs = [q for q in BANK if q.chapter == "04_lstm"]
    md = questions_markdown(qs, "tabs")
    for q in qs:
        assert md.count(f"`{q.id}`") == 2                    # one per language tab
    assert md.count("E資格 3-5-2") == 2 * len(qs)
    scenario = next(q for q in qs if q.scenario)
    assert md.count(scenario.scenario_text["en"]) == 1 and md.count(scenario.scenario_text["ja"]) == 1
    assert md.count("```text") == 2                            # the cell diagram, once per language
    assert "*Source: Paraphrased from 確認テスト 1 (LSTM の節)" in md and "*出典: ラビット・チャレンジ" in md
    outside = questions_markdown([BY_ID["07_recursive.q01"]], "en")
    assert "E資格 outside the syllabus" in outside


def test_tabs_nest_their_fences():
    md = questions_markdown(BANK[:3], "tabs")
    lines = md.splitlines()
    assert lines[0] == "::::::{tab-set}" and lines[-1] == "::::::"
    assert [l for l in lines if l.startswith(":::::{tab-item}")] == [":::::{tab-item} English",
                                                                      ":::::{tab-item} 日本語"]
    assert md.count(":::{admonition}") == 6


def test_exam_page_syllabus_table_counts_and_links():
    table = syllabus_markdown(BANK, "en", LABELS)
    rows = [r for r in table.splitlines()[2:]]
    assert len(rows) == len(ITEMS)
    for it, row in zip(ITEMS, rows):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0].split()[0] == it.id
        assert int(cells[4]) == sum(it.id in q.syllabus for q in BANK)
        assert int(cells[5]) == it.weight
        for label in it.taught:
            assert f"{{ref}}`{label}`" in cells[3]
    section = syllabus_section(BANK, LABELS)
    assert section.count("{tab-item}") == 2
    assert ("Not taught yet" in section) == any(
        not any(it.id in q.syllabus for q in BANK) for it in sequence_items())


def test_exam_page_builds_from_these_helpers_in_tabs():
    nb = json.loads((ROOT / "book/exam.ipynb").read_text(encoding="utf-8"))
    source = "\n".join("".join(c["source"]) for c in nb["cells"])
    assert "syllabus_section(bank)" in source and "sample_questions(bank" in source
    assert source.count("{tab-set}") >= 2 and "(exam-prep)=" in source
    assert not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    md = sample_questions(BANK, n=20, seed=2026)
    assert md.count(":::{admonition} Answer") >= 20 and md.count(":::{admonition} 解答") >= 20
    assert "E資格 outside the syllabus" not in md


def test_badge_markdown_and_style():
    assert ":class: outside-syllabus" in OUTSIDE_SYLLABUS_BADGE
    assert "Outside the E資格 syllabus" in OUTSIDE_SYLLABUS_BADGE and "E資格の範囲外" in OUTSIDE_SYLLABUS_BADGE
    css = (ROOT / "book/_static/rnncourse.css").read_text(encoding="utf-8")
    assert ".admonition.outside-syllabus" in css


def test_every_part_outside_the_syllabus_shows_the_badge():
    sections = book_sections(ROOT / "book")
    missing = []
    for label in OUTSIDE_SECTIONS:
        nb = json.loads((ROOT / (sections[label].file + ".ipynb")).read_text(encoding="utf-8"))
        cell = next("".join(c["source"]) for c in nb["cells"]
                    if c["cell_type"] == "markdown" and f"({label})=" in "".join(c["source"]))
        after = cell.split(f"({label})=", 1)[1]
        nxt = re.search(r"^\([\w\-.:]+\)=\s*$", after, re.M)      # the next section's label, if any
        if "outside-syllabus" not in (after[:nxt.start()] if nxt else after):
            missing.append(label)
    assert not missing, f"no badge under: {missing}"
