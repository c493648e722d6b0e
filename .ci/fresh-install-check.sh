#!/usr/bin/env bash
# Fresh-machine check: install into a brand-new virtual environment exactly as the README says, then
# start both entry points. Proves requirements.txt resolves on its own and keeps an installed torch.
#
#   bash .ci/fresh-install-check.sh [TORCH_REQUIREMENT]
#
# TORCH_REQUIREMENT (first argument, or the env var of that name) stands in for "the torch build for
# your CUDA" of the README; the default is the CPU build CI uses. PYTHON picks the interpreter.
# VENV_DIR keeps the new environment at that path (CI then runs the tests in it); by default it is
# made in a temporary folder and removed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
torch_requirement="${1:-${TORCH_REQUIREMENT:-torch==2.13.0}}"
python_bin="${PYTHON:-python3}"

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
venv="${VENV_DIR:-$work_dir/venv}"
log="$work_dir/pip.log"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'fresh-install-check: FAILED: %s\n' "$*" >&2; exit 1; }
[ ! -e "$venv" ] || fail "$venv already exists; the check needs a new environment"

step "new virtual environment ($("$python_bin" --version))"
"$python_bin" -m venv "$venv"
# shellcheck disable=SC1091
source "$venv/bin/activate"

step "pip install $torch_requirement"
SECONDS=0
pip install "$torch_requirement"
torch_before="$(python -c 'import torch; print(torch.__version__)')"
echo "torch $torch_before installed in ${SECONDS}s"

step "pip install --upgrade-strategy only-if-needed -r requirements.txt"
SECONDS=0
pip install --upgrade-strategy only-if-needed -r "$repo_root/requirements.txt" 2>&1 | tee "$log"
echo "requirements installed in ${SECONDS}s"

torch_after="$(python -c 'import torch; print(torch.__version__)')"
[ "$torch_before" = "$torch_after" ] || fail "torch changed from $torch_before to $torch_after"
if grep -E '^Successfully installed' "$log" | grep -qE '(^| )torch-'; then
    fail "requirements.txt reinstalled torch"
fi
echo "torch kept: $torch_after"

step "pip check"
pip check

cd "$repo_root"
step "python app.py --help"
python app.py --help
step "python -m worker --help"
python -m worker --help

printf '\nfresh-install-check: OK (torch %s kept, both entry points start)\n' "$torch_after"
