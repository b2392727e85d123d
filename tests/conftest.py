"""Suite-wide settings: deterministic hypothesis runs without wall-clock deadlines, and the
strict xfail of the tests a module lists in its ``EXCLUDED``."""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "fcfun",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("fcfun")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``xfail(strict=True, reason)`` every test a module's ``EXCLUDED`` names.

    ``EXCLUDED`` maps a test function's name (all its parameter sets) or a test's full id
    (``name[ids]``, one parameter set) to the reason it fails. Strict: a listed test that
    passes fails the suite, so an entry is removed as soon as its reason is gone.
    """
    for item in items:
        excluded: dict[str, str] = getattr(getattr(item, "module", None), "EXCLUDED", {})
        name = getattr(item, "originalname", item.name)
        reason = excluded.get(item.name, excluded.get(name))
        if reason is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
