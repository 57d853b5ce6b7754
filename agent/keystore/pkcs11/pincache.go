package pkcs11

import "time"

// savedPIN is a PIN kept after «Сохранить пароль» until it expires
// (Options.SavedPINLifetime) or Close clears it.
type savedPIN struct {
	pin     []byte
	expires time.Time
}

// pinKey: a saved PIN belongs to one token and one scope (the site's
// origin, keystore.WithPINScope): saving it for one site is no consent
// for another.
func (p *Store) pinKey(l *location, scope string) string {
	return l.module.Path + "\x00" + l.serial + "\x00" + scope
}

// savedPIN returns a copy of the PIN saved for the token and scope, for
// the caller to clear: the saved one may be cleared by expiry or
// forgetPIN meanwhile.
func (p *Store) savedPIN(l *location, scope string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.pinKey(l, scope)
	s, ok := p.pins[k]
	if !ok {
		return nil
	}
	if p.opts.Now().After(s.expires) {
		clear(s.pin)
		delete(p.pins, k)
		return nil
	}
	return append([]byte{}, s.pin...)
}

func (p *Store) savePIN(l *location, scope string, pin []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.pinKey(l, scope)
	if old, ok := p.pins[k]; ok {
		clear(old.pin)
	}
	p.pins[k] = &savedPIN{pin: append([]byte{}, pin...), expires: p.opts.Now().Add(p.opts.SavedPINLifetime)}
}

func (p *Store) forgetPIN(l *location, scope string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.pins[p.pinKey(l, scope)]; ok {
		clear(s.pin)
		delete(p.pins, p.pinKey(l, scope))
	}
}
