"""Checks over the built book that Sphinx's -W does not make: TeX that escaped the math renderer.

A MyST parse slip (a line inside ``$...$`` that starts with ``+ 512`` becomes a list item; an
unbalanced ``$``) leaves raw TeX in the page: the reader sees ``$\\frac{a}{b}`` instead of a formula,
and the build still succeeds without a warning. This script reads every HTML page of a build and
reports text outside math, code and output elements that still looks like TeX.

Usage: python tests/built_html.py _build/html [_build/html/ja]   (exit status 1 and a list when something
is found). With two books (the Japanese edition of issue 14), every page must also carry the language
switcher, and its link must lead to a page that exists in the other book.
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
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
