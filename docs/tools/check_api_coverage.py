"""Check that the API reference documents every public name of fcfun, once.

The API pages (docs/api/*.md) document names with mkdocstrings directives, one a line:
``::: fcfun.NAME`` for a name of ``fcfun.__all__``, ``::: fcfun.MODULE`` for a public
submodule (rendered with the names of its own ``__all__``). This script fails, listing
each problem, when

* a name of ``fcfun.__all__`` has no directive (it would be missing from the site);
* a name is documented twice;
* a directive names something that is neither in ``fcfun.__all__`` nor a public
  submodule (a removed or renamed name);
* a public submodule of fcfun (``fcfun/NAME.py`` without a leading underscore) has no
  directive.

With ``--site DIR`` (a site built by ``mkdocs build``) it also checks the rendered pages:
every name of ``fcfun.__all__`` and of each public submodule's ``__all__`` must have its
heading there (mkdocstrings leaves out a member without a docstring, for one).

Run: ``python docs/tools/check_api_coverage.py [--site site]``; exit status 1 on any
problem.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import pathlib
import pkgutil
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
API_PAGES = ROOT / "docs" / "api"
DIRECTIVE = re.compile(r"^:::\s+(fcfun(?:\.\w+)*)\s*$")
HEADING_ID = re.compile(r'\bid="(fcfun(?:\.\w+)+)"')


def documented() -> collections.Counter[str]:
    """Every ``::: fcfun...`` identifier of the API pages, with its count."""
    found: collections.Counter[str] = collections.Counter()
    for page in sorted(API_PAGES.glob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            match = DIRECTIVE.match(line.strip())
            if match:
                found[match.group(1)] += 1
    return found


def public_names() -> tuple[set[str], dict[str, list[str]]]:
    """``fcfun.__all__`` and, for each public submodule, its ``__all__``."""
    sys.path.insert(0, str(ROOT))
    import fcfun

    submodules = {
        info.name: list(getattr(importlib.import_module(f"fcfun.{info.name}"), "__all__", []))
        for info in pkgutil.iter_modules(fcfun.__path__)
        if not info.name.startswith("_")
    }
    return set(fcfun.__all__), submodules


def directive_problems(public: set[str], submodules: dict[str, list[str]]) -> list[str]:
    found = documented()
    errors: list[str] = []
    if not found:
        errors.append(f"no '::: fcfun...' directive found in {API_PAGES}")
    for name in sorted(public):
        if f"fcfun.{name}" not in found:
            errors.append(f"fcfun.{name} is in fcfun.__all__ but no API page documents it")
    for module in sorted(submodules):
        if f"fcfun.{module}" not in found:
            errors.append(f"fcfun.{module} is a public module but no API page documents it")
    for identifier, count in sorted(found.items()):
        if count > 1:
            errors.append(f"{identifier} is documented {count} times")
        name = identifier.removeprefix("fcfun.")
        if name not in public and name not in submodules:
            errors.append(
                f"{identifier} is documented but is neither in fcfun.__all__ nor a public"
                " submodule of fcfun"
            )
    return errors


def site_problems(
    site: pathlib.Path, public: set[str], submodules: dict[str, list[str]]
) -> list[str]:
    if not (site / "index.html").is_file():
        return [f"{site} is not a built site (no index.html): run mkdocs build first"]
    ids: set[str] = set()
    for page in (site / "api").rglob("*.html"):
        ids.update(HEADING_ID.findall(page.read_text(encoding="utf-8")))
    expected = [f"fcfun.{name}" for name in sorted(public)] + [
        f"fcfun.{module}.{name}" for module, names in sorted(submodules.items()) for name in names
    ]
    return [
        f"{identifier} has no heading in the built API pages (no docstring?)"
        for identifier in expected
        if identifier not in ids
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=pathlib.Path, help="also check this built site")
    args = parser.parse_args()
    public, submodules = public_names()
    errors = directive_problems(public, submodules)
    if args.site is not None:
        errors += site_problems(args.site, public, submodules)
    if errors:
        print(f"API reference out of date, {len(errors)} problem(s):", file=sys.stderr)
        for error in errors:
            print(f"  - {error}", file=sys.stderr)
        print(
            "Fix the '::: fcfun...' directives in docs/api/*.md (or the docstring of a name"
            " that does not render).",
            file=sys.stderr,
        )
        return 1
    print(
        f"API reference: the {len(public)} names of fcfun.__all__ and the"
        f" {len(submodules)} public submodules each have one directive."
    )
    if args.site is not None:
        rendered = len(public) + sum(map(len, submodules.values()))
        print(f"API reference: all {rendered} public names render in {args.site}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
