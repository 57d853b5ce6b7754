#!/bin/sh
# The minimal programs behind docs/windows.md's "Wine facts": run in a Wine
# prefix that has the ProcessPrng stand-in (internal/testwine), e.g.
#   WINEPREFIX=/tmp/p WINEDEBUG=-all ./run.sh
set -eu
cd "$(dirname "$0")"
out=$(mktemp -d)
x86_64-w64-mingw32-gcc -O2 -o "$out/launch.exe" launch.c
x86_64-w64-mingw32-gcc -O2 -mwindows -o "$out/guiprint.exe" guiprint.c
x86_64-w64-mingw32-gcc -O2 -o "$out/tcptable.exe" tcptable.c -liphlpapi -lws2_32
echo "guiprint.exe started without inherited handles (Windows: prints nothing):"
wine "$out/launch.exe" "$out/guiprint.exe" >"$out/gui.txt" 2>&1 || true
cat "$out/gui.txt"
echo "a Linux process's loopback connection in Wine's TCP table (owning pid):"
python3 -c '
import socket, subprocess, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
print("linux: %s -> %s" % (c.getsockname(), s.getsockname()))
subprocess.run(["wine", sys.argv[1]], stdout=open(sys.argv[2], "w"), stderr=subprocess.STDOUT)
' "$out/tcptable.exe" "$out/tcp.txt"
cat "$out/tcp.txt"
rm -rf "$out"
