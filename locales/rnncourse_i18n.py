"""Sphinx extension for the Japanese edition (issue 14); loaded from ``_config.yml`` (local_extensions).

1. **Outputs are not messages.** Everything a code cell prints (text, tables rendered from the question
   bank, numbers) is shared by both books and changes with the seed, so it must not enter the message
   catalogues: every text node inside a cell's output is marked ``translatable = False`` before
   Sphinx's ``Locale`` transform (priority 20) and the gettext builder look at it. The exception is a
   figure's caption (and legend) that a cell sets in its metadata (``mystnb.figure.caption``): that is
   prose, and it is translated.
2. **Language switcher.** Each page gets a link to the same page in the other language, in the
   article header (``book/_templates/lang-switcher.html``), which sphinx-book-theme shows on phones
   too. The English book is ``_build/html/``, the Japanese one ``_build/html/ja/`` (``make book``).
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform

__all__ = ["setup", "OTHER_LANGUAGE"]

# language of this build -> (language of the other book, its label on the switcher, its html lang)
OTHER_LANGUAGE = {"en": ("ja", "日本語"), "ja": ("en", "English")}
# The Japanese book lives in this sub-directory of the English one.
JA_SUBDIR = "ja"


def _in_output_prose_exception(node: nodes.Node, output: nodes.Node) -> bool:
    """True when ``node`` is inside a caption or legend between itself and the output container."""
    parent = node
    while parent is not None and parent is not output:
        if isinstance(parent, (nodes.caption, nodes.legend)):
            return True
        parent = parent.parent
    return False


class SkipCellOutputs(SphinxTransform):
    """Mark the text of code-cell outputs untranslatable (figure captions excepted)."""

    default_priority = 15  # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        for output in self.document.findall(nodes.container):
            if output.get("nb_element") != "cell_code_output":
                continue
            for node in output.findall(nodes.TextElement):
                if not _in_output_prose_exception(node, output):
                    node["translatable"] = False


def _switcher_target(pagename: str, language: str) -> str:
    """Relative URL, from page ``pagename`` of the ``language`` book, of the same page in the other."""
    depth = pagename.count("/")
    if language == "ja":  # _build/html/ja/<page>.html -> _build/html/<page>.html
        return "../" * (depth + 1) + pagename + ".html"
    return "../" * depth + f"{JA_SUBDIR}/" + pagename + ".html"


def _page_context(app, pagename, templatename, context, doctree):
    language = (app.config.language or "en").split("_")[0]
    other, label = OTHER_LANGUAGE.get(language, OTHER_LANGUAGE["en"])
    context["rnncourse_lang_other"] = other
    context["rnncourse_lang_label"] = label
    context["rnncourse_lang_url"] = _switcher_target(pagename, language)


def _config_inited(app, config):
    here = Path(__file__).resolve().parent
    templates = str(here.parent / "book" / "_templates")
    if templates not in config.templates_path:
        config.templates_path = list(config.templates_path) + [templates]
    options = dict(config.html_theme_options or {})
    end = options.get("article_header_end", ["article-header-buttons.html"])
    if isinstance(end, str):
        end = [e.strip() for e in end.split(",") if e.strip()]
    if "lang-switcher.html" not in end:
        options["article_header_end"] = ["lang-switcher.html"] + list(end)
    config.html_theme_options = options


def setup(app):
    app.add_transform(SkipCellOutputs)
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
