package keystore_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/login"
)

// TestExamine: each reason a certificate must not sign is found on its
// own and together, the validity bounds are inclusive, and either
// signing usage suffices.
func TestExamine(t *testing.T) {
	now := time.Now()
	ca := testpki.Root(t, gost3410.CurveTC26256A, "Test CA", now)
	person := func(edit func(*x509.Certificate)) *x509.Certificate {
		c, _ := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов Иван"}, now, edit)
		return c
	}
	clean := person(nil) // valid a month before now to a year after
	usage := func(ku x509.KeyUsage) *x509.Certificate {
		return person(func(c *x509.Certificate) { c.KeyUsage = ku })
	}
	for _, tc := range []struct {
		name   string
		cert   *x509.Certificate
		hasKey bool
		at     time.Time
		want   []keystore.Problem
	}{
		{"clean", clean, true, now, nil},
		{"expired", clean, true, clean.NotAfter.Add(time.Second), []keystore.Problem{keystore.ProblemExpired}},
		{"last second of validity", clean, true, clean.NotAfter, nil},
		{"not yet valid", clean, true, clean.NotBefore.Add(-time.Second), []keystore.Problem{keystore.ProblemNotYetValid}},
		{"first second of validity", clean, true, clean.NotBefore, nil},
		{"no key", clean, false, now, []keystore.Problem{keystore.ProblemNoKey}},
		{"encryption only", usage(x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment), true, now, []keystore.Problem{keystore.ProblemKeyUsage}},
		{"certificate signing only", usage(x509.KeyUsageCertSign | x509.KeyUsageCRLSign), true, now, []keystore.Problem{keystore.ProblemKeyUsage}},
		{"digitalSignature alone", usage(x509.KeyUsageDigitalSignature), true, now, nil},
		{"nonRepudiation alone", usage(x509.KeyUsageContentCommitment), true, now, nil},
		{"everything wrong", usage(x509.KeyUsageKeyEncipherment), false, clean.NotAfter.AddDate(0, 0, 1),
			[]keystore.Problem{keystore.ProblemExpired, keystore.ProblemNoKey, keystore.ProblemKeyUsage}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := keystore.Examine(tc.cert, tc.hasKey, tc.at)
			if !slices.Equal(c.Problems, tc.want) {
				t.Errorf("problems %v, want %v", c.Problems, tc.want)
			}
			if c.Usable() != (len(tc.want) == 0) {
				t.Errorf("Usable() = %v with problems %v", c.Usable(), c.Problems)
			}
			// The ID is the identity's thumbprint, the one verify reports.
			if c.ID != login.Thumbprint(tc.cert) || c.Identity.Thumbprint != c.ID || c.Identity.CommonName != "Иванов Иван" {
				t.Errorf("ID %q, identity %+v", c.ID, c.Identity)
			}
			if c.Cert != tc.cert || c.HasKey != tc.hasKey {
				t.Error("the certificate or hasKey not kept")
			}
		})
	}
}

