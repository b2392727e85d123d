"""Type-check the modules in tests/typing_fixtures/ with mypy and compare with what they expect.

A fixture writes what mypy must say about a line as trailing comments on that line::

    take("3", xs)  # E: Argument 1 to "take" has incompatible type "str"
    reveal_type(first(xs))  # N: Revealed type is "int"

``E:`` expects an error, ``N:`` a note; the text after it is a substring of mypy's message, and
one line may carry several (``# E: ... # E: ...``). A statement that spans several lines (as
``ruff format`` leaves a long one, with the comment on its last line) counts as one line: its
comments cover errors reported on any of its lines.

Every expected message must be reported; mypy must report no other error, and no
``Revealed type`` note that is not expected (mypy's hint notes after an error are ignored).
Errors outside the fixtures (in fcfun, in the stubs under typings/) fail the run as well.

Every ``*.py`` in tests/typing_fixtures/ (but its conftest.py) is picked up, and mypy runs once,
with the project's configuration (strict), for all of them.
Run it alone with ``pytest tests/test_typing.py``.
"""

import ast
import re
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "typing_fixtures"
FIXTURE_FILES = sorted(path for path in FIXTURES.glob("*.py") if path.name != "conftest.py")

# path:line[:column...]: severity: text
MYPY_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+)(?::\d+)*: (?P<severity>error|note): (?P<text>.*)$"
)
EXPECTATION_COMMENT = re.compile(r"^#\s*[EN]:")
EXPECTATION = re.compile(r"#\s*(?P<kind>[EN]):\s*(?P<text>.*?)\s*(?=#\s*[EN]:|$)")
SEVERITY = {"E": "error", "N": "note"}


class Message(NamedTuple):
    """One message of mypy's, or one that a fixture expects."""

    path: Path
    line: int
    severity: str
    text: str


class MypyRun(NamedTuple):
    status: int
    stderr: str
    messages: list[Message]


@pytest.fixture(scope="module")
def mypy_run(tmp_path_factory: pytest.TempPathFactory) -> MypyRun:
    """Run mypy once over all the fixtures, with pyproject.toml's settings.

    mypy runs in a subprocess from the project root, as on the command line: run in-process
    (``mypy.api.run``) it would take pytest's ``sys.path`` for installed packages and silence
    errors in everything under them, the stubs in typings/ included.
    """
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(tmp_path_factory.mktemp("mypy_cache")),
        "--show-absolute-path",
        "--no-pretty",
        "--no-error-summary",
        "--hide-error-context",
        "--no-color-output",
        *(str(path) for path in FIXTURE_FILES),
    ]
    # cwd: pyproject.toml's mypy_path ("typings") is relative to the working directory.
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    messages = []
    for output_line in result.stdout.splitlines():
        match = MYPY_LINE.match(output_line)
        assert match, f"unexpected mypy output: {output_line!r}"
        messages.append(
            Message(
                Path(match["path"]).resolve(),
                int(match["line"]),
                match["severity"],
                match["text"],
            )
        )
    return MypyRun(result.returncode, result.stderr, messages)


def statement_ends(source: str) -> dict[int, int]:
    """Map each line of a multi-line simple statement to the statement's last line."""
    ends = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt) and not hasattr(node, "body"):
            end = node.end_lineno or node.lineno
            for line in range(node.lineno, end + 1):
                ends[line] = end
    return ends


def expectations(path: Path) -> list[Message]:
    """The messages that a fixture's ``# E:``/``# N:`` comments expect, line by line."""
    expected = []
    with path.open("rb") as source:
        for token in tokenize.tokenize(source.readline):
            if token.type == tokenize.COMMENT and EXPECTATION_COMMENT.match(token.string):
                for match in EXPECTATION.finditer(token.string):
                    severity = SEVERITY[match["kind"]]
                    expected.append(Message(path, token.start[0], severity, match["text"]))
    return expected


def compare(path: Path, reported: list[Message]) -> list[str]:
    """What differs between a fixture's expectations and mypy's messages about it."""
    ends = statement_ends(path.read_text())

    def anchor(line: int) -> int:
        return ends.get(line, line)

    unmatched = list(reported)
    problems = []
    for want in expectations(path):
        found = next(
            (
                got
                for got in unmatched
                if anchor(got.line) == anchor(want.line)
                and got.severity == want.severity
                and want.text in got.text
            ),
            None,
        )
        if found is None:
            said = [
                f"{got.severity}: {got.text}"
                for got in reported
                if anchor(got.line) == anchor(want.line)
            ]
            problems.append(
                f"{path.name}:{want.line}: expected {want.severity} containing {want.text!r}; "
                f"mypy said {said or 'nothing'}"
            )
        else:
            unmatched.remove(found)
    for got in unmatched:
        if got.severity == "error" or got.text.startswith("Revealed type is"):
            problems.append(f"{path.name}:{got.line}: unexpected {got.severity}: {got.text}")
    return problems


def test_fixtures_are_found() -> None:
    names = {path.name for path in FIXTURE_FILES}
    assert {"toolz_ok.py", "toolz_errors.py"} <= names


def test_mypy_runs_cleanly_outside_the_fixtures(mypy_run: MypyRun) -> None:
    assert mypy_run.status in (0, 1), mypy_run.stderr
    assert not mypy_run.stderr
    fixtures = set(FIXTURE_FILES)
    outside = [
        f"{message.path}:{message.line}: {message.text}"
        for message in mypy_run.messages
        if message.severity == "error" and message.path not in fixtures
    ]
    assert not outside, "\n".join(outside)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[path.name for path in FIXTURE_FILES])
def test_fixture(path: Path, mypy_run: MypyRun) -> None:
    reported = [message for message in mypy_run.messages if message.path == path]
    problems = compare(path, reported)
    assert not problems, "\n".join(problems)
