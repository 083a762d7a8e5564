"""Checks over the built book that Sphinx's -W does not make: TeX that escaped the math renderer.

A MyST parse slip (a line inside ``$...$`` that starts with ``+ 512`` becomes a list item; an
unbalanced ``$``) leaves raw TeX in the page: the reader sees ``$\\frac{a}{b}`` instead of a formula,
and the build still succeeds without a warning. This script reads every HTML page of a build and
reports text outside math, code and output elements that still looks like TeX.

Usage: python tests/built_html.py _build/html [_build/html/ja]   (exit status 1 and a list when something
is found). With two books (the Japanese edition of issue 14), every page must also carry the language
switcher, and its link must lead to a page that exists in the other book; and the second book's pages
must show exactly the equations, code and outputs of the first's (a translated math block that Sphinx
mangled into ``::`` builds without a warning).
``make book`` runs it after every build; tests/test_built_html.py tests the detector.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup

# elements whose text is not prose: math (Sphinx wraps it in .math for MathJax), code, outputs
_SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "math", "svg", "textarea", "title"}
_SKIP_CLASSES = {"math", "highlight", "cell_output", "output", "MathJax", "mjx-container", "headerlink"}
_TEX = re.compile(r"\\(?:frac|sum|prod|left|right|mathbf|mathrm|operatorname|partial|nabla|sqrt|tanh|"
                  r"sigma|alpha|beta|odot|top|cdot|begin|end|hat|tilde|log|exp|text)\b"
                  r"|\$[^\s$][^$]*\$?|\^\{|_\{")


def _skipped(tag) -> bool:
    for node in [tag, *tag.parents]:
        if getattr(node, "name", None) in _SKIP_TAGS:
            return True
        classes = node.get("class", []) if hasattr(node, "get") else []
        if any(c in _SKIP_CLASSES for c in classes):
            return True
    return False


def raw_tex(html: str) -> list[str]:
    """Snippets of prose in ``html`` that look like unrendered TeX."""
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup
    found = []
    for text in main.find_all(string=True):
        if not text.strip() or _skipped(text.parent):
            continue
        for m in _TEX.finditer(str(text)):
            start = max(0, m.start() - 30)
            found.append(str(text)[start:m.end() + 30].replace("\n", " ").strip())
    return found


def _pages(root: Path, skip: list[Path] = ()) -> list[Path]:
    """Content pages under ``root`` (not _static etc., search, genindex), minus those under ``skip``."""
    pages = []
    for page in sorted(root.rglob("*.html")):
        if any(part.startswith("_") for part in page.relative_to(root).parts[:-1]):
            continue                                   # _static, _sources, _images ...
        if page.name in {"search.html", "genindex.html"}:
            continue
        if any(page.is_relative_to(other) for other in skip):
            continue                                   # a nested book is checked on its own
        pages.append(page)
    return pages


def check_tree(root: Path, skip: list[Path] = ()) -> dict[str, list[str]]:
    """{page: snippets} for every HTML page under ``root`` with raw TeX in its prose."""
    problems = {}
    for page in _pages(root, skip):
        snippets = raw_tex(page.read_text(encoding="utf-8", errors="replace"))
        if snippets:
            problems[str(page.relative_to(root))] = snippets
    return problems


def switcher_problems(root: Path, skip: list[Path] = ()) -> dict[str, list[str]]:
    """{page: problem} for pages without the language switcher or whose switcher leads nowhere."""
    problems = {}
    for page in _pages(root, skip):
        html = page.read_text(encoding="utf-8", errors="replace")
        if "<meta http-equiv=\"Refresh\"" in html or 'http-equiv="refresh"' in html.lower():
            continue                                   # redirect stubs (index.html -> book/index.html)
        link = BeautifulSoup(html, "html.parser").find("a", class_="rnncourse-lang-switch")
        if link is None:
            problems[str(page.relative_to(root))] = ["no language switcher"]
            continue
        target = (page.parent / link["href"].split("#")[0]).resolve()
        if not target.is_file():
            problems[str(page.relative_to(root))] = [f"switcher leads to missing {link['href']}"]
    return problems


def _display_math(soup) -> list[str]:
    out = []
    for div in soup.find_all("div", class_="math"):
        for eqno in div.find_all("span", class_="eqno"):
            eqno.decompose()
        out.append(re.sub(r"\s+", " ", div.get_text()).strip())
    return out


def shared_content_problems(en_root: Path, ja_root: Path) -> dict[str, list[str]]:
    """{page: problems} where the Japanese page's equations or code/output blocks differ from the English
    page's. The two books share code, outputs and equations (issue 14); Sphinx re-parses a translated
    math block as MyST and prints ``::`` instead of the formula, which no warning reports."""
    problems = {}
    for page in _pages(ja_root):
        en_page = en_root / page.relative_to(ja_root)
        if not en_page.is_file():
            continue
        ja = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "html.parser")
        en = BeautifulSoup(en_page.read_text(encoding="utf-8", errors="replace"), "html.parser")
        found = []
        ja_math, en_math = _display_math(ja), _display_math(en)
        if ja_math != en_math:
            diff = [f"{j!r} instead of {e!r}" for j, e in zip(ja_math, en_math) if j != e][:3]
            found.append(f"display math differs ({len(ja_math)} vs {len(en_math)} equations): " + "; ".join(diff))
        ja_pre = [p.get_text() for p in ja.find_all("pre")]
        en_pre = [p.get_text() for p in en.find_all("pre")]
        if ja_pre != en_pre:
            diff = [f"{j[:60]!r} instead of {e[:60]!r}" for j, e in zip(ja_pre, en_pre) if j != e][:2]
            found.append(f"code/output blocks differ ({len(ja_pre)} vs {len(en_pre)}): " + "; ".join(diff))
        if found:
            problems[str(page.relative_to(ja_root))] = found
    return problems


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path("_build/html")]
    status = 0
    for root in roots:
        if not root.is_dir():
            print(f"{root}: no built book here (run make book first)", file=sys.stderr)
            return 2
    for root in roots:
        nested = [other for other in roots if other != root and other.resolve().is_relative_to(root.resolve())]
        problems = check_tree(root, nested)
        pages = len(_pages(root, nested))
        if not problems:
            print(f"built HTML {root}: no raw TeX outside math in {pages} pages")
        else:
            status = 1
            print(f"{root}: raw TeX outside math elements (a MyST parse slip?) in {len(problems)} page(s):")
            for page, snippets in problems.items():
                for s in snippets:
                    print(f"  {page}: ...{s}...")
        if len(roots) > 1:
            missing = switcher_problems(root, nested)
            if missing:
                status = 1
                print(f"{root}: language switcher problems in {len(missing)} page(s):")
                for page, why in missing.items():
                    print(f"  {page}: {why[0]}")
            else:
                print(f"built HTML {root}: every page links to the same page in the other language")
    if len(roots) == 2:
        shared = shared_content_problems(roots[0], roots[1])
        if shared:
            status = 1
            print(f"{roots[1]}: equations or code/output blocks differ from {roots[0]} in {len(shared)} page(s):")
            for page, why in shared.items():
                for w in why:
                    print(f"  {page}: {w}")
        else:
            print(f"built HTML {roots[1]}: the same equations, code and outputs as {roots[0]} on every page")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
