package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
)

func certificateOf(r CertificateRecord) Certificate {
	var id login.Identity
	json.Unmarshal(r.Identity, &id)
	c := identityCert(id)
	c.ID, c.Linked = r.ID, r.Linked
	return c
}

func identityCert(id login.Identity) Certificate {
	owner := id.CommonName
	if id.Surname != "" {
		owner = strings.TrimSpace(id.Surname + " " + id.GivenName)
	}
	ogrn := id.OGRN
	if ogrn == "" {
		ogrn = id.OGRNIP
	}
	return Certificate{Owner: owner, SNILS: id.SNILS, INN: id.INN, INNLE: id.INNLE, OGRN: ogrn, Organization: id.Organization, Title: id.Title,
		Issuer: id.Issuer, NotBefore: id.NotBefore, NotAfter: id.NotAfter, Thumbprint: id.Thumbprint}
}

// Challenge issues a certificate challenge for purpose p: PurposeLink
// (bound to the session whose hash is session) or PurposeLogin. It is
// remembered with its purpose, and a signature of it is taken for that
// purpose only.
func (s *Service) Challenge(ctx context.Context, cl Client, p Purpose, session string) (verify.Challenge, error) {
	if s.cfg.Verifier == nil {
		return verify.Challenge{}, ErrUnavailable.with(errors.New("no verifier: certificate login is off"))
	}
	if err := s.allow(ctx, hit{limitCertPerAddr, cl.Address}); err != nil {
		return verify.Challenge{}, err
	}
	c, err := s.cfg.Verifier.IssueChallenge(ctx, s.cfg.Origin)
	if err != nil {
		return c, ErrUnavailable.with(err)
	}
	if err := s.cfg.Store.PutChallenge(ctx, ChallengeRecord{Hash: hash(c.Value), Purpose: p, Session: session, Expires: c.Expires}); err != nil {
		return c, ErrUnavailable.with(err)
	}
	return c, nil
}

// signed verifies a login CMS (DER) and takes its challenge, which must
// have been issued here for p (and, for a link, to session).
func (s *Service) signed(ctx context.Context, cl Client, der []byte, p Purpose, session string) (login.Identity, error) {
	if s.cfg.Verifier == nil {
		return login.Identity{}, ErrUnavailable.with(errors.New("no verifier: certificate login is off"))
	}
	if err := s.allow(ctx, hit{limitCertPerAddr, cl.Address}); err != nil {
		return login.Identity{}, err
	}
	res, err := s.cfg.Verifier.VerifyLogin(ctx, der, s.cfg.Origin)
	if err != nil {
		var ve *verify.Error
		if errors.As(err, &ve) {
			s.log.Info("account: certificate refused", "code", ve.Code, "err", ve.Err)
			return login.Identity{}, &Error{Code: string(ve.Code), Status: 401, Message: ve.Code.MessageRU(), Err: err}
		}
		return login.Identity{}, ErrUnavailable.with(err)
	}
	doc, _, err := login.ParseDocument(res.Content)
	if err != nil {
		return login.Identity{}, ErrBadRequest.with(err)
	}
	// The challenge is consumed already (by VerifyLogin): a signature for
	// the wrong purpose burns it, and cannot be tried again elsewhere.
	ch, err := s.cfg.Store.TakeChallenge(ctx, hash(doc.Challenge))
	if errors.Is(err, ErrNoRecord) {
		return login.Identity{}, ErrWrongPurpose.with(errors.New("challenge not issued by the account service"))
	} else if err != nil {
		return login.Identity{}, ErrUnavailable.with(err)
	}
	if ch.Purpose != p || ch.Session != session {
		return login.Identity{}, ErrWrongPurpose.with(fmt.Errorf("a %s challenge signed for %s", ch.Purpose, p))
	}
	return res.Identity, nil
}

// Link links the certificate that signed der (a login signature of a
// PurposeLink challenge issued to the session whose hash is session) to
// the account.
func (s *Service) Link(ctx context.Context, cl Client, accountID, session string, der []byte) (*Certificate, error) {
	id, err := s.signed(ctx, cl, der, PurposeLink, session)
	if err != nil {
		return nil, err
	}
	return s.link(ctx, accountID, id)
}

func (s *Service) link(ctx context.Context, accountID string, id login.Identity) (*Certificate, error) {
	raw, _ := json.Marshal(id)
	rec := CertificateRecord{ID: randomID(), AccountID: accountID, Thumbprint: id.Thumbprint, SNILS: id.SNILS, Identity: raw, Linked: s.now()}
	if err := s.cfg.Store.AddCertificate(ctx, rec); errors.Is(err, ErrDuplicate) {
		return nil, ErrCertAlreadyLinked.with(err)
	} else if err != nil {
		return nil, ErrUnavailable.with(err)
	}
	s.log.Info("account: certificate linked", "account", accountID, "thumbprint", id.Thumbprint)
	c := certificateOf(rec)
	return &c, nil
}

// Unlink unlinks one of the account's certificates.
func (s *Service) Unlink(ctx context.Context, accountID, certID string) error {
	if err := s.cfg.Store.DeleteCertificate(ctx, accountID, certID); errors.Is(err, ErrNoRecord) {
		return ErrNotFound
	} else if err != nil {
		return ErrUnavailable.with(err)
	}
	return nil
}

