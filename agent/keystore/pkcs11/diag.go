package pkcs11

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/podpis/podpis/agent/keystore/pkcs11/known"
)

// ModuleStatus is what podpis found about one candidate module: the raw
// material of «Не установлен криптопровайдер» diagnoses.
type ModuleStatus struct {
	Vendor string `json:"provider"`
	// Name is how a person knows the module: the product in the known
	// table, else the library's own manufacturer and description, each
	// word said once.
	Name string `json:"name"`
	Path string `json:"path"`
	// File is where the module was found when Path names it without a
	// folder (Windows: rtPKCS11ECP.dll in System32).
	File string `json:"file,omitempty"`
	// Software modules keep keys in files: there is no token to insert.
	Software bool `json:"software,omitempty"`
	// CSP marks a crypto provider (CryptoPro CSP, ViPNet CSP), whose keys
	// live in its containers rather than on one token.
	CSP     bool         `json:"csp,omitempty"`
	Found   bool         `json:"found"`
	Loaded  bool         `json:"loaded"`
	Error   string       `json:"error,omitempty"`
	Library string       `json:"library,omitempty"` // manufacturer and description
	Version string       `json:"version,omitempty"`
	Slots   []SlotStatus `json:"slots,omitempty"`
}

// SlotStatus describes a slot and its token.
type SlotStatus struct {
	ID uint `json:"id"`
	// TokenPresent is set for an initialised token: SoftHSM2 and others
	// show an empty, uninitialised token in a spare slot.
	Description       string `json:"description"`
	TokenPresent      bool   `json:"tokenPresent"`
	Label             string `json:"label,omitempty"`
	Serial            string `json:"serial,omitempty"`
	Model             string `json:"model,omitempty"`
	ProtectedAuthPath bool   `json:"protectedAuthPath,omitempty"`
	PINLocked         bool   `json:"pinLocked,omitempty"`
	PINCountLow       bool   `json:"pinCountLow,omitempty"`
	PINFinalTry       bool   `json:"pinFinalTry,omitempty"`
	// PINSaved: a PIN saved with «Сохранить пароль» is in effect for the
	// token (the agent's status only; podpis keeps no session logged in).
	PINSaved       bool     `json:"pinSaved,omitempty"`
	GOSTMechanisms []string `json:"gostMechanisms,omitempty"`
	Error          string   `json:"error,omitempty"`
}

// Names of the mechanisms podpis signs with, for diagnostics.
var mechanismNames = map[uint]string{
	ckmGOSTR3410: "CKM_GOSTR3410", ckmGOSTR3410_512: "CKM_GOSTR3410_512",
	ckmGOSTR3410WithStreebog256: "CKM_GOSTR3410_WITH_GOSTR3411_12_256",
	ckmGOSTR3410WithStreebog512: "CKM_GOSTR3410_WITH_GOSTR3411_12_512",
}

// Diagnose tries every candidate and reports each.
func Diagnose(ctx context.Context, candidates []Candidate) []ModuleStatus {
	var out []ModuleStatus
	seen := map[string]bool{}
	for _, c := range candidates {
		// Distributions link one module under several names.
		if real, err := filepath.EvalSymlinks(c.Path); err == nil {
			if seen[real] {
				continue
			}
			seen[real] = true
		}
		st := ModuleStatus{Vendor: c.Vendor, Path: c.Path, Name: c.Vendor}
		k, ok := known.Named(c.Vendor)
		if !ok {
			k, ok = known.Lookup(c.Path)
		}
		if ok {
			st.Name, st.Software, st.CSP = k.Name, k.Software, k.CSP
		}
		m, err := Open(c)
		switch {
		case errors.Is(err, ErrNotInstalled):
			if !c.Explicit {
				continue // a known path that is simply absent
			}
			st.Error = err.Error()
		case err != nil:
			st.Found = true
			st.File, _ = locate(c.Path)
			st.Error = err.Error()
		default:
			st.Found, st.Loaded, st.File = true, true, m.File
			st.Library = LibraryName(m.Info.ManufacturerID, m.Info.LibraryDescription)
			st.Version = formatVersion(m.Info.LibraryVersion)
			if !ok && st.Library != "" {
				st.Name = st.Library
			}
			st.Slots, err = m.slots(ctx)
			if err != nil {
				st.Error = err.Error()
			}
		}
		out = append(out, st)
	}
	return out
}

// LibraryName joins a module's manufacturer and description, saying a
// word once: «podpis» and «podpis GOST soft token» make «podpis GOST soft
// token», not «podpis podpis GOST soft token».
func LibraryName(manufacturer, description string) string {
	m, d := strings.TrimSpace(manufacturer), strings.TrimSpace(description)
	switch {
	case m == "":
		return d
	case d == "":
		return m
	case len(d) >= len(m) && strings.EqualFold(d[:len(m)], m):
		return d
	}
	return m + " " + d
}

func formatVersion(v pkcs11.Version) string {
	return itoa(int(v.Major)) + "." + itoa(int(v.Minor))
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func (m *Module) slots(ctx context.Context) ([]SlotStatus, error) {
	var out []SlotStatus
	err := m.call(ctx, 10*time.Second, func(a api) error {
		ids, err := a.GetSlotList(false)
		if err != nil {
			return err
		}
		for _, id := range ids {
			s := SlotStatus{ID: id}
			si, err := a.GetSlotInfo(id)
			if err != nil {
				s.Error = err.Error()
				out = append(out, s)
				continue
			}
			s.Description = si.SlotDescription
			s.TokenPresent = si.Flags&pkcs11.CKF_TOKEN_PRESENT != 0
			if s.TokenPresent {
				if ti, err := a.GetTokenInfo(id); err == nil {
					s.TokenPresent = ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED != 0
					s.Label, s.Serial, s.Model = ti.Label, ti.SerialNumber, ti.Model
					s.ProtectedAuthPath = ti.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0
					s.PINLocked = ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0
					s.PINCountLow = ti.Flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0
					s.PINFinalTry = ti.Flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0
				} else {
					s.Error = err.Error()
				}
				if mechs, err := a.GetMechanismList(id); err == nil {
					for _, mech := range mechs {
						if name, ok := mechanismNames[mech.Mechanism]; ok {
							s.GOSTMechanisms = append(s.GOSTMechanisms, name)
						}
					}
				}
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}
