// Package wineagent has no code of its own: its tests run podpis.exe, the
// Windows agent, under Wine (internal/testwine) — version and doctor with
// console output, the headless agent served to Linux over loopback, and
// the GOST soft token built as a Windows DLL and loaded over PKCS#11 the
// way Rutoken's and JaCarta's modules are, every signature checked by
// OpenSSL's GOST engine on the Linux side.
package wineagent
