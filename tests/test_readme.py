"""The README's Python blocks run, in order, as one script."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import fcfun

README = pathlib.Path(__file__).parent.parent / "README.md"


def test_readme_code_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 3
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(blocks), str(README), "exec"), namespace)
    # The blocks assert their own claims (replay and resume fingerprints); check that they
    # ran to the end and trained something.
    state = namespace["state"]
    assert isinstance(state, fcfun.TrainState)
    assert state.epoch == 5
    assert namespace["fitted"].n_iter_ > 0
