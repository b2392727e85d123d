"""Smoke test of fcfun as installed from its wheel, run by .ci/wheel_smoke.sh.

Runs in a fresh virtual environment holding only the wheel and its runtime dependencies,
as ``python -I -W error smoke.py VENV REPO VERSION`` from a directory outside the source
tree. Imports only the standard library before it imports fcfun, so what ``import fcfun``
brings in can be read off ``sys.modules``. Prints one line per check; exits 1 on failure.
"""

from __future__ import annotations

import sys

# Before anything else: what `import fcfun` alone loads.
_before = set(sys.modules)
try:
    import fcfun
except Exception as exc:
    print(f"FAIL  smoke: import fcfun: {type(exc).__name__}: {exc}")
    raise SystemExit(1) from None

_loaded_by_fcfun = set(sys.modules) - _before

import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.resources  # noqa: E402
import importlib.util  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import pkgutil  # noqa: E402
import sysconfig  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

# Packages of the extras (and what they bring), never imported by fcfun's core.
OPTIONAL = {"sklearn", "scipy", "joblib", "dask", "distributed", "matplotlib", "pandas"}
OPTIONAL |= {"torch", "onnx", "onnxruntime", "skl2onnx"}
RUNTIME_DISTS = {"fcfun", "numpy", "toolz"}

failed = 0


