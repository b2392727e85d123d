"""Hostile checkpoints: ``load`` refuses them in bounded time and memory, naming the key.

The worst cases run ``load`` in a child process whose address space is limited to 1 GiB
(2 GiB for the byte-budget cases) above what it uses once numpy and fcfun are imported
and a valid checkpoint was loaded,
with a 60 s timeout (a hang guard). The child prints how long the refusal took and its
peak resident memory during the load (VmHWM, reset just before it); run with ``-s``.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

import fcfun
from fcfun._io import _data, load, save
from fcfun._state import History, TrainState

SPEC = fcfun.mlp([4, 8, 3], hidden="relu", output="softmax", loss="softmax_cross_entropy")
MiB = 1 << 20


def _valid(path: Path) -> Path:
    params = fcfun.init(SPEC, seed=0)
    optimizer = fcfun.adam(0.01)
    save(path, SPEC, TrainState(params, optimizer.init(params), 2, 0, History((1.0, 0.5))))
    return path


def _header(descr: str, shape: tuple[int, ...], version: tuple[int, int] = (1, 0)) -> bytes:
    """A ``.npy`` header as numpy writes it, for any shape and dtype, with no data."""
    buffer = io.BytesIO()
    fields = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buffer, fields)
    else:
        np.lib.format.write_array_header_2_0(buffer, fields)
    return buffer.getvalue()


# A zip written by hand, so that a member's stream, sizes and CRC can be anything.


class Member(NamedTuple):
    name: str
    method: int  # zipfile.ZIP_STORED or ZIP_DEFLATED
    crc: int
    size: int  # what the directory says the member decompresses to
    data: bytes  # the bytes in the archive


def _stored(name: str, data: bytes) -> Member:
    return Member(name, zipfile.ZIP_STORED, zlib.crc32(data), len(data), data)


def _zip(members: list[Member]) -> bytes:
    local, central = bytearray(), bytearray()
    for name, method, crc, size, data in members:
        encoded, offset = name.encode(), len(local)
        # version, flags, method, time, date (1980-01-01), CRC, sizes, name and extra lengths
        common = (0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *common) + encoded + data
        # made by, needed, ..., comment length, disk, internal and external attributes
        entry = (20, 20, *common, 0, 0, 0, 0, offset)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", *entry) + encoded
    count = len(members)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(local), 0)
    return bytes(local + central + end)


def _members(path: Path) -> list[Member]:
    with zipfile.ZipFile(path) as archive:
        return [_stored(info.filename, archive.read(info)) for info in archive.infolist()]


def _replaced(valid: Path, path: Path, *replacements: Member) -> Path:
    """``valid`` with members replaced (or added) by name, written to ``path``."""
    by_name = {member.name: member for member in _members(valid)}
    by_name.update({member.name: member for member in replacements})
    path.write_bytes(_zip(list(by_name.values())))
    return path


@functools.cache
def _bomb(header: bytes, mebibytes: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``header`` and then ``mebibytes`` MiB of zeros, and its CRC.

    After a full flush deflate starts afresh, so each further MiB of zeros compresses to
    the same bytes: the stream is built from three compressed MiB, not from all of them.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(MiB)
    start = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    first, second, third = (
        compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) for _ in range(3)
    )
    assert second == third
    stream = start + first + second * (mebibytes - 1) + compressor.flush()
    crc = zlib.crc32(header)
    for _ in range(mebibytes):
        crc = zlib.crc32(zeros, crc)
    return stream, crc


# The child process ----------------------------------------------------------------------

CHILD = r"""
import json, resource, sys, time
import fcfun

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))

hostile, valid, gibibytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
fcfun.load(valid, optimizer=fcfun.adam(0.01))  # imports and first calls, outside the timing
vm, rss = status("VmSize"), status("VmRSS")
resource.setrlimit(resource.RLIMIT_AS, ((vm << 10) + (gibibytes << 30), resource.RLIM_INFINITY))
try:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # restart the peak (VmHWM) from the present resident size
except OSError:
    pass  # Linux before 4.0: the peak may then be one from before the load
