#!/usr/bin/env bash
# Creates .venv/ in the repository root and installs the verified working stack:
#   torch 2.14.1 + torchvision 0.29.1, numpy 1.26.4, opencv-python<5, mmengine 0.10.7,
#   mmcv 2.1.0 (compiled ops), mmdet 3.3.0, mmpose 1.3.2 (without chumpy), xtcocotools 1.14.3,
#   openmim, the test tools, and this plugin in editable mode.
# The torch and torchvision versions are read from the constraints file, so the same script builds
# the second (classic MMPose, torch 2.1.2) stack: see scripts/setup_compat_env.sh.
# Idempotent: every step is skipped when what it installs is already there.
# Environment:
#   PYTHON       interpreter to build the venv from (default: python3.11, then python3)
#   WHEELHOUSE   folder with a prebuilt mmcv-2.1.0 wheel for that torch (default: ../shared/wheels)
#   VENV         venv folder (default: .venv)
#   CONSTRAINTS  the stack's pins (default: requirements/constraints.txt)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
WHEELHOUSE="${WHEELHOUSE:-$ROOT/../shared/wheels}"
CONSTRAINTS="${CONSTRAINTS:-$ROOT/requirements/constraints.txt}"
# optional extras installed after the test tools (empty: none)
DEPLOY_REQUIREMENTS="${DEPLOY_REQUIREMENTS-$ROOT/requirements/deploy.txt}"
STAMP="$VENV/.rtmo_plugin_setup_ok"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }
pin() {  # the exact version a constraints line pins: pin torch -> 2.14.1
  sed -n "s/^$1==\([^ #]*\).*/\1/p" "$CONSTRAINTS" | head -1
}
[ -f "$CONSTRAINTS" ] || die "no constraints file $CONSTRAINTS"
TORCH="$(pin torch)"
TORCHVISION="$(pin torchvision)"
[ -n "$TORCH" ] && [ -n "$TORCHVISION" ] || die "$CONSTRAINTS must pin torch==X and torchvision==Y"

# ---------------------------------------------------------------- preflight
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PY="$cand"; break; fi
  done
fi
[ -n "$PY" ] || die "no python3 found. Install CPython 3.11 and rerun, or set PYTHON=/path/to/python3.11."
PYVER="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
[ "$PYVER" = "3.11" ] || die "$PY is Python $PYVER; the verified stacks (their torch wheels, \
the mmcv wheels) need Python 3.11. Set PYTHON=/path/to/python3.11."

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(sha256sum "$CONSTRAINTS" "$0" "$ROOT/requirements/tests.txt" "$ROOT/requirements/runtime.txt" $DEPLOY_REQUIREMENTS | sha256sum | cut -c1-16)" ]; then
  "$VENV/bin/python" -c 'import mmcv._ext, mmdet, mmpose, torchvision; import rtmo_plugin.version' 2>/dev/null && { say "environment is up to date ($VENV)"; exit 0; }
  say "stamp present but imports fail: repairing"
fi

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV with $PY ($PYVER)"
  "$PY" -m venv "$VENV" || die "could not create a venv (Debian: apt-get install python3.11-venv)"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
VPY="$VENV/bin/python"
has() { "$VPY" - "$@" <<'EOF'
import sys
from importlib import metadata
for spec in sys.argv[1:]:
    name, _, ver = spec.partition("==")
    try:
        got = metadata.version(name)
    except metadata.PackageNotFoundError:
        sys.exit(1)
    if ver and got.split("+")[0] != ver:
        sys.exit(1)
EOF
}

say "build tools (pip, setuptools>=77,<81, wheel, ninja)"
has "setuptools" "wheel" "ninja" || "${PIP[@]}" install -q -U pip "setuptools>=77,<81" wheel ninja

say "torch $TORCH + torchvision $TORCHVISION (several GB with the CUDA libraries; pip caches them)"
has "torch==$TORCH" "torchvision==$TORCHVISION" || \
  "${PIP[@]}" install "torch==$TORCH" "torchvision==$TORCHVISION" numpy==1.26.4 -c "$CONSTRAINTS"

say "numpy 1.26.4, opencv-python<5, mmengine 0.10.7"
has "numpy==1.26.4" "opencv-python" "mmengine==0.10.7" || \
  "${PIP[@]}" install -q numpy==1.26.4 "opencv-python<5" mmengine==0.10.7 -c "$CONSTRAINTS"

