"""Serve MathJax 3 from the built site so the book's math renders with no network.

Used as a Sphinx extension from ``_config.yml``. MathJax itself comes from the PyPI package
``django-static-mathjax`` (installed by ``make setup``); nothing third-party is committed. The
files are copied into ``_build/html/_static/mathjax`` after the build: copying them into the source
``_static`` would make Jupyter Book add a script tag for every ``.js`` file there.
"""
from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["setup", "mathjax_source"]

# The pieces tex-chtml.js loads at run time (fonts, TeX extensions, the menu); the speech engine
# and the other combined builds are not needed.
_KEEP = ("tex-chtml.js", "output", "input", "ui", "a11y", "adaptors")


def mathjax_source() -> Path:
    """Directory holding MathJax's ``es5`` build, from the ``django-static-mathjax`` package."""
    try:
        import mathjax  # provided by django-static-mathjax
    except ImportError as exc:  # pragma: no cover - set-up problem, not a code path
        raise RuntimeError(
            "MathJax is not installed: run `make setup` (installs django-static-mathjax)"
        ) from exc
    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (src / "tex-chtml.js").is_file():  # pragma: no cover
        raise RuntimeError(f"MathJax files not found under {src}")
    return src


def _set_path(app, config):
    config.mathjax_path = "mathjax/tex-chtml.js"  # relative to _static of the built site


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    src = mathjax_source()
    dest = Path(app.outdir) / "_static" / "mathjax"
    for name in _KEEP:
        s, d = src / name, dest / name
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)


def setup(app):
    app.connect("config-inited", _set_path, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
