#!/usr/bin/env bash
# Writes the verify-only vectors of engine_vectors_test.go: for every
# parameter set OpenSSL's GOST engine (Debian's libengine-gost-openssl)
# knows, a key it generated, a message and its signature by the engine, as
# ALG-PARAMSET.txt. The private keys are thrown away: podpis can only
# verify these, so they test our verification against an implementation we
# did not write, with no engine needed at test time.
#
# Run from this folder: ./gen.sh
set -euo pipefail
export OPENSSL_CONF=/dev/null # the engine is named on each command line
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(openssl version)
for ps in gost2012_256:A gost2012_256:B gost2012_256:C gost2012_256:XA gost2012_256:XB \
	gost2012_256:TCA gost2012_256:TCB gost2012_256:TCC gost2012_256:TCD \
	gost2012_512:A gost2012_512:B gost2012_512:C; do
	alg=${ps%%:*} name=${ps#*:}
	md=md_gost12_${alg#gost2012_}
	key=$work/$alg-$name.key
	openssl genpkey -engine gost -algorithm "$alg" -pkeyopt "paramset:$name" -out "$key" 2>/dev/null
	printf 'Подписано движком GOST OpenSSL: %s, набор параметров %s.\n' "$alg" "$name" >"$work/msg"
	openssl dgst -engine gost "-$md" -sign "$key" -out "$work/sig" "$work/msg" 2>/dev/null
	# The engine must accept its own signature before we keep it.
	openssl pkey -engine gost -in "$key" -pubout -out "$work/pub.pem" 2>/dev/null
	openssl dgst -engine gost "-$md" -verify "$work/pub.pem" -signature "$work/sig" "$work/msg" >/dev/null 2>&1
	{
		echo "# $version, GOST engine: openssl genpkey -algorithm $alg -pkeyopt paramset:$name;"
		echo "# openssl dgst -$md -sign. Made by gen.sh; hex."
		echo "algorithm: $alg"
		echo "paramset: $name"
		echo "spki: $(openssl pkey -engine gost -in "$key" -pubout -outform DER 2>/dev/null | xxd -p | tr -d '\n')"
		echo "message: $(xxd -p "$work/msg" | tr -d '\n')"
		echo "signature: $(xxd -p "$work/sig" | tr -d '\n')"
	} >"$alg-$name.txt"
done
