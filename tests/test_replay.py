"""Replay: the same run gives the same fingerprint in any process, and a checkpointed run
resumed to N equals the uninterrupted run to N, bit for bit."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Any

import numpy as np

import fcfun

RUN = """
import numpy as np, fcfun
rng = np.random.default_rng(0)
X = rng.normal(0, 1, (60, 5))
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
spec = fcfun.mlp([5, 8, 3], output=fcfun.softmax, loss=fcfun.softmax_cross_entropy)
state = fcfun.fit(spec, X, y, optimizer=fcfun.adamw(0.01), epochs=4, batch_size=16, seed=7,
                  validation=(X[:20], y[:20]))
print(fcfun.fingerprint(state))
"""


def run_in_subprocess(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", RUN], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


def test_two_processes_print_the_same_fingerprint() -> None:
    first, second = run_in_subprocess("1"), run_in_subprocess("2")
    assert first == second
    assert len(first) == 64
    namespace: dict[str, Any] = {}
    exec(RUN.replace("print(fcfun.fingerprint(state))", ""), namespace)
    assert fcfun.fingerprint(namespace["state"]) == first


def problem() -> tuple[fcfun.MLP, fcfun.FloatArray, np.ndarray[Any, Any], dict[str, Any]]:
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (70, 6))
    y = (X @ rng.normal(0, 1, 6) > 0).astype(float)
    spec = fcfun.mlp(
        [6, 10, 4, 1],
        hidden=[fcfun.tanh, fcfun.leaky_relu(0.05)],
        output=fcfun.sigmoid,
        loss=fcfun.binary_cross_entropy,
    )
    opt = fcfun.chain(fcfun.clip_by_global_norm(1.0), fcfun.sgd(0.1, momentum=0.9, nesterov=True))
    kwargs = {"optimizer": opt, "batch_size": 9, "validation": (X[:15], y[:15]), "alpha": 1e-3}
    return spec, X, y, kwargs


def test_resume_from_checkpoint_equals_the_uninterrupted_run(tmp_path: pathlib.Path) -> None:
    spec, X, y, kwargs = problem()
    uninterrupted = fcfun.fit(spec, X, y, epochs=7, seed=3, **kwargs)
    at_k = fcfun.fit(spec, X, y, epochs=3, seed=3, **kwargs)
    path = tmp_path / "run.npz"
    fcfun.save(path, spec, at_k)
    loaded_spec, loaded = fcfun.load(path, optimizer=kwargs["optimizer"])
    assert loaded_spec == spec
    assert fcfun.fingerprint(loaded) == fcfun.fingerprint(at_k)
    resumed = fcfun.fit(loaded_spec, X, y, epochs=7, params=loaded, **kwargs)
    assert fcfun.fingerprint(resumed) == fcfun.fingerprint(uninterrupted)
    assert fcfun.fingerprint(resumed) != fcfun.fingerprint(at_k)


def test_float32_runs_replay_too(tmp_path: pathlib.Path) -> None:
    spec, X, y, kwargs = problem()
    first = fcfun.fit(spec, X, y, epochs=3, seed=5, dtype=np.float32, **kwargs)
    second = fcfun.fit(spec, X, y, epochs=3, seed=5, dtype=np.float32, **kwargs)
    assert fcfun.fingerprint(first) == fcfun.fingerprint(second)
    fcfun.save(tmp_path / "f32.npz", spec, first)
    _, loaded = fcfun.load(tmp_path / "f32.npz", optimizer=kwargs["optimizer"])
    assert fcfun.fingerprint(loaded) == fcfun.fingerprint(first)
    assert loaded.params[0].W.dtype == np.float32
