"""Malformed sparse input: refused by its index structure before scipy's kernels read it.

scipy's products and conversions trust ``indptr`` and ``indices``; an index out of range
reads or writes outside the arrays (a segfault, heap corruption or garbage). Each kind of
malformed matrix runs in a subprocess, which must exit normally (a negative return code
is death by a signal) and print the ``ValueError``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import fcfun

RNG = np.random.default_rng(5)
DENSE = RNG.standard_normal((8, 5))
DENSE[RNG.random((8, 5)) < 0.5] = 0.0
DENSE[:, 0] = 1.0  # every row and column stores a value
LABELS = np.arange(8) % 3
SPEC = fcfun.mlp([5, 4, 3], output="softmax", loss="softmax_cross_entropy")
FIT: dict[str, Any] = {"optimizer": fcfun.sgd(0.1), "epochs": 1, "batch_size": 3, "seed": 0}

# Each kind: (format, the statement that breaks ``m``, what the message says).
MALFORMED = {
    "column index of 1,000,000": ("csr", "m.indices[3] = 1_000_000", "must be in [0, 5)"),
    "column index of -1": ("csr", "m.indices[0] = -1", "got -1 at position 0"),
    "decreasing indptr": ("csr", "m.indptr[2] = m.indptr[-1]", "must be non-decreasing"),
    "indptr of the wrong length": ("csr", "m.indptr = m.indptr[:-3]", "must have 9 entries"),
    "indptr ending beyond the values": ("csr", "m.indptr[-1] += 7", "must agree"),
    "indptr starting above 0": ("csr", "m.indptr[0] = 1", "must start at 0"),
    "CSC row index out of range": ("csc", "m.indices[1] = 10**9", "must be in [0, 8)"),
    "COO row index out of range": ("coo", "m.row[2] = 8", "row must be in [0, 8)"),
    "BSR block column out of range": ("bsr", "m.indices[0] = 5", "must be in [0, 5)"),
}

CALLS = {
    "predict": "fcfun.predict(spec, fcfun.init(spec, 0), m)",
    "loss_and_grad": "fcfun.loss_and_grad(spec, fcfun.init(spec, 0), m, y)",
    "fit": "fcfun.fit(spec, m, y, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=3, seed=0)",
    "FCClassifier.fit": "FCClassifier((4,), max_iter=1).fit(m, y)",
    "FCClassifier.predict": "FCClassifier((4,), max_iter=1).fit(dense, y).predict(m)",
}


def _matrix(kind: str) -> sp.spmatrix:
    sparse_format, breaking, _ = MALFORMED[kind]
    m = sp.csr_matrix(DENSE).asformat(sparse_format)
    exec(breaking, {}, {"m": m})  # the same statement the subprocess runs
    return m


SETUP = """
import warnings
import numpy as np, scipy.sparse as sp
import fcfun
from fcfun.sklearn import FCClassifier
warnings.simplefilter("ignore")  # the estimators' convergence warning
rng = np.random.default_rng(5)
dense = rng.standard_normal((8, 5))
dense[rng.random((8, 5)) < 0.5] = 0.0
dense[:, 0] = 1.0
y = np.arange(8) % 3
spec = fcfun.mlp([5, 4, 3], output="softmax", loss="softmax_cross_entropy")
"""

ATTEMPT = """
m = sp.csr_matrix(dense).asformat({sparse_format!r})
{breaking}
try:
    {call}
except ValueError as error:
    print({name!r}, "ValueError:", error)
else:
    print({name!r}, "accepted")
"""


@pytest.mark.parametrize("kind", MALFORMED)
def test_a_malformed_matrix_is_refused_without_a_crash(kind: str) -> None:
    """One process per kind, every call in turn on a fresh matrix; it must not die."""
    sparse_format, breaking, expected = MALFORMED[kind]
    script = SETUP + "".join(
        ATTEMPT.format(sparse_format=sparse_format, breaking=breaking, call=call, name=name)
        for name, call in CALLS.items()
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])  # < 0: a signal
    lines = done.stdout.splitlines()
    assert [line.split(" ValueError: ")[0] for line in lines] == list(CALLS), lines
    for line in lines:
        assert " ValueError: X must be a well-formed" in line, line
        assert expected in line, line


@pytest.mark.parametrize("kind", MALFORMED)
def test_the_message_names_x_and_the_fault(kind: str) -> None:
    with pytest.raises(ValueError, match=r"^X must be a well-formed") as caught:
        fcfun.loss_and_grad(SPEC, fcfun.init(SPEC, 0), _matrix(kind), LABELS)
    assert MALFORMED[kind][2] in str(caught.value)


def test_validation_data_is_named() -> None:
    with pytest.raises(ValueError, match=r"^validation X must be a well-formed CSR"):
        fcfun.fit(
            SPEC, DENSE, LABELS, validation=(_matrix("column index of 1,000,000"), LABELS), **FIT
        )


def _non_canonical(dense: np.ndarray, csc: bool) -> sp.spmatrix:
    """``dense`` compressed by rows (columns for ``csc``) with each line's indices in
    decreasing order and its first value stored twice as two halves (exact halves)."""
    lines = dense.T if csc else dense
    data, indices, indptr = [], [], [0]
    for line in lines:
        (where,) = np.nonzero(line)
        where = where[::-1]
        values = line[where]
        data += [values[0] / 2, values[0] / 2, *values[1:]]
        indices += [where[0], where[0], *where[1:]]
        indptr.append(len(data))
    arrays = (np.array(data), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int32))
    return (sp.csc_matrix if csc else sp.csr_matrix)(arrays, shape=dense.shape)


@pytest.mark.parametrize("sparse_format", ["csr", "csc", "coo"])
def test_the_callers_matrix_is_left_byte_identical(sparse_format: str) -> None:
    """Unsorted indices and duplicates are canonicalised on fcfun's own copy."""
    m = _non_canonical(DENSE, csc=sparse_format == "csc")
    if sparse_format == "coo":
        m = m.tocoo()
    fields = ("data", "row", "col") if sparse_format == "coo" else ("data", "indices", "indptr")
    before = [getattr(m, field).tobytes() for field in fields]
    assert sparse_format == "coo" or not m.has_sorted_indices
    params = fcfun.init(SPEC, 0)
    loss, grads = fcfun.loss_and_grad(SPEC, params, m, LABELS)
    dense_loss, dense_grads = fcfun.loss_and_grad(SPEC, params, DENSE, LABELS)
    fcfun.predict(SPEC, params, m)
    fcfun.fit(SPEC, m, LABELS, **FIT)
    assert [getattr(m, field).tobytes() for field in fields] == before
    # The sparse product sums in another order than BLAS: a few ulps (float64 eps 2.2e-16)
    # of sums of five terms of order 1, through two tanh-free layers and a softmax: 1e-13.
    assert loss == pytest.approx(dense_loss, rel=1e-13)
    for a, b in zip(grads, dense_grads, strict=True):
        np.testing.assert_allclose(a.W, b.W, rtol=0, atol=1e-13)


def test_a_well_formed_bsr_and_lil_are_taken() -> None:
    params = fcfun.init(SPEC, 0)
    expected = fcfun.predict(SPEC, params, DENSE)
    for matrix in (sp.bsr_matrix(DENSE, blocksize=(2, 1)), sp.lil_matrix(DENSE)):
        # Sparse products sum in another order than BLAS: a few ulps of outputs of order 1.
        np.testing.assert_allclose(fcfun.predict(SPEC, params, matrix), expected, atol=1e-14)
