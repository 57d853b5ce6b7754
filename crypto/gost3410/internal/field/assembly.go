package field

// SetAssembly turns the assembly routines on or off, where the CPU has them,
// and reports whether they were on. It lets tests check the portable code on
// machines that would never run it. It is not safe for concurrent use.
func SetAssembly(on bool) (was bool) {
	was = useADX
	useADX = on && hasADX
	return was
}
