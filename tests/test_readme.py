"""The README's Python blocks run, in order, as one script."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
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


def test_readme_code_type_checks(tmp_path: pathlib.Path) -> None:
    """The README's blocks, as one module, pass mypy --strict with the project's stubs."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    script = tmp_path / "readme_code.py"
    script.write_text("\n".join(blocks))
    root = README.parent
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(root / "pyproject.toml"), str(script)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_code_fence_stands_on_its_own_line() -> None:
    """A fence with text after it (```` ``` text````) leaves the block open in renderers
    and swallows the prose that follows; a block opens with a language and closes bare."""
    fences = [line for line in README.read_text().splitlines() if "```" in line]
    assert all(re.fullmatch(r"```[a-z]*", line) for line in fences), fences
    assert len(fences) % 2 == 0
    assert all(fence != "```" for fence in fences[0::2])  # each opening names its language
    assert all(fence == "```" for fence in fences[1::2])
