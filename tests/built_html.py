"""Checks over the built book that Sphinx's -W does not make: TeX that escaped the math renderer.

A MyST parse slip (a line inside ``$...$`` that starts with ``+ 512`` becomes a list item; an
unbalanced ``$``) leaves raw TeX in the page: the reader sees ``$\\frac{a}{b}`` instead of a formula,
and the build still succeeds without a warning. This script reads every HTML page of a build and
reports text outside math, code and output elements that still looks like TeX.

Usage: python tests/built_html.py _build/html     (exit status 1 and a list when something is found)
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


def check_tree(root: Path) -> dict[str, list[str]]:
    """{page: snippets} for every HTML page under ``root`` with raw TeX in its prose."""
    problems = {}
    for page in sorted(root.rglob("*.html")):
        if any(part.startswith("_") for part in page.relative_to(root).parts[:-1]):
            continue                                   # _static, _sources, _images ...
        if page.name in {"search.html", "genindex.html"}:
            continue
        snippets = raw_tex(page.read_text(encoding="utf-8", errors="replace"))
        if snippets:
            problems[str(page.relative_to(root))] = snippets
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "_build/html")
    if not root.is_dir():
        print(f"{root}: no built book here (run make book first)", file=sys.stderr)
        return 2
    problems = check_tree(root)
    pages = len(list(root.rglob("*.html")))
    if not problems:
        print(f"built HTML: no raw TeX outside math in {pages} pages")
        return 0
    print(f"raw TeX outside math elements (a MyST parse slip?) in {len(problems)} page(s):")
    for page, snippets in problems.items():
        for s in snippets:
            print(f"  {page}: ...{s}...")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
