"""Suite-wide settings: deterministic hypothesis runs without wall-clock deadlines."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fcfun",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("fcfun")
