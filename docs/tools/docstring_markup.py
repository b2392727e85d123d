"""Griffe extension: render two kinds of text in fcfun's docstrings that Markdown cannot.

* Doctests. fcfun's docstrings put their doctests in the running text (where pytest's
  ``--doctest-modules`` runs them), not under an ``Examples:`` heading, and the Google
  parser leaves such lines as Markdown, where ``>>>`` starts a nested block quote. Each
  doctest block (a ``>>>`` line up to the next blank line, as doctest reads it) is
  wrapped in a ``pycon`` fence; ``# doctest:`` directives and ``<BLANKLINE>`` markers,
  of no use to a reader, are dropped.
* Update rules. The optimizers and schedules give theirs as reStructuredText
  ``.. math::`` directives (LaTeX, one equation per paragraph of the directive). Each
  equation is converted to MathML by ``latex2mathml`` at build time, which browsers
  render natively: no JavaScript, nothing fetched. An equation it cannot convert is a
  warning, so ``mkdocs build --strict`` fails on it.

Loaded by mkdocstrings (``extensions:`` in mkdocs.yml) before any docstring is parsed;
the source files are never changed.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import griffe
from latex2mathml.converter import convert

_FENCE = re.compile(r"^\s*(```|~~~)")
_DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")
_MATH = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
_TEXT = re.compile(r"\\text\{([^}]*)\}")
_TEXT_ESCAPE = re.compile(
    r"\\([_%&#$])"
)  # in \text{...}, \_ is a plain _ (latex2mathml keeps the \)

_logger = logging.getLogger("mkdocs.plugins.fcfun_docstring_markup")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def fence_doctests(text: str) -> str:
    """Return ``text`` with every doctest block outside a fence wrapped in a pycon fence."""
    out: list[str] = []
    lines = text.split("\n")
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence or not line.lstrip().startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: _indent(line)]
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(_DIRECTIVE.sub("", lines[i]).replace("<BLANKLINE>", ""))
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


def _mathml(tex: str, where: str) -> str:
    tex = _TEXT.sub(lambda m: "\\text{" + _TEXT_ESCAPE.sub(r"\1", m.group(1)) + "}", tex)
    try:
        return convert(tex, display="block")
    except Exception as error:  # latex2mathml raises several kinds
        reason = f"{type(error).__name__} {error}".strip()
        _logger.warning(f"{where}: cannot convert the math {tex!r} to MathML: {reason}")
        return f"<code>{html.escape(tex)}</code>"


def render_math(text: str, where: str = "docstring") -> str:
    """Return ``text`` with every ``.. math::`` directive replaced by MathML blocks."""
    out: list[str] = []
    lines = text.split("\n")
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _MATH.match(line)
        if match is None:
            out.append(line)
            i += 1
            continue
        indent, first = match.group(1), match.group(2)
        paragraphs: list[list[str]] = [[first]] if first.strip() else [[]]
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            if lines[i].strip():
                paragraphs[-1].append(lines[i].strip())
            elif paragraphs[-1]:
                paragraphs.append([])
            i += 1
        if out and out[-1].strip():
            out.append("")
        for paragraph in paragraphs:
            if paragraph:
                # A <div> is a block of raw HTML to Markdown: its content is left alone.
                out.append(f'{indent}<div class="math">{_mathml(" ".join(paragraph), where)}</div>')
                out.append("")
    return "\n".join(out)


class DocstringMarkup(griffe.Extension):
    """Fence the doctests and render the math of every docstring of the loaded package."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is None:
            return
        value = docstring.value
        if ">>>" in value:
            value = fence_doctests(value)
        if ".. math::" in value:
            value = render_math(value, f"{obj.filepath}:{docstring.lineno} ({obj.path})")
        if value != docstring.value:
            docstring.value = value
            docstring.__dict__.pop("parsed", None)  # a cached parse of the old text
