"""fcfun against hand-written numpy, scikit-learn, PyTorch and the matrix-product floor.

Run with ``make bench`` (which unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE), or
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/run.py [--quick]``.
Every table is measured in this one run: competitors alternate within each repeat and
the tables quote medians. Peak memory is measured in a fresh process per competitor.
Training is timed for three optimizers per case (plain SGD, momentum SGD, Adam); memory,
scaling and the scikit-learn agreement of one epoch use plain SGD unless stated.
``--quick`` (a smoke test) times and checks momentum and Adam on the small cases only, and
times them for fcfun and the numpy loop only.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence

import numpy as np
from cases import OPTIMIZERS, Case, OptimizerName, large, small
from competitors import (
    Competitor,
    Predictor,
    fcfun_fit,
    fcfun_predict,
    hand_loop,
    hand_predict,
    matmul_floor,
    sklearn_fit,
    sklearn_predict,
    torch_available,
    torch_fit,
    torch_predict,
)

import fcfun

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def competitors() -> dict[str, Competitor]:
    found: dict[str, Competitor] = {"fcfun": fcfun_fit, "numpy loop": hand_loop}
    found["scikit-learn"] = sklearn_fit
    if torch_available():
        found["pytorch"] = torch_fit
    found["matmul floor"] = matmul_floor
    return found


def make_case(name: str) -> Case:
    size, dtype = name.split()
    return (small if size == "small" else large)(np.dtype(dtype))


CASES = ["small float32", "small float64", "large float32", "large float64"]


# Timing ------------------------------------------------------------------------------


def interleaved(
    runs: dict[str, Callable[[], object]], repeats: int, warmup: bool = True
) -> dict[str, float]:
    """Median wall time of each run; every repeat runs all of them, order rotated."""
    names = list(runs)
    if warmup:
        for name in names:
            runs[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def train_times(case: Case, repeats: int, only: Sequence[str] | None = None) -> dict[str, float]:
    """Median time of every competitor (or of those named in ``only``) on ``case``."""
    params = case.params()
    runs: dict[str, Callable[[], object]] = {
        name: functools.partial(f, case, params)
        for name, f in competitors().items()
        if only is None or name in only
    }
    return interleaved(runs, repeats)


def optimizers_for(case_name: str, quick: bool) -> tuple[OptimizerName, ...]:
    """All three optimizers, but only plain SGD on the large cases under ``--quick``."""
    return ("sgd",) if quick and "large" in case_name else OPTIMIZERS


# Agreement ---------------------------------------------------------------------------


def max_difference(a: fcfun.Params, b: fcfun.Params) -> float:
    return max(
        max(float(np.abs(x.W - y.W).max()), float(np.abs(x.b - y.b).max()))
        for x, y in zip(a, b, strict=True)
    )


def identical(a: fcfun.Params, b: fcfun.Params) -> bool:
    return all(
        np.array_equal(x.W, y.W) and np.array_equal(x.b, y.b) for x, y in zip(a, b, strict=True)
    )


def verify(case: Case, everyone: bool = True) -> list[str]:
    """Check that the competitors compute what fcfun computes, before anything is timed.

    Only the numpy loop unless ``everyone`` (PyTorch if installed, and scikit-learn).
    """
    params = case.params()
    reference = fcfun_fit(case, params)
    lines = []
    others: dict[str, Competitor] = {"numpy loop": hand_loop}
    if everyone and torch_available():
        others["pytorch"] = torch_fit
    label = f"{case.name}, {case.optimizer_label}"
    for name, f in others.items():
        got = f(case, params)
        loss = max(abs(x - y) for x, y in zip(reference.losses, got.losses, strict=True))
        same = " (bit-identical)" if identical(reference.params, got.params) else ""
        lines.append(
            f"{label}: fcfun vs {name}: max |param diff| "
            f"{max_difference(reference.params, got.params):.1e}{same}, "
            f"max |loss diff| {loss:.1e}"
        )
    if not everyone:
        return lines
    # scikit-learn draws its own order, so compare one epoch on rows pre-permuted by fcfun's.
    order = case.orders()[0]
    one = case._replace(X=case.X[order], Y=case.Y[order], labels=case.labels[order], epochs=1)
    state = fcfun.fit(
        one.spec,
        one.X,
        one.Y,
        optimizer=one.fcfun_optimizer(),
        epochs=1,
        batch_size=one.batch_size,
        seed=0,
        params=params,
        shuffle=False,
    )
    got = sklearn_fit(one, params, shuffle=False)
    note = " (its eps is added before the bias correction)" if case.optimizer == "adam" else ""
    lines.append(
        f"{label}: fcfun vs scikit-learn (1 epoch, same order): max |param diff| "
        f"{max_difference(state.params, got.params):.1e}{note}"
    )
    return lines


# Memory ------------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def memory_child(competitor: str, case_name: str) -> None:
    """Peak memory of one training run in this fresh process, printed as JSON (MiB)."""
    case = make_case(case_name)
    params = case.params()
    f = competitors()[competitor]
    f(case._replace(epochs=1, X=case.X[:512], Y=case.Y[:512], labels=case.labels[:512]), params)
    gc.collect()
    rss_before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the peak resident set size (VmHWM)
    tracemalloc.start()
    f(case, params)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = _status_kib("VmHWM") - rss_before
    print(json.dumps({"traced": traced_peak / 2**20, "rss": rss_peak / 2**10}))


def memory(competitor: str, case_name: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--memory", competitor, case_name]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


# Tables ------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def training_table(times: dict[tuple[str, str], dict[str, float]]) -> str:
    """One row per (case, optimizer); a competitor not timed in a row shows as a dash."""
    names = list(competitors())
    others = [n for n in names if n in ("scikit-learn", "pytorch")]
    header = ["case", "optimizer", *(f"{n} (s)" for n in names)]
    header += ["fcfun / numpy loop", "fcfun / floor", *(f"{n} / fcfun" for n in others)]

    def ratio(t: dict[str, float], a: str, b: str) -> str:
        return f"{t[a] / t[b]:.2f}" if a in t and b in t else "-"

    rows = []
    for (case_name, optimizer), t in times.items():
        row = [case_name, optimizer, *(f"{t[n]:.3f}" if n in t else "-" for n in names)]
        row += [ratio(t, "fcfun", "numpy loop"), ratio(t, "fcfun", "matmul floor")]
        row += [ratio(t, n, "fcfun") for n in others]
        rows.append(row)
    return table(header, rows)


def memory_table() -> str:
    names = [n for n in competitors() if n != "matmul floor"]
    rows = []
    for case_name in CASES:
        peaks = {n: memory(n, case_name) for n in names}
        row = [case_name]
        for n in names:
            traced = "n/a" if n == "pytorch" else f"{peaks[n]['traced']:.1f}"
            row.append(f"{traced} / {peaks[n]['rss']:.1f}")
        ratio = peaks["fcfun"]["traced"] / peaks["numpy loop"]["traced"]
        rows.append([*row, f"{ratio:.2f}"])
    header = ["case", *(f"{n} MiB (traced / RSS)" for n in names), "fcfun / numpy loop (traced)"]
    return table(header, rows)


def scaling_table(repeats: int) -> str:
    rows = []
    previous: dict[str, float] = {}
    runs: list[tuple[str, Case]] = [(f"m = {m}", large(F32, m=m)) for m in (15000, 30000, 60000)]
    runs += [(f"depth {d} (x256)", large(F32, m=15000, hidden=(256,) * d)) for d in (1, 2, 4, 8)]
    for label, case in runs:
        t = interleaved(
            {
                "fcfun": functools.partial(fcfun_fit, case, case.params()),
                "numpy loop": functools.partial(hand_loop, case, case.params()),
            },
            repeats,
        )
        growth = ""
        if label.startswith("m = ") and previous:
            growth = f"{t['fcfun'] / previous['fcfun']:.2f}"
        if label.startswith("m = "):
            previous = t
        rows.append(
            [
                label,
                f"{t['fcfun']:.3f}",
                f"{t['numpy loop']:.3f}",
                f"{t['fcfun'] / t['numpy loop']:.2f}",
                growth,
            ]
        )
    header = ["large float32, 1 epoch", "fcfun (s)", "numpy loop (s)", "ratio", "x per doubling"]
    return table(header, rows)


def inference_table(repeats: int) -> str:
    rows = []
    predictors: dict[str, Predictor] = {"fcfun": fcfun_predict, "numpy loop": hand_predict}
    if torch_available():
        predictors["pytorch"] = torch_predict
    predictors["scikit-learn"] = sklearn_predict
    rows_n = 1_000_000
    for case in (small(F64), large(F32, m=60000)):
        X = np.resize(case.X, (rows_n, case.X.shape[1]))
        spec, p = case.spec, case.params()
        runs: dict[str, Callable[[], object]] = {
            name: functools.partial(f, spec, p, X) for name, f in predictors.items()
        }
        t = interleaved(runs, repeats, warmup=False)
        tracemalloc.start()
        fcfun_predict(spec, p, X)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out_mib = rows_n * spec.sizes[-1] * X.itemsize / 2**20
        rows.append(
            [
                f"{spec.sizes} {X.dtype}",
                *(f"{rows_n / t[k] / 1e6:.2f}" for k in predictors),
                f"{peak / 2**20:.1f} ({out_mib:.1f} output)",
            ]
        )
        del X
    header = ["network, 1e6 rows", *(f"{k} (M rows/s)" for k in predictors)]
    return table([*header, "fcfun peak MiB"], rows)


# Main --------------------------------------------------------------------------------


def machine() -> str:
    import threadpoolctl  # type: ignore[import-untyped]

    blas = [
        f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, "
        f"{i['num_threads']} threads, {os.path.basename(i['filepath'])})"
        for i in threadpoolctl.threadpool_info()
    ]
    lines = [
        f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} cpus, {platform.platform()}",
        *("pool: " + line for line in blas),
    ]
    if torch_available():
        import torch  # type: ignore[import-not-found, unused-ignore]

        lines.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        lines.append(f"{var}={os.environ.get(var, '(unset)')}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--memory"]:
        memory_child(argv[1], argv[2])
        return
    quick = "--quick" in argv
    small_repeats, large_repeats = (3, 1) if quick else (11, 5)
    print(machine(), flush=True)
    print("\n## Agreement (float64; float32 against the numpy loop only)")
    checked = ["small float64", "large float64", "small float32"]
    for name in checked if quick else [*checked, "large float32"]:
        case = make_case(name)
        for optimizer in optimizers_for(name, quick):
            for line in verify(case._replace(optimizer=optimizer), everyone=case.dtype == F64):
                print(line, flush=True)
    times: dict[tuple[str, str], dict[str, float]] = {}
    for name in CASES:
        case = make_case(name)
        for optimizer in optimizers_for(name, quick):
            one = case._replace(optimizer=optimizer)
            repeats = small_repeats if "small" in name else large_repeats
            only = ("fcfun", "numpy loop") if quick and optimizer != "sgd" else None
            times[name, one.optimizer_label] = train_times(one, repeats, only)
            print(f"timed {name}, {one.optimizer_label}", flush=True)
    print("\n## Training time, median of interleaved repeats\n")
    print(training_table(times), flush=True)
    if quick:
        return
    print("\n## Peak memory of one training run\n")
    print(memory_table(), flush=True)
    print("\n## Scaling\n")
    print(scaling_table(3), flush=True)
    print("\n## Inference: predict on 1,000,000 rows in chunks of 8192\n")
    print(inference_table(3), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
