"""Helpers of .ci/wheel_smoke.sh that run in the project's environment (stdlib + packaging).

``copy ROOT DEST``: copy the project's files as the work tree has them (tracked files with
their uncommitted changes, plus new files git does not ignore) into ``DEST``, leaving out
virtual environments, caches and build outputs, so the build sees what a commit would hold.

``check DIST SRC``: check the sdist and the wheel in ``DIST`` against ``SRC/pyproject.toml``
and the package files in ``SRC``. Prints one line per check; exits 1 on any failure.
"""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

# The runtime dependencies, by policy (README: "Runtime dependencies: numpy and toolz").
RUNTIME = {"numpy", "toolz"}
# Never part of a distribution, wherever they are.
JUNK_PARTS = {
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".import_linter_cache",
    ".ipynb_checkpoints",
    ".git",
}
# Build outputs at the top of the tree.
JUNK_TOP = {"site", "dist", "build", ".venv", "venv"}
# Folders that must never be in the wheel.
NOT_IN_WHEEL = {"tests", "benchmarks", "examples", "docs", "typings", "site"}


def is_junk(path: PurePosixPath) -> bool:
    return (
        path.parts[0] in JUNK_TOP
        or any(part in JUNK_PARTS or part.endswith(".egg-info") for part in path.parts)
        or path.suffix in {".pyc", ".pyo"}
    )


