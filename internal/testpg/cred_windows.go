package testpg

import (
	"syscall"
	"testing"
)

// procAttr: PostgreSQL refuses to run as an administrator on Windows too,
// but podpis's tests start it on Linux only; this keeps the package
// building for make cross.
func procAttr(t testing.TB, dir string) *syscall.SysProcAttr { return nil }
