"""A network's summary: one line per layer, as text that prints well."""

from __future__ import annotations

import numpy as np

from fcfun._spec import MLP, check_spec, params_dtype
from fcfun._types import Params


def summary(spec: MLP, params: Params | None = None) -> str:
    """A table of the layers: shapes, activations, parameter counts and bytes.

    With ``params``, also their dtype and each layer's weight and bias norms (the
    Frobenius norm of ``W`` and the L2 norm of ``b``); without, the bytes are float64's.

    >>> import fcfun
    >>> spec = fcfun.mlp([4, 8, 3], output="softmax", loss="softmax_cross_entropy")
    >>> print(summary(spec))
    MLP 4-8-3, loss softmax_cross_entropy (fused with the softmax output)
    layer  shape   activation  parameters  bytes (float64)
        0  4 -> 8  relu                40              320
        1  8 -> 3  softmax             27              216
    total                              67              536
    """
    spec = check_spec(spec)
    dtype = np.dtype(np.float64) if params is None else params_dtype(spec, params)
    pairing = (
        f"fused with the {spec.output.name} output"
        if spec.fused
        else f"on the {spec.output.name} output"
    )
    header = ["layer", "shape", "activation", "parameters", f"bytes ({dtype})"]
    if params is not None:
        header += ["|W|", "|b|"]
    rows: list[list[str]] = []
    total = 0
    for index, (n_in, n_out, activation) in enumerate(
        zip(spec.sizes, spec.sizes[1:], spec.activations, strict=False)
    ):
        count = n_in * n_out + n_out
        total += count
        row = [str(index), f"{n_in} -> {n_out}", activation.name, f"{count:,}"]
        row.append(f"{count * dtype.itemsize:,}")
        if params is not None:
            layer = params[index]
            row += [
                f"{float(np.linalg.norm(layer.W)):.4g}",
                f"{float(np.linalg.norm(layer.b)):.4g}",
            ]
        rows.append(row)
    footer = ["total", "", "", f"{total:,}", f"{total * dtype.itemsize:,}"]
    if params is not None:
        footer += ["", ""]
    table = [header, *rows, footer]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    right = {0, 3, 4, 5, 6}  # numbers line up on the right

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if column in right and cells is not header else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    title = f"MLP {'-'.join(map(str, spec.sizes))}, loss {spec.loss.name} ({pairing})"
    return "\n".join([title, *(line(cells) for cells in table)])