if ! has "mmcv==2.1.0" || ! "$VPY" -c 'import mmcv.ops' 2>/dev/null; then
  WHEEL="$(ls "$WHEELHOUSE"/mmcv-2.1.0-cp311-cp311-linux_x86_64.whl 2>/dev/null | head -1 || true)"
  if [ -n "$WHEEL" ]; then
    say "mmcv 2.1.0 from the prebuilt wheel $WHEEL"
    "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL"
    "${PIP[@]}" install -q addict packaging pyyaml yapf -c "$CONSTRAINTS"
    "$VPY" -c 'import mmcv.ops' || die "the mmcv wheel $WHEEL does not load with torch $TORCH \
(built for another torch?). Point WHEELHOUSE at a wheel built against torch $TORCH, or at an \
empty folder to compile mmcv."
  else
    command -v g++ >/dev/null 2>&1 || die "no C++ compiler: mmcv must be compiled. Install g++ (Debian: apt-get install build-essential) or put the mmcv wheel in WHEELHOUSE=$WHEELHOUSE."
    say "mmcv 2.1.0: no wheel in $WHEELHOUSE, compiling from the sdist (about 17-25 minutes on 2 cores; started $(date +%H:%M))"
    BUILD="$(mktemp -d)"
    "${PIP[@]}" install -q addict packaging pyyaml yapf -c "$CONSTRAINTS"
    # --no-build-isolation: mmcv's setup.py needs pkg_resources (setuptools<81) and torch, both in the venv.
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation mmcv==2.1.0 -d "$BUILD" \
      || die "could not fetch the mmcv 2.1.0 sdist from the package registry (offline? put the wheel in WHEELHOUSE)"
    tar -xzf "$BUILD"/mmcv-2.1.0.tar.gz -C "$BUILD"
    # torch 2.14's headers need C++20; mmcv 2.1.0's setup.py passes -std=c++17 (fine for 2.1).
    case "$TORCH" in
      2.0.*|2.1.*) ;;
      *) sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-2.1.0/setup.py" ;;
    esac
    t0=$(date +%s)
    (cd "$BUILD/mmcv-2.1.0" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$(nproc)" \
      "$VPY" -m pip wheel --no-deps --no-build-isolation -w "$BUILD/dist" . ) \
      || die "the mmcv build failed (see the compiler output above)"
    say "mmcv compiled in $(( ($(date +%s) - t0) / 60 )) min; wheel kept in $VENV/wheels for reuse (WHEELHOUSE=$VENV/wheels)"
    mkdir -p "$VENV/wheels" && cp "$BUILD"/dist/mmcv-*.whl "$VENV/wheels/"
    "${PIP[@]}" install -q --no-deps "$BUILD"/dist/mmcv-*.whl
    rm -rf "$BUILD"
  fi
fi

say "mmdet 3.3.0, mmpose 1.3.2 (--no-deps: it declares chumpy) and their real dependencies"
has "mmdet==3.3.0" "mmpose==1.3.2" "xtcocotools==1.14.3" "six" || {
  "${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -c "$CONSTRAINTS"
  "${PIP[@]}" install -q --no-deps mmdet==3.3.0 mmpose==1.3.2
}

say "openmim (then re-pin setuptools: openmim's openxlab downgrades it) and the test tools"
has "openmim" || "${PIP[@]}" install -q openmim -c "$CONSTRAINTS"
"${PIP[@]}" install -q -r "$ROOT/requirements/tests.txt" "setuptools>=77,<81" -c "$CONSTRAINTS"
if [ -n "$DEPLOY_REQUIREMENTS" ]; then
  say "CPU deployment extras ($DEPLOY_REQUIREMENTS)"
  "${PIP[@]}" install -q -r "$DEPLOY_REQUIREMENTS" -c "$CONSTRAINTS"
fi

say "rtmo-plugin (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

say "checking the stack"
"$VPY" - <<'EOF'
import mmcv, mmcv.ops, mmdet, mmengine, mmpose, numpy, torch, torchvision
import mmpose.models  # needs mmcv.ops and mmdet
import rtmo_plugin
print(f"  torch {torch.__version__}  torchvision {torchvision.__version__}  numpy {numpy.__version__}")
print(f"  mmengine {mmengine.__version__}  mmcv {mmcv.__version__}  mmdet {mmdet.__version__}  "
      f"mmpose {mmpose.__version__}  rtmo_plugin {rtmo_plugin.__version__}")
EOF
sha256sum "$CONSTRAINTS" "$0" "$ROOT/requirements/tests.txt" "$ROOT/requirements/runtime.txt" $DEPLOY_REQUIREMENTS | sha256sum | cut -c1-16 > "$STAMP"
say "done: activate with 'source ${VENV#$ROOT/}/bin/activate'"
