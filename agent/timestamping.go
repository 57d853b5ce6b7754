package agent

// TSAFor is the time-stamping authority the configuration names for
// origin's CAdES-T and X Long signatures, "" for none. A site's rule
// wins over the TSA a page asks for: an administrator may pin the
// qualified TSA their organisation pays for.
func (a *Agent) TSAFor(origin string) string {
	if a.cfg.Timestamping == nil {
		return ""
	}
	return a.cfg.Timestamping(origin)
}
