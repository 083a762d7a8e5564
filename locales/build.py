"""Build driver of the Japanese edition (issue 14): Jupyter Book's own Sphinx call, with overrides.

Usage (from the repository root, with .venv/bin/python; ``make po`` and ``make book`` call it):

    python locales/build.py pot [OUTDIR]                      # message templates (.pot), one per document
    python locales/build.py ja [-W]                           # the Japanese book into _build/html/ja
    python locales/build.py page book/04_lstm [--lang ja]     # incremental book, prints the page's path

Every variant uses ``_config.yml`` exactly as ``jupyter-book build .`` does. ``pot`` executes nothing
(messages come from the sources; code-cell outputs are never messages, see rnncourse_i18n.py). ``ja``
and ``page`` use the one execution cache ``_build/.jupyter_cache``, so notebooks executed by the
English build are not executed again (a notebook whose code changed since is executed once and
cached for the next build). Each variant has its own doctree directory, so the English and Japanese
environments never mix.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"


def book_documents() -> list[str]:
    """Docnames of the book, in table-of-contents order (from _toc.yml)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            docs.append(chapter["file"])
            docs.extend(s["file"] for s in chapter.get("sections", []))
    return docs


def metadata_captions(notebook: Path) -> list[str]:
    """Figure captions set in cell metadata (``mystnb.figure.caption``), as Sphinx's msgids."""
    import json

    captions = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        figure = ((cell.get("metadata") or {}).get("mystnb") or {}).get("figure") or {}
        if figure.get("caption"):
            captions.append(figure["caption"].replace("\n", " ").strip())
    return captions


def add_metadata_captions(pot_dir: Path) -> None:
    """Append to each notebook's .pot the figure captions of its cell metadata that are missing.

    Without execution a code cell has no output, so the figure that carries a metadata caption is
    not rendered and its caption is not extracted; with the execution cache it is (same msgid).
    """
    from babel.messages.pofile import read_po, write_po

    for doc in book_documents():
        notebook, pot = ROOT / f"{doc}.ipynb", pot_dir / f"{doc}.pot"
        if not notebook.is_file() or not pot.is_file():
            continue
        with pot.open("rb") as f:
            catalogue = read_po(f)
        added = False
        for caption in metadata_captions(notebook):
            if caption not in catalogue:
                catalogue.add(caption, auto_comments=["figure caption (cell metadata)"])
                added = True
        if added:
            with pot.open("wb") as f:
                write_po(f, catalogue, width=0, omit_header=False)


def run(builder: str, outdir: Path, doctrees: Path, overrides: dict, warnings_are_errors: bool,
        quiet: bool = False) -> int:
    from jupyter_book.sphinx import build_sphinx

    config = {"nb_execution_cache_path": str(CACHE), "latex_individualpages": False}
    config.update(overrides)
    result = build_sphinx(
        str(ROOT),
        str(outdir),
        use_external_toc=True,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=config,
        builder=builder,
        doctreedir=str(doctrees),
        warningiserror=warnings_are_errors,
        keep_going=warnings_are_errors,
        quiet=quiet,
    )
    if isinstance(result, Exception):
        raise result
    return int(result or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p_pot = sub.add_parser("pot", help="message templates (.pot) for every document")
    p_pot.add_argument("outdir", nargs="?", default=str(ROOT / "_build" / "gettext"))
    p_pot.add_argument("--execution", default="off", choices=["off", "cache"],
                       help="'off' (default) executes nothing and adds the figure captions of cell "
                            "metadata from the notebooks; 'cache' renders outputs from the execution "
                            "cache (executing notebooks that changed): the same messages")
    p_pot.add_argument("--doctrees", default=None)
    p_pot.add_argument("-q", "--quiet", action="store_true")
    p_ja = sub.add_parser("ja", help="the Japanese book into _build/html/ja")
    p_ja.add_argument("-W", action="store_true", help="warnings are errors (as make book)")
    p_page = sub.add_parser("page", help="incremental build of one language's book, for translators")
    p_page.add_argument("docname", help="e.g. book/04_lstm")
    p_page.add_argument("--lang", default="ja", choices=["ja", "en"])
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    if args.what == "pot":
        overrides = {"nb_execution_mode": args.execution}
        doctrees = Path(args.doctrees) if args.doctrees else ROOT / "_build" / ".doctrees-gettext"
        code = run("gettext", Path(args.outdir), doctrees, overrides, False, quiet=args.quiet)
        if code == 0 and args.execution == "off":
            add_metadata_captions(Path(args.outdir))
        return code
    if args.what == "ja":
        return run("html", ROOT / "_build" / "html" / "ja", ROOT / "_build" / ".doctrees-ja",
                   {"language": "ja", "nitpicky": args.W}, args.W)
    # one document: an incremental build of that language's book (Sphinx re-reads only the documents
    # whose source or catalogue changed, so after the first build this takes seconds), -W as make book
    docname = args.docname.removesuffix(".ipynb").removesuffix(".md")
    docs = book_documents()
    if docname not in docs:
        parser.error(f"{docname!r} is not in _toc.yml; documents: {', '.join(docs)}")
    if args.lang == "ja":
        out, doctrees, overrides = ROOT / "_build" / "html" / "ja", ROOT / "_build" / ".doctrees-ja", {"language": "ja"}
    else:
        out, doctrees, overrides = ROOT / "_build" / "html", ROOT / "_build" / ".doctrees", {}
    code = run("html", out, doctrees, overrides, True)
    print(f"Open {out / (docname + '.html')}")
    return code

if __name__ == "__main__":
    sys.exit(main())
