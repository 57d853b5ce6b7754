#!/usr/bin/env bash
# Runs every fuzz target for the given time each (default 5s): make test
# runs them briefly, make fuzz for minutes. New crashers land in the
# package's testdata/fuzz and fail the run.
set -euo pipefail
time=${1:-5s}
targets=(
	"./crypto/cms FuzzParse"
	"./crypto/gostx509 FuzzParsePKCS8"
	"./crypto/gostx509 FuzzParsePKIX"
	"./crypto/gostx509 FuzzCertificate"
	"./verify FuzzAuthDocument"
)
for t in "${targets[@]}"; do
	set -- $t
	echo "fuzz $2 ($1) for $time"
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$time" "$1" >/tmp/podpis-fuzz.log 2>&1 || { cat /tmp/podpis-fuzz.log; exit 1; }
done
