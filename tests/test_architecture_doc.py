"""docs/architecture.md lists the fields of the protocol classes exactly as the code has them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fcfun

DOC = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text()


@pytest.mark.parametrize("cls", [fcfun.Activation, fcfun.Loss, fcfun.Optimizer])
def test_the_architecture_lists_each_protocols_fields(cls: type) -> None:
    written = re.findall(rf"^\* `{cls.__name__}\(([^)]*)\)`", DOC, flags=re.MULTILINE)
    assert len(written) == 1, f"docs/architecture.md must list {cls.__name__}'s fields once"
    names = tuple(part.split("=")[0].strip() for part in written[0].split(","))
    fields: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
    assert names == fields
    defaults: dict[str, object] = cls._field_defaults  # type: ignore[attr-defined]
    assert {p.split("=")[0].strip() for p in written[0].split(",") if "=" in p} == set(defaults)
