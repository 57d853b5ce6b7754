#!/usr/bin/env bash
# Installs the Debian packages the tests need and are missing: the
# implementations we did not write and test against.
set -euo pipefail

packages=(
	openssl
	libengine-gost-openssl # OpenSSL's GOST engine: the interop oracle
	gnutls-bin             # certtool: a second GOST implementation
	redis-server           # the shared challenge store of verify/redisstore
	postgresql             # the account service's shared database (internal/testpg)
	softhsm2               # a real PKCS#11 module for RSA and ECDSA keys
	opensc                 # pkcs11-tool drives our soft token like any module
	gcc                    # cgo: miekg/pkcs11 and the c-shared soft token
	gcc-mingw-w64-x86-64   # cgo for the windows/amd64 cross-build
	xvfb xdotool           # podpis-ui's windows, shown on a virtual display, typed into and clicked
	libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev pkg-config # podpis-ui: Fyne's GLFW, built with cgo
	imagemagick            # import: screenshots of the windows on the virtual display
	xclip                  # reads the clipboard that the settings window's «Скопировать отчёт» fills
	chromium               # the demo login page end to end (driven by playwright-core from npm)
	libnss3-tools          # certutil: the local CA into NSS databases (Chromium, Firefox)
	nsis osslsigncode      # the Windows installer, built and signed on Linux
	dbus-daemon            # a private session bus: the tray menu as a desktop shell sees it
	lintian                # Debian's checker, run on the .deb packages
	wine64 wine            # podpis's Windows programs executed (internal/testwine)
	libxml2-utils          # xmllint: the FNS's EMCHD_1 schema checked by an XML Schema implementation not ours (poa)
	fonts-wine             # Marlett: the Windows caption buttons of the windows under Wine (internal/wineui)
)

# make bench also compiles a small C program against libcrypto.
[ "${1:-}" = "--bench" ] && packages+=(libssl-dev gcc)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm run the webclient's tests; machines often have them from
# elsewhere than Debian, so look for the commands.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
