package testwine

// New makes a prefix outside a test binary, for a test written in another
// language (webclient/test/windows.test.mjs, through
// internal/wineagent/testdata/winprep); its caller removes it with Close.
func New() (*Prefix, error) { return newPrefix() }

// Env is the environment a Wine command in p runs with, for a caller
// that starts Wine itself.
func (p *Prefix) Env() []string { return p.env() }