// TestCertificateJSON: the certificate's source keeps the wire name
// "provider" that podpis certs --json and doctor's report print.
func TestCertificateJSON(t *testing.T) {
	b, err := json.Marshal(&keystore.Certificate{ID: "ab", Source: "Rutoken", Token: "Rutoken ECP", Problems: []keystore.Problem{keystore.ProblemNeedsCSP}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["provider"] != "Rutoken" || got["token"] != "Rutoken ECP" || fmt.Sprint(got["problems"]) != "[NEEDS_CSP]" {
		t.Errorf("%s", b)
	}
	for _, k := range []string{"Source", "source", "Cert", "cert"} {
		if _, ok := got[k]; ok {
			t.Errorf("%q on the wire: %s", k, b)
		}
	}
}

var sentinels = []*keystore.Error{
	keystore.ErrPINRequired, keystore.ErrPINIncorrect, keystore.ErrPINLocked, keystore.ErrTokenRemoved,
	keystore.ErrCertNotFound, keystore.ErrNoProvider, keystore.ErrProviderError, keystore.ErrTimeout, keystore.ErrCancelled,
}

// TestSentinels: each sentinel matches itself and an error of its code,
// never another's: the codes are distinct and Is compares them.
func TestSentinels(t *testing.T) {
	for _, s := range sentinels {
		for _, other := range sentinels {
			detailed := &keystore.Error{Code: s.Code, Err: errors.New("module said no")}
			if got := errors.Is(detailed, other); got != (s == other) {
				t.Errorf("errors.Is(%s error, %s) = %v", s.Code, other.Code, got)
			}
		}
	}
}

// TestErrorIs: errors.Is matches by code through any wrapping, reaches
// the detail, and takes neither a detailed error for a sentinel nor a
// foreign error that merely reads like a code.
func TestErrorIs(t *testing.T) {
	locked := &keystore.Error{Code: keystore.CodePINLocked, Err: errors.New("CKR_PIN_LOCKED")}
	timedOut := &keystore.Error{Code: keystore.CodeTimeout, Err: context.DeadlineExceeded}
	for _, tc := range []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code", locked, keystore.ErrPINLocked, true},
		{"other code", locked, keystore.ErrPINIncorrect, false},
		{"wrapped by %w", fmt.Errorf("sign: %w", locked), keystore.ErrPINLocked, true},
		{"wrapped twice", fmt.Errorf("login: %w", fmt.Errorf("sign: %w", locked)), keystore.ErrPINLocked, true},
		{"in a join", errors.Join(errors.New("module a"), locked), keystore.ErrPINLocked, true},
		{"the detail", timedOut, context.DeadlineExceeded, true},
		{"a detailed error is no sentinel", keystore.ErrPINLocked, locked, false},
		{"same code, other detail", locked, &keystore.Error{Code: keystore.CodePINLocked, Err: errors.New("x")}, false},
		{"foreign error with the code's text", errors.New("PIN_LOCKED"), keystore.ErrPINLocked, false},
		{"foreign error with the sentinel's text", errors.New(keystore.ErrPINLocked.Error()), keystore.ErrPINLocked, false},
		{"a sentinel is no context error", keystore.ErrTimeout, context.DeadlineExceeded, false},
		{"nil", nil, keystore.ErrPINLocked, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(tc.err, tc.target); got != tc.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tc.err, tc.target, got, tc.want)
			}
		})
	}
}

// TestErrorText: the message names the package and the code, then the
// detail for the logs.
func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *keystore.Error
		want string
	}{
		{keystore.ErrPINLocked, "keystore: PIN_LOCKED"},
		{&keystore.Error{Code: keystore.CodeTokenRemoved, Err: errors.New("CKR_DEVICE_REMOVED")}, "keystore: TOKEN_REMOVED: CKR_DEVICE_REMOVED"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

// TestCodeOf: a key store error gives its code however wrapped; anything
// else — a bug, a context error nobody translated — is PROVIDER_ERROR,
// never a code that would tell the page something untrue (a cancelled
// context is not the person's «Отмена»).
func TestCodeOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want keystore.Code
	}{
		{"sentinel", keystore.ErrCertNotFound, keystore.CodeCertNotFound},
		{"detailed", &keystore.Error{Code: keystore.CodePINIncorrect, Err: errors.New("CKR_PIN_INCORRECT")}, keystore.CodePINIncorrect},
		{"wrapped", fmt.Errorf("agent: %w", keystore.ErrPINLocked), keystore.CodePINLocked},
		{"joined after a foreign error", errors.Join(errors.New("module a"), keystore.ErrTokenRemoved), keystore.CodeTokenRemoved},
		{"a code this version does not know", &keystore.Error{Code: "SOMETHING_NEW"}, "SOMETHING_NEW"},
		{"foreign", errors.New("PIN_LOCKED"), keystore.CodeProviderError},
		{"context cancelled", context.Canceled, keystore.CodeProviderError},
		{"context deadline", fmt.Errorf("sign: %w", context.DeadlineExceeded), keystore.CodeProviderError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keystore.CodeOf(tc.err); got != tc.want {
				t.Errorf("CodeOf(%v) = %s, want %s", tc.err, got, tc.want)
			}
		})
	}
}

// TestPINScope: a scope set on ctx is the one read back, the innermost
// wins, and no scope is the empty one (the command line's).
func TestPINScope(t *testing.T) {
	bg := context.Background()
	a := keystore.WithPINScope(bg, "https://a.example.ru")
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{
		{bg, ""},
		{a, "https://a.example.ru"},
		{keystore.WithPINScope(a, "https://b.example.ru"), "https://b.example.ru"},
		{context.WithValue(a, struct{}{}, "https://b.example.ru"), "https://a.example.ru"},
	} {
		if got := keystore.PINScope(tc.ctx); got != tc.want {
			t.Errorf("PINScope = %q, want %q", got, tc.want)
		}
	}
}
