"""The modules here are inputs for mypy (see tests/test_typing.py), not tests.

Keep pytest (and its ``--doctest-modules``) from importing them: they hold deliberate mistakes.
"""

collect_ignore_glob: list[str] = ["*.py"]