start = time.perf_counter()
try:
    fcfun.load(hostile, optimizer=fcfun.adam(0.01))
    raised, message = None, ""
except BaseException as error:
    raised, message = type(error).__name__, str(error)
seconds = time.perf_counter() - start
print(json.dumps(dict(raised=raised, message=message, seconds=seconds, vm_kib=vm,
                      rss_kib=rss, peak_kib=status("VmHWM"))))
"""


def _load_in_child(hostile: str | Path, valid: Path, gibibytes: int = 1) -> dict[str, Any]:
    """Load ``hostile`` in a child limited to ``gibibytes`` GiB more memory; what it reports."""
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, os.fspath(hostile), os.fspath(valid), str(gibibytes)],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard only: each refusal is timed inside the child
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report: dict[str, Any] = json.loads(completed.stdout)
    print(
        f"\n{os.fspath(hostile)}: {report['raised']} after {report['seconds']:.4f} s, "
        f"peak resident {report['peak_kib'] / 1024:.1f} MiB "
        f"(before the load {report['rss_kib'] / 1024:.1f} MiB)"
    )
    return report


needs_linux = pytest.mark.skipif(
    sys.platform != "linux", reason="RLIMIT_AS and /proc/self/status are Linux's"
)


def _refused_in_child(hostile: str | Path, valid: Path, *phrases: str, gibibytes: int = 1) -> None:
    report = _load_in_child(hostile, valid, gibibytes)
    assert report["raised"] == "ValueError", report
    for phrase in phrases:
        assert phrase in report["message"], report["message"]
    # Bounded memory: no more than 64 MiB above what the process held before the load.
    assert report["peak_kib"] - report["rss_kib"] < 64 << 10, report


@needs_linux
def test_a_zip_bomb_weight_is_refused_before_its_data(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    header = _header("<f8", (4, 8))
    stream, crc = _bomb(header, 3000)  # 3000 MiB of zeros in about 3 MB
    size = len(header) + 3000 * MiB
    bomb = Member("params/0/W.npy", zipfile.ZIP_DEFLATED, crc, size, stream)
    hostile = _replaced(valid, tmp_path / "bomb.npz", bomb)
    assert hostile.stat().st_size < 4 * MiB
    with zipfile.ZipFile(hostile) as archive, archive.open("params/0/W.npy") as member:
        assert member.read(len(header) + MiB) == header + bytes(MiB)  # a real, valid stream
    _refused_in_child(
        hostile,
        valid,
        "cannot be read as an fcfun checkpoint",
        "key 'params/0/W'",
        f"the archive's directory gives the member {size} bytes, its .npy header 384",
    )


@needs_linux
def test_a_zip_bomb_that_hides_its_size_is_read_only_up_to_the_header_size(
    tmp_path: Path,
) -> None:
    valid = _valid(tmp_path / "valid.npz")
    header = _header("<f8", (4, 8))
    stream, crc = _bomb(header, 3000)
    # The directory claims the right size: the stream is read to there and no further,
    # where its CRC (of the whole 3 GB) does not match.
    bomb = Member("params/0/W.npy", zipfile.ZIP_DEFLATED, crc, len(header) + 32 * 8, stream)
    hostile = _replaced(valid, tmp_path / "bomb.npz", bomb)
    _refused_in_child(
        hostile, valid, "cannot be read as an fcfun checkpoint", "key 'params/0/W'", "CRC"
    )


@needs_linux
def test_a_structure_of_zero_width_strings_is_refused(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    header = _header("<U0", (200_000_000, 2))
    structure = _stored("opt_state_structure.npy", header)
    hostile = _replaced(valid, tmp_path / "structure.npz", structure)
    assert hostile.stat().st_size < 16 << 10
    _refused_in_child(
        hostile,
        valid,
        "is not a valid fcfun checkpoint",
        "key 'opt_state_structure' declares an array of shape (200000000, 2) and dtype <U0, "
        "more than it may hold",
    )


@needs_linux
def test_a_huge_shape_is_refused_from_its_header(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    weight = _stored("params/0/W.npy", _header("<f8", (10**6, 10**6)))
    hostile = _replaced(valid, tmp_path / "huge.npz", weight)
    _refused_in_child(
        hostile,
        valid,
        "is not a valid fcfun checkpoint",
        "key 'params/0/W' declares an array of shape (1000000, 1000000) and dtype float64, "
        "more than it may hold: at most 32 values of at most 8 bytes each",
    )


@needs_linux
def test_a_spec_of_huge_layers_without_the_data_is_refused(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    spec = [
        ("spec/sizes.npy", np.array([10**6, 10**6])),
        ("spec/activations.npy", np.array(["identity"])),
        ("spec/loss.npy", np.array("mean_squared_error")),
    ]
    arrays = []
    for name, array in spec:
        buffer = io.BytesIO()
        np.save(buffer, array)
        arrays.append(_stored(name, buffer.getvalue()))
    weight = _stored("params/0/W.npy", _header("<f8", (10**6, 10**6)))
    bias = _stored("params/0/b.npy", _header("<f8", (10**6,)))
    members = [m for m in _members(valid) if not m.name.startswith(("params/", "spec/"))]
    hostile = tmp_path / "huge-spec.npz"
    hostile.write_bytes(_zip([*members, *arrays, weight, bias]))
    _refused_in_child(
        hostile,
        valid,
        "is over the load's byte budget: key 'params/0/W' must fit in the",
        "(the file's size, as its members are stored), got a member that declares "
        "8000000000000 bytes",
    )


@needs_linux
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    _refused_in_child(fifo, valid, f"{str(fifo)!r} cannot be read", "got a FIFO")


@needs_linux
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    _refused_in_child("/dev/zero", valid, "'/dev/zero' cannot be read", "got a character device")


# The byte budget: what the file's size allows, or what the caller gives ----------------


def _deflated_zeros(name: str, descr: str, shape: tuple[int, ...]) -> Member:
    """A deflated member ``name`` of zeros of ``shape``: a whole number of MiB of data."""
    header = _header(descr, shape)
    size = int(np.prod(shape)) * np.dtype(descr).itemsize
    assert size % MiB == 0
    stream, crc = _bomb(header, size // MiB)
    return Member(name, zipfile.ZIP_DEFLATED, crc, len(header) + size, stream)


def _scalar(name: str, value: object) -> Member:
    buffer = io.BytesIO()
    np.save(buffer, np.array(value))
    return _stored(name, buffer.getvalue())


@needs_linux
@pytest.mark.parametrize("mebibytes", [80, 600])
def test_a_history_beyond_the_epoch_count_is_refused_from_its_header(
    tmp_path: Path, mebibytes: int
) -> None:
    valid = _valid(tmp_path / "valid.npz")  # 2 epochs
    history = _deflated_zeros("history/train_loss.npy", "<f8", (mebibytes * MiB // 8,))
    hostile = _replaced(valid, tmp_path / "history.npz", history)
    assert hostile.stat().st_size < mebibytes * MiB // 500
    values = mebibytes * MiB // 8
    _refused_in_child(
        hostile,
        valid,
        "is not a valid fcfun checkpoint",
        f"key 'history/train_loss' declares an array of shape ({values},) and dtype float64, "
        "more than it may hold: at most 2 values",
        "one per epoch",
        gibibytes=2,
    )


@needs_linux
def test_a_history_within_a_huge_epoch_count_is_refused_by_the_budget(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    history = _deflated_zeros("history/train_loss.npy", "<f8", (600 * MiB // 8,))
    hostile = _replaced(valid, tmp_path / "history.npz", history, _scalar("epoch.npy", 2**40))
    size = hostile.stat().st_size
    _refused_in_child(
        hostile,
        valid,
        "is over the load's byte budget: key 'history/train_loss' must fit in the",
        f"budget of {100 * size} bytes",
        f"got a member that declares {600 * MiB} bytes",
        "100 times the file's size",
        "max_bytes",
        gibibytes=2,
    )


@needs_linux
def test_a_spec_of_huge_layers_with_deflated_zeros_is_refused_by_the_budget(
    tmp_path: Path,
) -> None:
    valid = _valid(tmp_path / "valid.npz")
    n = 16384
    members = [
        _scalar("spec/sizes.npy", [n, n]),
        _scalar("spec/activations.npy", ["identity"]),
        _scalar("spec/loss.npy", "mean_squared_error"),
        _deflated_zeros("params/0/W.npy", "<f4", (n, n)),
        _scalar("params/0/b.npy", np.zeros(n, np.float32)),
    ]
    kept = [m for m in _members(valid) if not m.name.startswith(("params/", "spec/"))]
    hostile = tmp_path / "huge-spec.npz"
    hostile.write_bytes(_zip([*kept, *members]))
    size = hostile.stat().st_size
    assert size < 2 * MiB
    _refused_in_child(
        hostile,
        valid,
        "is over the load's byte budget: key 'params/0/W' must fit in the",
        f"budget of {100 * size} bytes",
        f"got a member that declares {n * n * 4} bytes",
        gibibytes=2,
    )


# Smaller hostile members, refused in this process --------------------------------------


def _refused(path: Path, *phrases: str) -> None:
    with pytest.raises(ValueError, match=".*".join(map(re.escape, phrases))):
        load(path, optimizer=fcfun.adam(0.01))


def test_a_directory_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, "cannot be read", "it must be a regular file, got a directory")


def test_a_header_that_claims_gigabytes_of_header_is_refused(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    claim = b"\x93NUMPY\x02\x00" + (2**32 - 1).to_bytes(4, "little") + b"{"
    hostile = _replaced(valid, tmp_path / "header.npz", _stored("spec/loss.npy", claim))
    _refused(hostile, "key 'spec/loss'", "a .npy header of 4294967295 bytes")


def test_a_header_that_numpy_cannot_tokenize_is_refused(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    text = b"{'descr': '<f8', 'fortran_order': False, 'shape': ((4, 8), }\n"
    header = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text
    hostile = _replaced(valid, tmp_path / "header.npz", _stored("params/0/W.npy", header))
    _refused(hostile, "key 'params/0/W'", "cannot parse the .npy header")


def test_a_negative_shape_is_refused(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    header = _stored("params/0/W.npy", _header("<f8", (-4, -8)) + bytes(256))
    hostile = _replaced(valid, tmp_path / "negative.npz", header)
    _refused(hostile, "key 'params/0/W'", "declares shape (-4, -8)")


def test_zero_width_strings_of_the_right_count_are_refused(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    with zipfile.ZipFile(valid) as archive:
        nodes = len(np.load(io.BytesIO(archive.read("opt_state_structure.npy"))))
    header = _stored("opt_state_structure.npy", _header("<U0", (nodes, 2)))
    hostile = _replaced(valid, tmp_path / "structure.npz", header)
    _refused(hostile, "key 'opt_state_structure'", "whose values have no bytes")


def test_a_long_activation_name_is_refused_from_its_header(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    header = _stored("spec/activations.npy", _header("<U100000", (2,)) + bytes(800_000))
    hostile = _replaced(valid, tmp_path / "names.npz", header)
    _refused(hostile, "key 'spec/activations'", "at most 2 values of at most 1024 bytes")


def test_a_member_shorter_than_its_header_is_refused(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    header = _header("<f8", (4, 8))
    crc = zlib.crc32(header)  # right for what the stream holds, so the length is what fails
    short = Member("params/0/W.npy", zipfile.ZIP_STORED, crc, len(header) + 256, header)
    hostile = _replaced(valid, tmp_path / "short.npz", short)
    _refused(hostile, "cannot be read", "key 'params/0/W'", "ends after 0 of the 256 bytes")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_members_of_other_compressions_are_refused(tmp_path: Path, method: int) -> None:
    valid = _valid(tmp_path / "valid.npz")
    hostile = tmp_path / "other.npz"
    with zipfile.ZipFile(valid) as source, zipfile.ZipFile(hostile, "w") as target:
        for info in source.infolist():
            compression = method if info.filename == "params/1/W.npy" else zipfile.ZIP_STORED
            target.writestr(info.filename, source.read(info), compress_type=compression)
    name = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}[method]
    _refused(hostile, f"key 'params/1/W' is compressed with zip method {method} ({name})")


def test_a_deflated_checkpoint_still_loads(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    with np.load(valid) as archive:
        arrays = {key: archive[key] for key in archive.files}
    np.savez_compressed(tmp_path / "deflated.npz", **arrays)
    spec, state = load(tmp_path / "deflated.npz", optimizer=fcfun.adam(0.01))
    assert fcfun.fingerprint((spec, state)) == fcfun.fingerprint(
        load(valid, optimizer=fcfun.adam(0.01))
    )


def _data_bytes(path: Path) -> int:
    """The bytes of data (after each .npy header) of the members ``load`` reads: all but
    the replay record."""
    with np.load(path) as archive:
        keys = [key for key in archive.files if not key.startswith("environment/")]
        return sum(archive[key].nbytes for key in keys)


def test_max_bytes_is_the_most_member_data_read(tmp_path: Path) -> None:
    valid = _valid(tmp_path / "valid.npz")
    needed = _data_bytes(valid)
    spec, state = load(valid, optimizer=fcfun.adam(0.01), max_bytes=needed)
    assert fcfun.fingerprint((spec, state)) == fcfun.fingerprint(
        load(valid, optimizer=fcfun.adam(0.01))
    )
    with pytest.raises(ValueError, match=r"budget of \d+ bytes \(max_bytes\)"):
        load(valid, optimizer=fcfun.adam(0.01), max_bytes=needed - 1)
    with pytest.raises(
        ValueError, match=r"key 'format_version' must fit in the 0 bytes left .* declares 8 bytes"
    ):
        load(valid, optimizer=fcfun.adam(0.01), max_bytes=0)
    with pytest.raises(ValueError, match="max_bytes must be an integer >= 0, got -1"):
        load(valid, optimizer=fcfun.adam(0.01), max_bytes=-1)
    with pytest.raises(TypeError, match="max_bytes must be an integer >= 0, got float"):
        load(valid, optimizer=fcfun.adam(0.01), max_bytes=1e9)  # type: ignore[arg-type]


def test_a_deflated_fresh_lbfgs_checkpoint_fits_the_default_budget(tmp_path: Path) -> None:
    # The default's ratio (100) is meant to hold the most compressible state save writes:
    # a fresh L-BFGS state, whose (memory, n) pairs and its point and gradient are zeros.
    spec = fcfun.mlp([64, 64, 10], output="identity", loss="half_squared_error")
    params = fcfun.init(spec, seed=0)
    optimizer = fcfun.lbfgs(memory=10)
    fresh = TrainState(params, optimizer.init(params), 0, 0, History())
    save(tmp_path / "run.npz", spec, fresh)
    with np.load(tmp_path / "run.npz") as archive:
        np.savez_compressed(tmp_path / "deflated.npz", **{k: archive[k] for k in archive.files})
    deflated = tmp_path / "deflated.npz"
    assert _data_bytes(deflated) > 20 * deflated.stat().st_size  # mostly compressed away
    _, loaded = load(deflated, optimizer=optimizer)
    assert fcfun.fingerprint(loaded) == fcfun.fingerprint(fresh)


def test_fortran_ordered_arrays_round_trip(tmp_path: Path) -> None:
    params = fcfun.init(SPEC, seed=0)
    params = tuple(p._replace(W=np.asfortranarray(p.W)) for p in params)
    state = TrainState(params, fcfun.adam(0.01).init(params), 0, 0, History())
    save(tmp_path / "run.npz", SPEC, state)
    _, loaded = load(tmp_path / "run.npz", optimizer=fcfun.adam(0.01))
    for got, want in zip(loaded.params, params, strict=True):
        np.testing.assert_array_equal(got.W, want.W)


def test_a_stream_is_read_only_to_one_byte_past_its_size() -> None:
    stream = io.BytesIO(bytes(10 * MiB))
    with pytest.raises(ValueError, match="runs past the 100 bytes"):
        _data(stream, 100)
    assert stream.tell() == 101
    with pytest.raises(ValueError, match="ends after 10 of the 100 bytes"):
        _data(io.BytesIO(bytes(10)), 100)
    assert _data(io.BytesIO(bytes(100)), 100) == bytes(100)
