package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/miekg/pkcs11"
)

// api is the part of *pkcs11.Ctx podpis uses; tests and the rest of the
// package see no other trace of the C interface.
type api interface {
	Initialize(opts ...pkcs11.InitializeOption) error
	Finalize() error
	Destroy()
	GetInfo() (pkcs11.Info, error)
	GetSlotList(tokenPresent bool) ([]uint, error)
	GetSlotInfo(slot uint) (pkcs11.SlotInfo, error)
	GetTokenInfo(slot uint) (pkcs11.TokenInfo, error)
	GetMechanismList(slot uint) ([]*pkcs11.Mechanism, error)
	OpenSession(slot uint, flags uint) (pkcs11.SessionHandle, error)
	CloseSession(sh pkcs11.SessionHandle) error
	Login(sh pkcs11.SessionHandle, userType uint, pin string) error
	Logout(sh pkcs11.SessionHandle) error
	FindObjectsInit(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) error
	FindObjects(sh pkcs11.SessionHandle, max int) ([]pkcs11.ObjectHandle, bool, error)
	FindObjectsFinal(sh pkcs11.SessionHandle) error
	GetAttributeValue(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]*pkcs11.Attribute, error)
	SignInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error
	Sign(sh pkcs11.SessionHandle, message []byte) ([]byte, error)
	GenerateKeyPair(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, public, private []*pkcs11.Attribute) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error)
	SetAttributeValue(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) error
	CreateObject(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) (pkcs11.ObjectHandle, error)
	DestroyObject(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle) error
}

// Module is a loaded PKCS#11 module. Every call runs on the module's own
// goroutine, one at a time, because many vendor modules are not
// thread-safe; a call that does not return in time fails with a timeout
// and the module is marked hung, so that podpis keeps answering.
type Module struct {
	// Vendor names the product the module belongs to (KnownModule.Name),
	// or is the path of a module named by the config file or --module.
	Vendor string
	Path   string
	// File is the file loaded: Path itself, or where a module named
	// without a folder was found (Windows).
	File string
	Info pkcs11.Info

	calls chan func()
	mu    sync.Mutex
	hung  bool
	ctx   api
}

var (
	loadedMu sync.Mutex
	loaded   = map[string]*Module{}
	loadErrs = map[string]error{}
)

// ErrNotInstalled reports a module file that does not exist.
var ErrNotInstalled = errors.New("pkcs11: module not installed")

// Open loads the module at path once per process and initialises it.
func Open(c Candidate) (*Module, error) {
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if m, ok := loaded[c.Path]; ok {
		return m, nil
	}
	if err, ok := loadErrs[c.Path]; ok {
		return nil, err
	}
	m, err := open(c)
	if err != nil {
		if !errors.Is(err, ErrNotInstalled) {
			loadErrs[c.Path] = err
		}
		return nil, err
	}
	loaded[c.Path] = m
	return m, nil
}

func open(c Candidate) (*Module, error) {
	file, err := locate(c.Path)
	if err != nil {
		return nil, err
	}
	ctx := pkcs11.New(file)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: %s cannot be loaded: %s", file, whyNotLoadable(file))
	}
	m := &Module{Vendor: c.Vendor, Path: c.Path, File: file, ctx: ctx, calls: make(chan func())}
	go m.serve()
	err = m.call(context.Background(), 30*time.Second, func(a api) error {
		if err := a.Initialize(pkcs11.InitializeWithFlags(pkcs11.CKF_OS_LOCKING_OK)); err != nil && !isRV(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			return fmt.Errorf("C_Initialize: %w", err)
		}
		info, err := a.GetInfo()
		m.Info = info
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: %s: %w", file, err)
	}
	return m, nil
}

// serve runs calls one at a time. A call that returns after its caller
// gave up clears the hung mark: the module answers again.
func (m *Module) serve() {
	for f := range m.calls {
		f()
		m.mu.Lock()
		m.hung = false
		m.mu.Unlock()
	}
}

// ErrHung reports a module that did not return from an earlier call.
var ErrHung = errors.New("pkcs11: module does not respond")

// call runs f on the module's goroutine, waiting at most timeout (and no
// longer than ctx allows).
func (m *Module) call(ctx context.Context, timeout time.Duration, f func(api) error) error {
	m.mu.Lock()
	hung := m.hung
	m.mu.Unlock()
	if hung {
		return ErrHung
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	select {
	case m.calls <- func() { done <- f(m.ctx) }:
	case <-ctx.Done():
		return ctxErr(ctx)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			m.mu.Lock()
			m.hung = true
			m.mu.Unlock()
		}
		return ctxErr(ctx)
	}
}

func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrHung
	}
	return ctx.Err()
}

func isRV(err error, rv uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == rv
}
