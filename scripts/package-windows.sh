#!/usr/bin/env bash
# The Windows installer, built on Linux: podpis.exe and podpis-ui.exe (its
# windows) cross-compiled with mingw (cgo), the icon, makensis; signed with
# osslsigncode when SIGN_CERT and SIGN_KEY (PEM) are given. The demo soft
# token is not in it: it is for tests, not people's keys.
#   scripts/package-windows.sh VERSION OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?version}
out=${2:?output folder}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc GOOS=windows GOARCH=amd64
# -H windowsgui: no console window for the tray agent at logon.
go build -ldflags "-X main.version=$version -H windowsgui" -o "$work/podpis.exe" ./cmd/podpis
go build -ldflags "-H windowsgui" -o "$work/podpis-ui.exe" ./cmd/podpis-ui
unset CGO_ENABLED CC GOOS GOARCH
go run ./installer/mkicon -o "$work/podpis.ico"

sign() { # in out
	osslsigncode sign -certs "$SIGN_CERT" -key "$SIGN_KEY" -n podpis -i https://github.com/podpis/podpis \
		-h sha256 -in "$1" -out "$2" >/dev/null
}
if [ -n "${SIGN_CERT:-}" ]; then
	for exe in podpis podpis-ui; do
		sign "$work/$exe.exe" "$work/$exe-signed.exe" && mv "$work/$exe-signed.exe" "$work/$exe.exe"
	done
fi

mkdir -p "$out"
setup="$out/podpis-setup-$version.exe"
makensis -V2 -DVERSION="$version" -DBIN="$work" -DOUTFILE="$(realpath "$out")/podpis-setup-$version.exe" installer/windows/podpis.nsi
if [ -n "${SIGN_CERT:-}" ]; then
	sign "$setup" "$setup.signed" && mv "$setup.signed" "$setup"
fi
echo "$setup"
