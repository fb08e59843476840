#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the libFuzzer target FUZZER on a copy of the seed corpus CORPUS (so
# the repository is not modified) for a bounded time. Crash inputs go to
# ARTIFACTS/. Usage: run_fuzz.sh FUZZER CORPUS ARTIFACTS [libFuzzer flags...]
set -eu
fuzzer=$1 corpus=$2 artifacts=$3
shift 3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctl-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cp "$corpus"/* "$tmp"/
mkdir -p "$artifacts"
"$fuzzer" -artifact_prefix="$artifacts/" "$@" "$tmp"
