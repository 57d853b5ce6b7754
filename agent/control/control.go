// Package control is the running agent's control channel for local
// programs of the person's own account: podpis doctor asks the agent what
// it serves («status»), podpis settings asks it to open its settings
// window («openSettings»).
//
// Pages must never reach it. It is served on a socket of its own
// (nativehost.ControlPath: a unix socket beside the native messaging one
// in the same 0700 folder, or a named pipe with a DACL for the account's
// SID), with the peer's account checked on both ends by nativehost.Listen
// and nativehost.Dial — never on the loopback port, which any page can
// reach and DNS rebinding can name. A native host dials only the native
// messaging socket, and the control server refuses anything shaped like
// a native messaging envelope, so a message from the browser extension
// cannot become a control request by any path.
//
// The wire is nativehost's framing (a 32-bit length in the machine's byte
// order, then JSON), one request and one response at a time:
//
//	{"request":"status"}
//	{"status":{"product":"podpis","version":"1.0.0",...}}
//	{"error":{"code":"NOT_AVAILABLE","message":"..."}}
package control

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/podpis/podpis/agent/keystore"
)

// The requests.
const (
	KindStatus       = "status"
	KindOpenSettings = "openSettings"
)

// Request is one control request.
type Request struct {
	Request string `json:"request"`
}

// Response answers a Request: Status for "status", nothing for
// "openSettings" done, or Error.
type Response struct {
	Status *Status `json:"status,omitempty"`
	Error  *Error  `json:"error,omitempty"`
}

// Code is a stable reason a request failed.
type Code string

const (
	// BadRequest: the frame is no control request (an envelope of the
	// browser extension, unknown members, no JSON).
	BadRequest Code = "BAD_REQUEST"
	// UnknownRequest: no such request kind.
	UnknownRequest Code = "UNKNOWN_REQUEST"
	// NotAvailable: this agent cannot do it (no settings window wired in).
	NotAvailable Code = "NOT_AVAILABLE"
	// Failed: the agent tried and failed (the window did not open).
	Failed Code = "FAILED"
)

var messages = map[Code]string{
	BadRequest:     "Неверный запрос",
	UnknownRequest: "Неизвестный запрос",
	NotAvailable:   "Этот агент podpis так не умеет",
	Failed:         "Агент podpis не смог выполнить запрос",
}

// Error is a failed request's code, with Russian text to show a person.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return "control: " + string(e.Code) + ": " + e.Message }

// Is matches by code: errors.Is(err, control.ErrNotAvailable).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func newError(c Code) *Error { return &Error{Code: c, Message: messages[c]} }

// Sentinels for errors.Is.
var (
	ErrBadRequest     = newError(BadRequest)
	ErrUnknownRequest = newError(UnknownRequest)
	ErrNotAvailable   = newError(NotAvailable)
	ErrFailed         = newError(Failed)
	// ErrNotRunning: no agent of this account answers the control channel.
	ErrNotRunning = errors.New("control: no agent of this account is running")
)

// Status is what the running agent serves: its modules with their tokens,
// and the certificates a page would be offered.
type Status struct {
	Product  string `json:"product"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	// Listen is the loopback address of its WebSocket port.
	Listen string `json:"listen"`
	// PID is the agent's process.
	PID int `json:"pid"`
	// Headless: podpis run --headless (no windows; trusted sites only).
	Headless bool `json:"headless"`
	// Modules are the PKCS#11 modules it looked for (those found), and
	// any other store it uses (CryptoAPI), as loaded.
	Modules []Module `json:"modules"`
	// Certificates are every certificate its stores hold now.
	Certificates []*keystore.Certificate `json:"certificates"`
	// CertificatesError says why a store could not list its certificates.
	CertificatesError string `json:"certificatesError,omitempty"`
}

// Module is one module or store of the agent. The members are named as in
// podpis doctor's report of its own scan (pkcs11.ModuleStatus), so that
// the two read alike.
type Module struct {
	Vendor   string  `json:"provider"`
	Name     string  `json:"name"`
	Path     string  `json:"path"`
	Software bool    `json:"software,omitempty"`
	CSP      bool    `json:"csp,omitempty"`
	Found    bool    `json:"found"`
	Loaded   bool    `json:"loaded"`
	Error    string  `json:"error,omitempty"`
	Library  string  `json:"library,omitempty"`
	Version  string  `json:"version,omitempty"`
	Tokens   []Token `json:"slots,omitempty"`
}

// Token is a slot of a module and the token in it.
type Token struct {
	Slot           uint     `json:"id"`
	Description    string   `json:"description"`
	Present        bool     `json:"tokenPresent"`
	Label          string   `json:"label,omitempty"`
	Serial         string   `json:"serial,omitempty"`
	Model          string   `json:"model,omitempty"`
	PINLocked      bool     `json:"pinLocked,omitempty"`
	PINCountLow    bool     `json:"pinCountLow,omitempty"`
	PINFinalTry    bool     `json:"pinFinalTry,omitempty"`
	PINSaved       bool     `json:"pinSaved,omitempty"`
	GOSTMechanisms []string `json:"gostMechanisms,omitempty"`
	Error          string   `json:"error,omitempty"`
}

// parseRequest reads a control request strictly: exactly {"request": KIND}.
// A native messaging envelope ({"origin":…, "message":…}) or a protocol
// message ({"id":…, "method":…}) is BAD_REQUEST: they are the browser
// extension's, and nothing it sends is a control request.
func parseRequest(b []byte) (string, *Error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return "", ErrBadRequest
	}
	for k := range probe {
		if k != "request" {
			return "", ErrBadRequest
		}
	}
	var r Request
	if err := json.Unmarshal(b, &r); err != nil || r.Request == "" {
		return "", ErrBadRequest
	}
	switch r.Request {
	case KindStatus, KindOpenSettings:
		return r.Request, nil
	}
	return "", ErrUnknownRequest
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("control: "+format, args...)
}
