"""The numeric tests once more on other kernels: an older OpenBLAS kernel and numpy's newest
dispatched SIMD paths disabled, so that a tolerance that holds only for this machine's
kernels fails here and not on a user's machine.

    python .ci/kernels.py [pytest arguments...]

* ``OPENBLAS_CORETYPE``: the first of an architecture's older kernels that this CPU runs
  and that differs from the one OpenBLAS chose (x86_64: Haswell, needing AVX2 and FMA, then
  Sandybridge, needing AVX, then Nehalem; aarch64: ARMV8, the generic kernel). Another
  architecture, or a CPU already on the oldest kernel, skips this run with a printed reason.
* ``NPY_DISABLE_CPU_FEATURES``: the dispatched targets of this numpy build that the CPU
  has, all but the oldest (with one only, that one): on an AVX-512 machine numpy then runs
  its AVX2 paths, as on most AMD EPYC machines. The list is computed here because naming a
  feature the CPU lacks is an error in some numpy versions.

Both are checked in a child process before the tests run (OpenBLAS reports its kernel
through threadpoolctl, numpy its features), so the run never passes on the usual kernels
by mistake. Exits with pytest's status.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import numpy as np
import threadpoolctl
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

# The numeric tests: gradients, losses, activations, optimizers, networks, ONNX, replay and
# the comparisons with scikit-learn's trajectories, everything whose result depends on
# rounding; about a third of the suite's time.
NUMERIC = [
    "tests/test_activations.py",
    "tests/test_bounds.py",
    "tests/test_compositions.py",
    "tests/test_dropout.py",
    "tests/test_gradients.py",
    "tests/test_lbfgs.py",
    "tests/test_losses.py",
    "tests/test_network.py",
    "tests/test_onnx.py",
    "tests/test_optimizers.py",
    "tests/test_partition.py",
    "tests/test_plateau.py",
    "tests/test_poisson_and_sort.py",
    "tests/test_replay.py",
    "tests/test_robust_losses.py",
    "tests/test_sample_weight.py",
    "tests/test_seed_walkthrough.py",
    "tests/test_sklearn.py",
    "tests/test_sklearn_losses.py",
    "tests/test_sklearn_weights.py",
    "tests/test_sparse.py",
    "tests/test_training.py",
]

# (kernel, the numpy features it needs), oldest last.
OLDER_KERNELS = {
    "x86_64": [("Haswell", ("AVX2", "FMA3")), ("Sandybridge", ("AVX",)), ("Nehalem", ("SSE42",))],
    "aarch64": [("ARMV8", ("ASIMD",))],
}

PROBE = (
    "import json, threadpoolctl;"
    "from numpy._core._multiarray_umath import __cpu_features__ as f;"
    "print(json.dumps([[i.get('architecture') for i in threadpoolctl.threadpool_info()"
    " if i['internal_api'] == 'openblas'], f]))"
)


def openblas_kernel() -> str | None:
    """The kernel numpy's OpenBLAS runs on (None: numpy is not on OpenBLAS)."""
    for info in threadpoolctl.threadpool_info():
        if info["internal_api"] == "openblas":
            return str(info.get("architecture"))
    return None


def older_kernel(machine: str, current: str | None) -> tuple[str | None, str]:
    """``(kernel, why)``: the kernel to run on, or None with the reason there is none."""
    if current is None:
        return None, "numpy is not linked to OpenBLAS"
    candidates = OLDER_KERNELS.get(machine)
    if candidates is None:
        return None, f"no older OpenBLAS kernel is known for {machine}"
    for kernel, needs in candidates:
        if kernel.lower() != current.lower() and all(__cpu_features__.get(n) for n in needs):
            return kernel, f"OpenBLAS {current} -> {kernel}"
    return None, f"OpenBLAS runs {current}, and no older kernel known for {machine} differs"


def newest_features() -> list[str]:
    """The dispatched targets this CPU has, all but the oldest (or the only one)."""
    have = [target for target in __cpu_dispatch__ if __cpu_features__.get(target)]
    return have[1:] if len(have) > 1 else have


def main(arguments: list[str]) -> int:
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    kernel, why = older_kernel(machine, openblas_kernel())
    if kernel is None:
        print(f"check-kernels: skipped ({why})")
        return 0
    disabled = newest_features()
    env = {
        **os.environ,
        "OPENBLAS_CORETYPE": kernel,
        "NPY_DISABLE_CPU_FEATURES": " ".join(disabled),
    }
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    kernels, features = json.loads(probe.stdout)
    if [k.lower() for k in kernels] != [kernel.lower()]:
        print(f"check-kernels: OpenBLAS ran {kernels}, not {kernel}", file=sys.stderr)
        return 1
    still_on = [name for name in disabled if features.get(name)]
    if still_on:
        print(f"check-kernels: numpy kept {still_on} enabled", file=sys.stderr)
        return 1
    print(f"check-kernels: {why}; numpy {np.__version__} without {' '.join(disabled) or 'nothing'}")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *NUMERIC]
    return subprocess.run([*command, *arguments], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
