package account

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/podpis/podpis/account/contact"
	"github.com/podpis/podpis/login"
)

// SeedAccount is the demo's account: its phone and e-mail, its password
// (printed by make run) and the certificates linked to it.
type SeedAccount struct {
	Phone, Email string
	Password     string
	Certificates []*x509.Certificate
}

// Seed makes sure the account exists with this password and these
// certificates linked: it creates it, or finds it by phone or e-mail and
// sets the password, so running it again is harmless.
func (s *Service) Seed(ctx context.Context, sa SeedAccount) (*Account, error) {
	rec := AccountRecord{}
	var err error
	if sa.Phone != "" {
		if rec.Phone, err = contact.Phone(sa.Phone); err != nil {
			return nil, fmt.Errorf("account: seed: %w", err)
		}
	}
	if sa.Email != "" {
		if rec.Email, err = contact.Email(sa.Email); err != nil {
			return nil, fmt.Errorf("account: seed: %w", err)
		}
	}
	if rec.Phone == "" && rec.Email == "" {
		return nil, errors.New("account: seed: a phone or an e-mail is needed")
	}
	addr := rec.Phone
	if addr == "" {
		addr = rec.Email
	}
	if err := checkPassword(sa.Password, addr); err != nil {
		return nil, fmt.Errorf("account: seed: %w", err)
	}
	ph, err := s.hashPassword(ctx, sa.Password)
	if err != nil {
		return nil, fmt.Errorf("account: seed: %w", err)
	}
	existing, err := s.cfg.Store.AccountByPhone(ctx, rec.Phone)
	if errors.Is(err, ErrNoRecord) {
		existing, err = s.cfg.Store.AccountByEmail(ctx, rec.Email)
	}
	switch {
	case err == nil:
		rec = existing
		if err := s.cfg.Store.SetPassword(ctx, rec.ID, ph); err != nil {
			return nil, fmt.Errorf("account: seed: %w", err)
		}
	case errors.Is(err, ErrNoRecord):
		rec.ID, rec.PasswordHash, rec.Created = randomID(), ph, s.now()
		if err := s.cfg.Store.CreateAccount(ctx, rec); err != nil {
			return nil, fmt.Errorf("account: seed: %w", err)
		}
	default:
		return nil, fmt.Errorf("account: seed: %w", err)
	}
	for _, c := range sa.Certificates {
		id := login.IdentityOf(c)
		if linked, err := s.cfg.Store.CertificateByThumbprint(ctx, id.Thumbprint); err == nil {
			if linked.AccountID != rec.ID {
				return nil, fmt.Errorf("account: seed: certificate %s is linked to another account", id.Thumbprint)
			}
			continue
		}
		if _, err := s.link(ctx, rec.ID, id); err != nil {
			return nil, fmt.Errorf("account: seed: %w", err)
		}
	}
	return s.Account(ctx, rec.ID)
}
