#!/usr/bin/env bash
# Runs every fuzz target for the given budget each: make test briefly,
# make fuzz at length. The budget is an execution count ("50000x"), not a
# duration: with a duration, Go 1.26's fuzz coordinator can report its own
# deadline as a failure (golang/go#75804). New crashers land in the
# package's testdata/fuzz and fail the run. testdata/fuzz also holds the
# corpus the fuzzers grew (checked in): plain go test replays it.
set -euo pipefail
time=${1:-50000x}
targets=(
	"./crypto/cms FuzzParse"
	"./crypto/cms FuzzParseStream"
	"./certreq FuzzParseSubject"
	"./crypto/gostx509 FuzzParsePKCS8"
	"./crypto/gostx509 FuzzParsePKIX"
	"./crypto/gostx509 FuzzCertificate"
	"./login FuzzDocument"
	"./agent FuzzCleanText"
	"./agent/config FuzzConfig"
	"./agent/server FuzzProtocol"
	"./agent/wsapi FuzzChunkPaths"
	"./poa FuzzParse"
	"./sso/telegram FuzzVerify"
	"./sso/telegram FuzzFieldsFromJSON"
	"./sso/esia FuzzVerifyJWT"
	"./crypto/tsp FuzzParseResponse"
)
for t in "${targets[@]}"; do
	set -- $t
	echo "fuzz $2 ($1) for $time"
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$time" "$1" >/tmp/podpis-fuzz.log 2>&1 || { cat /tmp/podpis-fuzz.log; exit 1; }
done
