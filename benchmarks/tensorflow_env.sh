#!/usr/bin/env bash
# A separate virtual environment with TensorFlow and Basic Pitch, for benchmarks/midi.py's speed comparison
# (ONNX in .venv against Basic Pitch's TensorFlow SavedModel here).
#
#     bash benchmarks/tensorflow_env.sh [VENV_DIR]      # default /tmp/stemcrate-tf
#
# Why not .venv: basic-pitch 0.4.0 needs tensorflow<2.15.1, which needs numpy<2, and .venv has numpy 2.
# Installs tensorflow-cpu 2.15.0 (the CPU-only wheel, ~200 MB download, ~1.7 GB installed with the rest;
# falls back to tensorflow 2.15.0 where PyPI has no -cpu wheel for the platform), numpy<2, and basic-pitch
# 0.4.0 without its declared dependencies (they name the full `tensorflow` package) plus the ones its
# TensorFlow inference path imports. Idempotent: a complete environment is left alone. Prints the
# environment's python at the end.
set -euo pipefail

VENV="${1:-/tmp/stemcrate-tf}"
PYTHON="${PYTHON:-python3.11}"
TF_VERSION="2.15.0"

command -v "$PYTHON" >/dev/null || { echo "needs $PYTHON (basic-pitch 0.4.0's TensorFlow pin has wheels for 3.9-3.11)" >&2; exit 1; }

check() {
    "$VENV/bin/python" - "$TF_VERSION" <<'EOF' >/dev/null 2>&1
import logging, sys
logging.disable(logging.WARNING)
import numpy, tensorflow, librosa, resampy, soundfile, pretty_midi, mir_eval, scipy, sklearn  # noqa: F401
import basic_pitch
from basic_pitch import inference  # noqa: F401
assert tensorflow.__version__ == sys.argv[1], tensorflow.__version__
assert int(numpy.__version__.split(".")[0]) < 2, numpy.__version__
assert basic_pitch.TF_PRESENT
EOF
}

if [ -x "$VENV/bin/python" ] && check; then
    echo "$VENV is already complete." >&2
else
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    if "$VENV/bin/python" -m pip download --quiet --no-deps --only-binary=:all: -d "$VENV/.probe" \
        "tensorflow-cpu==$TF_VERSION" >/dev/null 2>&1; then
        TF_PACKAGE="tensorflow-cpu==$TF_VERSION"
    else
        TF_PACKAGE="tensorflow==$TF_VERSION"
    fi
    rm -rf "$VENV/.probe"
    echo "Installing $TF_PACKAGE and Basic Pitch's inference dependencies into $VENV ..." >&2
    # one resolve, so every package is chosen compatible with numpy<2
    "$VENV/bin/python" -m pip install --quiet "$TF_PACKAGE" "numpy<2" "librosa>=0.8.0" "resampy>=0.2.2,<0.4.3" \
        "setuptools<81" soundfile "pretty_midi>=0.2.9" "mir_eval>=0.6" "scipy>=1.4.1" scikit-learn typing-extensions
    "$VENV/bin/python" -m pip install --quiet --no-deps "basic-pitch==0.4.0"
    check || { echo "$VENV was built but does not import TensorFlow $TF_VERSION and Basic Pitch" >&2; exit 1; }
fi
"$VENV/bin/python" -c 'import sys; print(sys.executable)'
