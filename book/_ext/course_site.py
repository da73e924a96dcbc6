"""Sphinx extension of the course website (loaded by book/_config.yml).

Sphinx 7 adds an inline script registered after the builder started (sphinx-thebe's and sphinx-togglebutton's
configuration) to each page twice; sphinx-thebe's declares a ``const``, so the second copy stops with a
SyntaxError in the browser. Every page keeps one copy of each script.
"""

from __future__ import annotations


def unique_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated <script> entries (same file or same inline body, same attributes) from a page."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # an inline script's filename is None when added before the builder started, "" after
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
