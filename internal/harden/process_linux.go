package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Process makes the running process non-dumpable (PR_SET_DUMPABLE 0: no
// core file, and processes of the same account can neither ptrace it nor
// read its /proc/PID/mem, environ or fd) and lowers both RLIMIT_CORE limits
// to 0, which also covers the fs.suid_dumpable = 2 case where the kernel
// would still dump a non-dumpable process, and which nothing loaded later
// (a PKCS#11 module) can raise again. Children inherit the core limit; the
// dumpable flag is reset by their exec.
func Process() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("harden: PR_SET_DUMPABLE: %w", err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("harden: RLIMIT_CORE: %w", err)
	}
	return nil
}
