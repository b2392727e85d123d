"""MkDocs hook: links to repository files that the site publishes under another name.

README.md and BENCHMARKS.md live at the repository root and are included into
docs/tutorial.md and docs/benchmarks.md at build time by the include-markdown plugin,
which rewrites their relative links for the including page (``docs/errors.md`` becomes
``errors.md``). A link from an included file to another root file then points outside
docs/ (``../BENCHMARKS.md``); this hook points it at the page that publishes that file,
so the link works in the site as it does on the repository. Any other link outside
docs/ is left alone, and ``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import re
from typing import Any

# A root file -> the page of the site that includes it.
PUBLISHED_AS = {
    "README.md": "tutorial.md",
    "BENCHMARKS.md": "benchmarks.md",
    "site/index.html": "index.md",  # the README's link to the built site is the site itself
}

_LINK = re.compile(r"\]\(\.\./(" + "|".join(map(re.escape, PUBLISHED_AS)) + r")(#[^)\s]*)?\)")


def on_page_markdown(markdown: str, *, page: Any, **kwargs: Any) -> str:
    """Point ``](../README.md)`` / ``](../BENCHMARKS.md)`` links at their pages."""
    if page.file.src_uri.count("/"):  # the included files are included by top-level pages
        return markdown
    return _LINK.sub(lambda m: f"]({PUBLISHED_AS[m.group(1)]}{m.group(2) or ''})", markdown)
