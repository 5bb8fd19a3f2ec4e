#!/usr/bin/env bash
# Creates .venv-compat/ with CI's second stack, the classic MMPose environment most users have:
#   torch 2.1.2 + torchvision 0.16.2 (from the package registry), numpy 1.26.4, mmcv 2.1.0 compiled
#   against torch 2.1.2, mmengine 0.10.7, mmdet 3.3.0, mmpose 1.3.2, xtcocotools 1.14.3, openmim
#   (with a numpy-1 pandas), the test tools, and this plugin in editable mode.
# The pins are in requirements/constraints-compat.txt; the steps are scripts/setup_env.sh's.
# Idempotent (seconds when done).
# Environment:
#   PYTHON              interpreter to build the venv from (default: python3.11, then python3)
#   COMPAT_WHEELHOUSE   folder holding mmcv-2.1.0 built for torch 2.1.2
#                       (default: ../shared/wheels/torch2.1.2; without a wheel, mmcv is compiled)
#   COMPAT_VENV         venv folder (default: .venv-compat)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VENV="${COMPAT_VENV:-$ROOT/.venv-compat}"
export WHEELHOUSE="${COMPAT_WHEELHOUSE:-$ROOT/../shared/wheels/torch2.1.2}"
export CONSTRAINTS="$ROOT/requirements/constraints-compat.txt"
# nncf 3.4 needs torch >= 2.3: no CPU deployment extras on the torch 2.1 stack (their tests skip)
export DEPLOY_REQUIREMENTS=""
exec bash "$ROOT/scripts/setup_env.sh"
