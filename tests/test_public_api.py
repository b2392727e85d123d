"""The public API: ``__all__`` lists exactly what ``fcfun/__init__.py`` exports."""

from __future__ import annotations

import ast
import importlib
import pathlib
import types

import fcfun


def test_all_matches_the_explicit_reexports() -> None:
    source = pathlib.Path(fcfun.__file__).read_text()
    exported = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                assert alias.asname == alias.name, (
                    f"use 'from x import {alias.name} as {alias.name}'"
                )
                exported.add(alias.name)
    assert sorted(fcfun.__all__) == sorted(exported)
    assert len(fcfun.__all__) == len(set(fcfun.__all__))
    for name in fcfun.__all__:
        assert hasattr(fcfun, name), name


def test_public_names_come_from_private_modules() -> None:
    # Public submodules (fcfun.sklearn, fcfun.distributed) appear once imported; they are
    # modules, not names of the top-level API.
    public = {
        name
        for name in dir(fcfun)
        if not name.startswith("_") and not isinstance(getattr(fcfun, name), types.ModuleType)
    }
    assert public <= set(fcfun.__all__) | {"annotations"}
    module = importlib.import_module("fcfun")
    assert module.__all__ is fcfun.__all__


def test_importing_fcfun_imports_no_optional_extra() -> None:
    import subprocess
    import sys

    extras = "{'sklearn', 'matplotlib', 'dask', 'distributed', 'torch', 'scipy'}"
    code = (
        f"import sys, fcfun; print(sorted(m for m in sys.modules if m.split('.')[0] in {extras}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