def check(name: str, body: Callable[[], str]) -> None:
    global failed
    try:
        detail = body()
    except Exception as exc:  # a check's failure is reported, the others still run
        failed += 1
        print(f"FAIL  smoke: {name}: {type(exc).__name__}: {exc}")
    else:
        print(f"ok    smoke: {name}: {detail}")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def inside(path: str | os.PathLike[str], folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def third_party(modules: Iterable[str], site: Path) -> dict[str, str]:
    """Top-level modules among ``modules`` loaded from ``site``, with their files."""
    found = {}
    for name in modules:
        file = getattr(sys.modules.get(name), "__file__", None)
        if file and inside(file, site):
            top = Path(file).resolve().relative_to(site.resolve()).parts[0]
            found[name.partition(".")[0]] = top
    return found


def main(venv: Path, repo: Path, version: str) -> int:
    site = Path(sysconfig.get_paths()["purelib"])

    def isolated() -> str:
        require(inside(sys.prefix, venv), f"sys.prefix {sys.prefix} is not {venv}")
        require(sys.prefix != sys.base_prefix, "not running in a virtual environment")
        require(not inside(os.getcwd(), repo), f"cwd {os.getcwd()} is inside the repository")
        on_path = [p for p in sys.path if p and inside(p, repo)]
        require(not on_path, f"the repository is on sys.path: {on_path}")
        return "in the fresh venv, with cwd and sys.path outside the repository"

    def imported_from_site() -> str:
        require(inside(fcfun.__file__ or "", site), f"fcfun from {fcfun.__file__}, not {site}")
        return f"fcfun imported from {Path(fcfun.__file__ or '').parent}"

    def distributions() -> str:
        names = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
        require(names == RUNTIME_DISTS, f"installed distributions {sorted(names)}")
        got = importlib.metadata.version("fcfun")
        require(got == version, f"fcfun {got} installed, expected {version}")
        requires = importlib.metadata.requires("fcfun") or []
        base = sorted(r for r in requires if "extra ==" not in r)
        return f"fcfun {got} with exactly numpy and toolz ({', '.join(base)})"

    def core_imports_only_numpy_toolz() -> str:
        tops = {m.partition(".")[0] for m in _loaded_by_fcfun}
        optional = sorted(tops & OPTIONAL)
        require(not optional, f"import fcfun imported {optional}")
        others = set(third_party(_loaded_by_fcfun, site)) - RUNTIME_DISTS
        require(not others, f"import fcfun imported installed modules {sorted(others)}")
        return "import fcfun loads numpy and toolz only (no sklearn, dask, matplotlib, scipy)"

    def typed() -> str:
        marker = importlib.resources.files("fcfun").joinpath("py.typed")
        require(marker.is_file(), "fcfun/py.typed is not installed")
        recorded = {str(f) for f in importlib.metadata.files("fcfun") or []}
        require("fcfun/py.typed" in recorded, "fcfun/py.typed is not in the wheel's RECORD")
        return "fcfun/py.typed installed and recorded"

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    spec = fcfun.mlp(
        [4, 8, 2], hidden=fcfun.relu, output=fcfun.softmax, loss=fcfun.softmax_cross_entropy
    )
    trained: list[fcfun.TrainState[object]] = []

    def run(optimizer: fcfun.Optimizer[object]) -> fcfun.TrainState[object]:
        return fcfun.fit(
            spec,
            X[:160],
            y[:160],
            optimizer=optimizer,
            epochs=5,
            batch_size=32,
            seed=0,
            validation=(X[160:], y[160:]),
        )

    def fit() -> str:
        state = run(fcfun.adam(1e-2))
        losses = state.history.train_loss
        require(state.epoch == 5 and len(losses) == 5, f"epoch {state.epoch}, {len(losses)} losses")
        require(all(math.isfinite(v) for v in losses), f"losses {losses}")
        require(losses[-1] < losses[0], f"loss did not fall: {losses}")
        again = run(fcfun.adam(1e-2))
        require(fcfun.fingerprint(again) == fcfun.fingerprint(state), "a rerun differs")
        trained.append(state)
        return (
            f"5 epochs, loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
            f"val accuracy {state.history.val_metric[-1]:.2f}; a rerun is bit-identical"
        )

    def save_load() -> str:
        require(bool(trained), "no trained state (fit failed)")
        state = trained[0]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "run.npz"
            fcfun.save(path, spec, state)
            spec2, state2 = fcfun.load(path, optimizer=fcfun.adam(1e-2))
        require(fcfun.fingerprint(state2) == fcfun.fingerprint(state), "state fingerprint")
        require(fcfun.fingerprint(spec2) == fcfun.fingerprint(spec), "spec fingerprint")
        before = fcfun.predict(spec, state.params, X[160:])
        after = fcfun.predict(spec2, state2.params, X[160:])
        require(np.array_equal(before, after), "predictions differ after load")
        return f"save/load round trip, fingerprint {fcfun.fingerprint(state2)[:12]}... equal"

    def submodules() -> str:
        """Every module of fcfun imports, or fails only for want of an optional package."""
        before = set(sys.modules)
        needs: dict[str, str] = {}
        for info in pkgutil.iter_modules(fcfun.__path__, "fcfun."):
            try:
                importlib.import_module(info.name)
            except ModuleNotFoundError as exc:
                missing = (exc.name or "").partition(".")[0]
                require(
                    missing in OPTIONAL and importlib.util.find_spec(missing) is None,
                    f"import {info.name}: {exc}",
                )
                needs[info.name] = missing
        for name in ("fcfun.distributed", "fcfun.testing"):
            require(name in sys.modules, f"{name} did not import with numpy and toolz only")
        loaded = {m.partition(".")[0] for m in set(sys.modules) - before}
        require(not loaded & OPTIONAL, f"imported {sorted(loaded & OPTIONAL)}")
        wanting = ", ".join(f"{k} ({v})" for k, v in sorted(needs.items()))
        return f"all other modules import with numpy and toolz only; need an extra: {wanting}"

    def extras_absent() -> str:
        for module in ("sklearn", "dask", "distributed", "matplotlib"):
            require(importlib.util.find_spec(module) is None, f"{module} is installed here")
        messages = []
        for name in ("fcfun.sklearn", "fcfun.sklearn_interop"):
            try:
                importlib.import_module(name)
            except ImportError as exc:
                text = str(exc)
                named = "sklearn" in text or "scikit-learn" in text
                require(named, f"import {name}: {text!r} names neither sklearn nor scikit-learn")
                require(name not in sys.modules, f"a half-imported {name} stays in sys.modules")
                messages.append(f"{name}: {type(exc).__name__}: {text}")
            else:
                raise AssertionError(f"import {name} succeeded without scikit-learn")
        loaded = sorted({m.partition(".")[0] for m in sys.modules} & OPTIONAL)
        require(not loaded, f"optional modules in sys.modules: {loaded}")
        return "; ".join(messages)

    check("isolation", isolated)
    check("location", imported_from_site)
    check("distributions", distributions)
    check("import fcfun", core_imports_only_numpy_toolz)
    check("py.typed", typed)
    check("fit", fit)
    check("save/load", save_load)
    check("submodules", submodules)
    check("extras absent", extras_absent)
    return 1 if failed else 0


if __name__ == "__main__":
    venv_arg, repo_arg, version_arg = sys.argv[1:4]
    raise SystemExit(main(Path(venv_arg), Path(repo_arg), version_arg))
