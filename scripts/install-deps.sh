#!/usr/bin/env bash
# Installs every system package hybrid-bench needs, from Debian's archive only.
# Idempotent: packages already present are skipped; apt-get update runs only when
# something is missing. Works as root, or through sudo otherwise.
set -euo pipefail

PACKAGES=(
  build-essential   # gcc, make
  pkg-config        # compiler and linker flags of dnnl and gsl
  libdnnl-dev       # oneDNN 2.6, the network's primitives
  libgsl-dev        # GNU Scientific Library, the fits
  gnuplot-nox       # figures
  python3-torch     # only for the parity tests and the peer benchmark
  python3-numpy     # .npy files in the parity tests
  libopenblas0-pthread  # BLAS for the PyTorch peer benchmark
  bible-kjv         # the real-text haystack: the King James Bible and its reader /usr/bin/bible
  slurm-wlm         # sbatch and a one-node test cluster (make slurm, tests/cli/slurm.sh)
  munge             # Slurm's authentication daemon
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
