"""The raw-TeX detector that make book runs over the built HTML (tests/built_html.py)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from built_html import check_tree, raw_tex  # noqa: E402


def page(body: str) -> str:
    return f"<html><body><main>{body}</main></body></html>"


def test_rendered_math_code_and_outputs_are_not_flagged():
    html = page('<p>The gradient <span class="math notranslate nohighlight">\\(\\frac{a}{b}\\)</span> '
                'and code <code>x = a_{1}</code>.</p>'
                '<div class="math notranslate nohighlight">\\[\\sum_t L^{(t)}\\]</div>'
                '<div class="cell_output"><pre>cost $5 \\frac</pre></div>'
                '<script>var s = "$x$";</script><p>It costs 5 dollars.</p>')
    assert raw_tex(html) == []


@pytest.mark.parametrize("prose", [
    "<li>512 \\frac{1}{2}$ digits</li>",          # the list-item slip of chapter 8's exercise
    "<p>where $h_t$ is the state</p>",            # unbalanced or unparsed dollar math
    "<p>the sum \\sum over steps</p>",
    "<p>x^{2} and y_{t}</p>",
])
def test_raw_tex_in_prose_is_flagged(prose):
    assert raw_tex(page(prose)), prose


def test_check_tree_reports_pages_and_skips_static(tmp_path: Path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_static").mkdir()
    (tmp_path / "book" / "good.html").write_text(page("<p>fine</p>"))
    (tmp_path / "book" / "bad.html").write_text(page("<p>a \\frac{1}{2} b</p>"))
    (tmp_path / "_static" / "x.html").write_text(page("<p>\\frac{1}{2}</p>"))
    assert list(check_tree(tmp_path)) == ["book/bad.html"]
