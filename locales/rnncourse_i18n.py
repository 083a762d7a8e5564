"""Sphinx extension for the Japanese edition (issue 14); loaded from ``_config.yml`` (local_extensions).

1. **Outputs are not messages.** Everything a code cell prints (text, tables rendered from the question
   bank, numbers) is shared by both books and changes with the seed, so it must not enter the message
   catalogues: every text node inside a cell's output is marked ``translatable = False`` before
   Sphinx's ``Locale`` transform (priority 20) and the gettext builder look at it. The exception is a
   figure's caption (and legend) that a cell sets in its metadata (``mystnb.figure.caption``): that is
   prose, and it is translated.
2. **Language switcher.** Each page gets a link to the same page in the other language, at the start
   of the article header (``book/_templates/lang-switcher.html``), which sphinx-book-theme shows on
   phones too. The English book is ``_build/html/``, the Japanese one ``_build/html/ja/`` (``make book``).
3. **Glue in translations.** Sphinx parses each translated message (msgstr) as a new small document;
   myst-nb parses it as MyST Markdown (it checks for the ``<translated>`` source), but its glue roles
   look for the notebook's glue data on *that* document, find none and warn, so a msgstr with
   ``{glue:text}`key``` would fail. The original notebook's renderer is handed to the translated
   document (``TranslatableNbParser``), so glued numbers appear in the translation too.
4. **Part captions.** The captions of ``_toc.yml``'s parts are translated from the root document's
   catalogue (sphinx-external-toc inserts its toctrees after Sphinx's own translation step).
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx import addnodes
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


_RENDERER_KEY = "rnncourse_i18n_nb_renderer"


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


class _KeepRenderer(dict):
    """Document attributes that keep the notebook renderer myst-nb removes at the end of its parse."""

    kept = None

    def pop(self, key, *default):
        value = super().pop(key, *default)
        if key == "nb_renderer":
            self.kept = value
        return value


def _translatable_parser():
    from myst_nb.sphinx_ import Parser

    class TranslatableNbParser(Parser):
        """myst-nb's parser; a translated message of a notebook sees the notebook's glue data."""

        def parse(self, inputstring, document) -> None:
            env = getattr(document.settings, "env", None) or self.env
            if str(document.current_source or "").endswith("<translated>"):
                docname, renderer = env.temp_data.get(_RENDERER_KEY, (None, None))
                if renderer is not None and docname == env.docname:
                    document.attributes["nb_renderer"] = renderer
                try:
                    super().parse(inputstring, document)
                finally:
                    document.attributes.pop("nb_renderer", None)
                return
            attributes = _KeepRenderer(document.attributes)
            document.attributes = attributes
            try:
                super().parse(inputstring, document)
            finally:
                document.attributes = dict(attributes)
            if attributes.kept is not None:   # for the Locale transform that follows the parse
                env.temp_data[_RENDERER_KEY] = (env.docname, attributes.kept)

    return TranslatableNbParser


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
    # the switcher goes right after the sidebar toggle, at the start of the article header: the end
    # of the header holds five buttons and wraps on a 420 px phone
    options = dict(config.html_theme_options or {})
    start = options.get("article_header_start", ["toggle-primary-sidebar.html"])
    if isinstance(start, str):
        start = [e.strip() for e in start.split(",") if e.strip()]
    if "lang-switcher.html" not in start:
        options["article_header_start"] = list(start) + ["lang-switcher.html"]
    config.html_theme_options = options


def _translate_toctree_captions(app, doctree):
    """Translate the captions of the toctrees that sphinx-external-toc inserts from _toc.yml.

    They are extracted into the root document's catalogue ("Part I. ..."), but external-toc adds the
    toctree after Sphinx's Locale transform has run, so the caption would stay English.
    """
    language = app.config.language
    if not language or language == "en" or not app.config.locale_dirs:
        return
    from sphinx import locale
    from sphinx.util.i18n import docname_to_domain

    toctrees = [t for t in doctree.findall(addnodes.toctree) if t.get("caption")]
    if not toctrees:
        return
    dirs = [str(Path(app.srcdir, d)) for d in app.config.locale_dirs]
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    catalog, has_catalog = locale.init(dirs, language, domain)
    if not has_catalog:
        return
    for toctree in toctrees:
        source = toctree.get("rawcaption") or toctree["caption"]
        translated = catalog.gettext(source)
        if translated and translated != source:
            toctree["caption"] = translated


def setup(app):
    app.add_transform(SkipCellOutputs)
    app.add_source_parser(_translatable_parser(), override=True)
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    app.connect("doctree-read", _translate_toctree_captions)
    # env_version: a change here re-reads every document (bump it when the doctrees must change)
    return {"version": "1.2", "env_version": 3, "parallel_read_safe": True, "parallel_write_safe": True}