// LoginCertificate logs in with a login signature of a PurposeLogin
// challenge: into the account the certificate is linked to. An unlinked
// certificate is CERT_NOT_LINKED, or, with Config.Renewal, CERT_RENEWED
// when its SNILS is that of certificates linked to exactly one account:
// the error's Confirm, given to ConfirmRenewal from the same browser
// (browserID), links it and logs in.
func (s *Service) LoginCertificate(ctx context.Context, cl Client, browserID string, der []byte) (*Account, []string, error) {
	acc, _, err := s.loginCertificate(ctx, cl, browserID, der)
	if err != nil {
		return nil, nil, err
	}
	return acc, []string{"hwk"}, nil
}

// loginCertificate is LoginCertificate, also returning the certificate
// that logged in (the session records it).
func (s *Service) loginCertificate(ctx context.Context, cl Client, browserID string, der []byte) (*Account, login.Identity, error) {
	id, err := s.signed(ctx, cl, der, PurposeLogin, "")
	if err != nil {
		return nil, id, err
	}
	rec, err := s.cfg.Store.CertificateByThumbprint(ctx, id.Thumbprint)
	if err == nil {
		acc, err := s.Account(ctx, rec.AccountID)
		if err != nil {
			return nil, id, ErrUnavailable.with(err)
		}
		return acc, id, nil
	}
	if !errors.Is(err, ErrNoRecord) {
		return nil, id, ErrUnavailable.with(err)
	}
	if s.cfg.Renewal && id.SNILS != "" && browserID != "" {
		if e := s.offerRenewal(ctx, browserID, id); e != nil {
			return nil, id, e
		}
	}
	s.log.Info("account: certificate not linked", "thumbprint", id.Thumbprint)
	return nil, id, ErrCertNotLinked
}

// StepUp takes a login signature of a PurposeLogin challenge inside a
// session of accountID (a password or code login asked for a certificate
// by a service): only a certificate linked to that very account is
// taken — another account's certificate is CERT_OTHER_ACCOUNT, not a
// silent switch of accounts under the service's feet. It returns the
// certificate's thumbprint.
func (s *Service) StepUp(ctx context.Context, cl Client, accountID string, der []byte) (string, error) {
	id, err := s.signed(ctx, cl, der, PurposeLogin, "")
	if err != nil {
		return "", err
	}
	rec, err := s.cfg.Store.CertificateByThumbprint(ctx, id.Thumbprint)
	if errors.Is(err, ErrNoRecord) {
		return "", ErrCertNotLinked
	} else if err != nil {
		return "", ErrUnavailable.with(err)
	}
	if rec.AccountID != accountID {
		s.log.Info("account: step-up with another account's certificate", "account", accountID, "thumbprint", id.Thumbprint)
		return "", ErrCertOtherAccount
	}
	return id.Thumbprint, nil
}

// offerRenewal returns CERT_RENEWED when id's SNILS names one account;
// nil when it does not.
func (s *Service) offerRenewal(ctx context.Context, browserID string, id login.Identity) *Error {
	same, err := s.cfg.Store.CertificatesBySNILS(ctx, id.SNILS)
	if err != nil {
		return ErrUnavailable.with(err)
	}
	owner := ""
	for _, c := range same {
		if owner != "" && c.AccountID != owner {
			return nil // two accounts: whose is it? Nobody's, until linked by hand.
		}
		owner = c.AccountID
	}
	if owner == "" {
		return nil
	}
	raw, _ := json.Marshal(id)
	confirm := secret()
	now := s.now()
	if err := s.cfg.Store.CreatePending(ctx, PendingRecord{Hash: hash(confirm), Purpose: PurposeRenew, AccountID: owner, Data: raw,
		Browser: browserID, CodeHash: "-", Created: now, Expires: now.Add(renewTTL), Sent: now}); err != nil {
		return ErrUnavailable.with(err)
	}
	c := identityCert(id)
	e := ErrCertRenewed.with(nil)
	e.Confirm, e.Renewed = confirm, &c
	return e
}

// ConfirmRenewal links the renewed certificate of a CERT_RENEWED answer
// and logs in; only from the browser that got it, once, within 10
// minutes.
func (s *Service) ConfirmRenewal(ctx context.Context, cl Client, browserID, confirm string) (*Account, []string, error) {
	acc, _, err := s.confirmRenewal(ctx, cl, browserID, confirm)
	if err != nil {
		return nil, nil, err
	}
	return acc, []string{"hwk"}, nil
}

// confirmRenewal is ConfirmRenewal, also returning the thumbprint of the
// certificate linked and logged in with.
func (s *Service) confirmRenewal(ctx context.Context, cl Client, browserID, confirm string) (*Account, string, error) {
	h := hash(confirm)
	rec, err := s.cfg.Store.Pending(ctx, h)
	if errors.Is(err, ErrNoRecord) || err == nil && (rec.Purpose != PurposeRenew || rec.Done || !s.now().Before(rec.Expires) || rec.Browser != browserID) {
		return nil, "", ErrCodeExpired.with(err)
	}
	if err != nil {
		return nil, "", ErrUnavailable.with(err)
	}
	if err := s.cfg.Store.FinishPending(ctx, h); errors.Is(err, ErrNoRecord) {
		return nil, "", ErrCodeExpired.with(err)
	} else if err != nil {
		return nil, "", ErrUnavailable.with(err)
	}
	var id login.Identity
	if err := json.Unmarshal(rec.Data, &id); err != nil {
		return nil, "", ErrUnavailable.with(err)
	}
	if _, err := s.link(ctx, rec.AccountID, id); err != nil {
		return nil, "", err
	}
	acc, err := s.Account(ctx, rec.AccountID)
	if err != nil {
		return nil, "", ErrUnavailable.with(err)
	}
	return acc, id.Thumbprint, nil
}
