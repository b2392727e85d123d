#!/usr/bin/env bash
# Tested as installed: build fcfun's sdist and wheel from the work tree's project files,
# check their contents and metadata, install the wheel into a fresh virtual environment
# (numpy and toolz resolved by pip as a user's install would) and smoke-test it from a
# directory outside the source tree; mypy then type-checks a snippet against the installed
# package.
#
#   bash .ci/wheel_smoke.sh [PYTHON]    # PYTHON: the project's venv python (has build, mypy)
#
# Prints one line per check, cleans up its temporary directory, exits non-zero on failure.
set -euo pipefail

python_arg=${1:-.venv/bin/python}
case $python_arg in
    /*) PY=$python_arg ;;
    *) PY=$PWD/$python_arg ;;  # relative to where the script was called; not resolved,
esac                           # so a venv's python stays the venv's
cd "$(dirname "$0")/.."
ROOT=$PWD
start=$SECONDS

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fcfun-wheel-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

fail() {  # fail STEP LOG: print the step's log and stop
    echo "FAIL  $1 (log follows)"
    sed 's/^/      /' "$2" | tail -n 40
    exit 1
}

if ! "$PY" -c 'import build, packaging, mypy' 2>/dev/null; then
    echo "FAIL  setup: $PY needs build, packaging and mypy (the dev extra: make setup)"
    exit 1
fi

# 1. The project's files as the work tree has them (uncommitted changes and new files git
#    does not ignore included; .venv, caches, site/, build/, dist/, *.egg-info left out),
#    so a stale build/ or egg-info cannot leak into the distributions.
"$PY" .ci/dist_check.py copy "$ROOT" "$TMP/src"

# 2. sdist, then the wheel built from the sdist, in isolated build environments.
if ! "$PY" -m build --outdir "$TMP/dist" "$TMP/src" >"$TMP/build.log" 2>&1; then
    fail "build: python -m build" "$TMP/build.log"
fi
if grep -E '[A-Za-z]+Warning\b|^\s*!!' "$TMP/build.log" >"$TMP/warnings.log"; then
    fail "build: the build warned" "$TMP/warnings.log"
fi
backend=$(grep -oE 'setuptools==[0-9.]+' "$TMP/build.log" | head -n 1 || true)
echo "ok    build: sdist and wheel (python -m build, isolated, ${backend:-setuptools})"

# 3. Contents and metadata of both.
"$PY" .ci/dist_check.py check "$TMP/dist" "$TMP/src"
version=$("$PY" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$TMP/src/pyproject.toml")

# 4. A fresh venv with the wheel and what pip resolves for it (numpy, toolz): installed by
#    the project venv's pip (--python), which saves ensurepip's seconds; the fresh venv
#    gets no pip, setuptools or anything else of its own.
"$PY" -m venv --without-pip "$TMP/venv"
VPY=$TMP/venv/bin/python
wheel=$(echo "$TMP"/dist/*.whl)
if ! "$PY" -m pip --python "$VPY" install --quiet --no-compile "$wheel" >"$TMP/pip.log" 2>&1; then
    fail "install: pip install $(basename "$wheel")" "$TMP/pip.log"
fi
if ! "$PY" -m pip --python "$VPY" check >"$TMP/pipcheck.log" 2>&1; then
    fail "install: pip check" "$TMP/pipcheck.log"
fi
installed=$("$PY" -m pip --python "$VPY" list --format freeze 2>/dev/null | tr '\n' ' ')
echo "ok    install: wheel into a fresh venv, dependencies from the index: ${installed% }"

# 5. The smoke test, from a directory outside the repository, in isolated mode (-I: no
#    PYTHONPATH, no user site, no script or current directory on sys.path), warnings errors.
mkdir "$TMP/run"
cp .ci/smoke.py "$TMP/run/smoke.py"
(cd "$TMP/run" && "$VPY" -I -W error smoke.py "$TMP/venv" "$ROOT" "$version")

# 6. mypy sees the installed package's types: the project's mypy, pointed at the fresh
#    venv's site-packages (--python-executable), checks a snippet from outside the repo.
#    A typed fcfun gives exactly the one planted error below (an untyped or missing one
#    gives import errors or none), and mypy must have read fcfun from the fresh venv.
cat >"$TMP/run/typed_use.py" <<'EOF'
import fcfun

spec = fcfun.mlp([2, 3, 1], hidden=fcfun.relu, output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
params: fcfun.Params = fcfun.init(spec, seed=0)
digest: str = fcfun.fingerprint(params)
planted: int = fcfun.fingerprint(params)
EOF
printf '[mypy]\n' >"$TMP/run/mypy.ini"
(cd "$TMP/run" && env -u MYPYPATH "$PY" -m mypy --config-file mypy.ini --strict -v \
    --python-executable "$VPY" --cache-dir "$TMP/mypy_cache" typed_use.py \
    >"$TMP/mypy.out" 2>"$TMP/mypy.log") || true
expected='typed_use.py:6: error: Incompatible types in assignment (expression has type "str", variable has type "int")  [assignment]'
errors=$(grep -E '^typed_use\.py:[0-9]+: error' "$TMP/mypy.out" || true)
parsed=$(grep -oE 'Parsing [^ ]*/fcfun/__init__\.py' "$TMP/mypy.log" | head -n 1 | cut -d' ' -f2 || true)
if [[ $errors != "$expected" ]]; then
    cat "$TMP/mypy.out" >>"$TMP/mypy.log"
    fail "typed: mypy --strict on a snippet: expected only the planted error" "$TMP/mypy.out"
fi
if [[ $parsed != "$TMP/venv/"* ]]; then
    fail "typed: mypy read fcfun from ${parsed:-nowhere}, not the fresh venv" "$TMP/mypy.out"
fi
echo "ok    typed: mypy --strict reads fcfun's types from the fresh venv (py.typed honoured)"

echo "ok    wheel smoke: all checks passed in $((SECONDS - start))s"