def copy(root: Path, dest: Path) -> None:
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    untracked = set(
        subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--others", "--exclude-standard"],
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    copied, new, skipped = 0, [], []
    for name in sorted({n for n in listed.split("\0") if n}):
        path = PurePosixPath(name)
        source = root / name
        if is_junk(path):
            skipped.append(name)
            continue
        if not source.is_file():  # deleted in the work tree, or a submodule
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
        copied += 1
        if name in untracked:
            new.append(name)
    note = f"; {len(new)} not yet added to git: {', '.join(new[:6])}" if new else ""
    note += f"; left out {len(skipped)} cache/build files" if skipped else ""
    print(f"ok    sources: copied {copied} project files of the work tree{note}")


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def run(self, name: str, body: Callable[[], str]) -> None:
        try:
            detail = body()
        except Exception as exc:  # a check's failure is reported, the others still run
            self.failed += 1
            print(f"FAIL  {name}: {exc}")
        else:
            print(f"ok    {name}: {detail}")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def req_key(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{canonicalize_name(req.name)}{extras}{req.specifier}"


def grouped(requires: list[Requirement], extras: list[str]) -> dict[str, set[str]]:
    """Requirements by extra ('' for the base ones), from Requires-Dist entries."""
    groups: dict[str, set[str]] = {"": set()}
    for req in requires:
        if req.marker is None:
            groups[""].add(req_key(req))
            continue
        hits = [x for x in extras if req.marker.evaluate({"extra": x})]
        require(bool(hits), f"Requires-Dist {req} is in no declared extra")
        for x in hits:
            groups.setdefault(x, set()).add(req_key(req))
    return groups


def check(dist: Path, src: Path) -> int:
    project = tomllib.loads((src / "pyproject.toml").read_text())["project"]
    name, version = canonicalize_name(project["name"]), project["version"]
    readme = (src / project["readme"]).read_text()
    checks = Checks()

    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        print(f"FAIL  build: expected one sdist and one wheel, got {sorted(dist.iterdir())}")
        return 1
    sdist, wheel = sdists[0], wheels[0]

    def filenames() -> str:
        s_name, s_version = parse_sdist_filename(sdist.name)
        w_name, w_version, _, tags = parse_wheel_filename(wheel.name)
        require((s_name, str(s_version)) == (name, version), f"sdist is {sdist.name}")
        require((w_name, str(w_version)) == (name, version), f"wheel is {wheel.name}")
        require({str(t) for t in tags} == {"py3-none-any"}, f"wheel tags {sorted(map(str, tags))}")
        return f"{sdist.name}, {wheel.name} (pure Python)"

    checks.run("file names", filenames)

    package_files = {
        p.relative_to(src).as_posix()
        for p in (src / "fcfun").rglob("*")
        if p.is_file() and not is_junk(PurePosixPath(p.relative_to(src).as_posix()))
    }

    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        prefix = f"{sdist.name.removesuffix('.tar.gz')}/"
        sdist_files = {m.name.removeprefix(prefix) for m in members}
        pkg_info_member = tar.extractfile(prefix + "PKG-INFO")
        require(pkg_info_member is not None, "sdist has no PKG-INFO")
        pkg_info = pkg_info_member.read() if pkg_info_member else b""

    def sdist_contents() -> str:
        outside = [m.name for m in members if not m.name.startswith(prefix) or ".." in m.name]
        require(not outside, f"members outside {prefix}: {outside[:5]}")
        junk = sorted(f for f in sdist_files if is_junk(PurePosixPath(f)) and "egg-info" not in f)
        require(not junk, f"caches or build outputs: {junk[:8]}")
        wanted = {"PKG-INFO", "pyproject.toml", project["readme"]} | package_files
        missing = sorted(wanted - sdist_files)
        require(not missing, f"missing {missing}")
        return f"{len(sdist_files)} files, every package file, no caches or build outputs"

    checks.run("sdist contents", sdist_contents)

    with zipfile.ZipFile(wheel) as zf:
        wheel_files = set(zf.namelist())
        info = f"{name}-{version}.dist-info"
        metadata_bytes = zf.read(f"{info}/METADATA")
        wheel_meta = email.parser.BytesParser().parsebytes(zf.read(f"{info}/WHEEL"))

    def wheel_contents() -> str:
        tops = {PurePosixPath(f).parts[0] for f in wheel_files}
        require(tops == {"fcfun", info}, f"top-level entries {sorted(tops)}")
        banned = sorted(f for f in wheel_files if set(PurePosixPath(f).parts) & NOT_IN_WHEEL)
        require(not banned, f"not package files: {banned[:8]}")
        junk = sorted(f for f in wheel_files if is_junk(PurePosixPath(f)))
        require(not junk, f"caches: {junk[:8]}")
        require("fcfun/py.typed" in wheel_files, "no fcfun/py.typed: the package is not typed")
        in_wheel = {f for f in wheel_files if f.startswith("fcfun/")}
        missing, extra = sorted(package_files - in_wheel), sorted(in_wheel - package_files)
        require(not missing, f"package files missing from the wheel: {missing}")
        require(not extra, f"files in the wheel that are not in the sources: {extra}")
        require(wheel_meta["Root-Is-Purelib"] == "true", "Root-Is-Purelib is not true")
        return (
            f"exactly the {len(package_files)} files of fcfun/ incl. py.typed; "
            "no tests/, benchmarks/, examples/, docs/"
        )

    checks.run("wheel contents", wheel_contents)

    for label, raw in (("wheel METADATA", metadata_bytes), ("sdist PKG-INFO", pkg_info)):

        def metadata(raw: bytes = raw) -> str:
            # Strict parsing: unknown fields, bad versions or requirements raise.
            meta = Metadata.from_email(raw, validate=True)
            require(canonicalize_name(meta.name) == name, f"Name {meta.name}")
            require(str(meta.version) == version, f"Version {meta.version}, expected {version}")
            require(
                str(meta.requires_python) == project["requires-python"],
                f"Requires-Python {meta.requires_python}",
            )
            require(
                meta.license_expression == project["license"],
                f"License-Expression {meta.license_expression!r}",
            )
            require(meta.license is None, "deprecated License field set")
            classifiers = [c for c in meta.classifiers or [] if c.startswith("License ::")]
            require(not classifiers, f"license classifiers {classifiers}")
            require(
                meta.description_content_type == "text/markdown",
                f"Description-Content-Type {meta.description_content_type}",
            )
            require(
                (meta.description or "").strip() == readme.strip(),
                "long description is not README.md",
            )
            optional = project.get("optional-dependencies", {})
            extras = [str(x) for x in meta.provides_extra or []]
            require(
                sorted(extras) == sorted(canonicalize_name(x) for x in optional),
                f"Provides-Extra {extras}, pyproject has {sorted(optional)}",
            )
            got = grouped(list(meta.requires_dist or []), extras)
            base = {canonicalize_name(Requirement(k).name) for k in got[""]}
            require(base == RUNTIME, f"runtime Requires-Dist {sorted(got[''])}, want numpy+toolz")
            want = {"": {req_key(Requirement(r)) for r in project["dependencies"]}}
            for x, reqs in optional.items():
                want[canonicalize_name(x)] = {req_key(Requirement(r)) for r in reqs}
            require(got == want, f"Requires-Dist {got} differs from pyproject.toml {want}")
            return (
                f"valid {meta.metadata_version}; {meta.name} {meta.version}, "
                f"Requires-Python {meta.requires_python}, License-Expression "
                f"{meta.license_expression}, Requires-Dist {' '.join(sorted(got['']))} "
                f"+ extras {','.join(extras)}"
            )

        checks.run(label, metadata)

    def same_metadata() -> str:
        wheel_m = Metadata.from_email(metadata_bytes, validate=True)
        sdist_m = Metadata.from_email(pkg_info, validate=True)
        fields = ["name", "version", "requires_python", "requires_dist", "provides_extra"]
        fields += ["license_expression", "description", "summary"]
        differ = [f for f in fields if getattr(wheel_m, f) != getattr(sdist_m, f)]
        require(not differ, f"sdist and wheel differ in {differ}")
        return "sdist PKG-INFO and wheel METADATA agree"

    checks.run("metadata agree", same_metadata)

    files = Metadata.from_email(metadata_bytes, validate=False).license_files or []
    if not files:
        print(
            f"warn  license: License-Expression {project['license']} but no license text in "
            "the wheel (add a LICENSE file at the top; setuptools picks it up)"
        )
    return 1 if checks.failed else 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "copy":
        try:
            copy(Path(argv[1]), Path(argv[2]))
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"FAIL  sources: listing the project's files with git: {exc}")
            return 1
        return 0
    if len(argv) == 3 and argv[0] == "check":
        return check(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
