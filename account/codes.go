package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/podpis/podpis/account/argon2id"
	"github.com/podpis/podpis/account/contact"
	"github.com/podpis/podpis/account/deliver"
	"github.com/podpis/podpis/login"
)

// Client is who makes a request: the keys of the per-address limits and
// what the list of sessions shows.
type Client struct {
	Address   string
	UserAgent string
}

// Contact is a phone or an e-mail address as the person typed it; one of
// the two.
type Contact struct {
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// Pending is a code on its way: its opaque id (the only handle on it),
// where it went, masked, and when a new one may be asked for.
type Pending struct {
	ID          string `json:"pending"`
	SentTo      string `json:"sentTo"`
	Channel     string `json:"channel"`
	ResendAfter int    `json:"resendAfter"`
	ExpiresIn   int    `json:"expiresIn"`
}

// resolve normalises c to a channel and an address.
func resolve(c Contact) (deliver.Channel, string, error) {
	switch {
	case strings.TrimSpace(c.Phone) != "" && strings.TrimSpace(c.Email) != "":
		return "", "", ErrBadRequest.with(errors.New("both phone and email"))
	case strings.TrimSpace(c.Phone) != "":
		p, err := contact.Phone(c.Phone)
		if err != nil {
			return "", "", ErrInvalidPhone.with(err, field("phone"))
		}
		return deliver.SMS, p, nil
	case strings.TrimSpace(c.Email) != "":
		e, err := contact.Email(c.Email)
		if err != nil {
			return "", "", ErrInvalidEmail.with(err, field("email"))
		}
		return deliver.Email, e, nil
	}
	return "", "", ErrInvalidPhone.with(errors.New("no phone or email"), field("phone"))
}

func mask(ch deliver.Channel, addr string) string {
	if ch == deliver.SMS {
		return contact.MaskPhone(addr)
	}
	return contact.MaskEmail(addr)
}

func (s *Service) lookup(ctx context.Context, ch deliver.Channel, addr string) (AccountRecord, error) {
	if ch == deliver.SMS {
		return s.cfg.Store.AccountByPhone(ctx, addr)
	}
	return s.cfg.Store.AccountByEmail(ctx, addr)
}

// checkPassword refuses what is too short, too long or the login itself.
func checkPassword(password, addr string) error {
	if len([]rune(password)) < minPassword || len(password) > maxPassword ||
		strings.EqualFold(strings.TrimSpace(password), addr) || strings.TrimPrefix(password, "+") == strings.TrimPrefix(addr, "+") {
		return ErrWeakPassword.with(nil, field("password"))
	}
	return nil
}

// newCode is six digits, uniform, from crypto/rand.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return fmt.Sprintf("%0*d", codeDigits, n)
}

func (s *Service) codeHash(pendingHash, code string) string {
	return s.mac("podpis-account-code", pendingHash, code)
}

// text is the message carrying code for purpose; known says whether the
// address has an account (a registration of a taken address tells its
// owner so instead).
func text(p Purpose, known bool, code string) (subject, body string) {
	switch {
	case p == PurposeRegister && known:
		return "Учётная запись podpis", "Кто-то начал регистрацию в podpis с вашим адресом, но у вас уже есть учётная запись. " +
			"Если это были вы, войдите или восстановите пароль. Код: " + code + ". Никому его не сообщайте."
	case p == PurposeRegister:
		return "Код подтверждения podpis", "Код подтверждения регистрации в podpis: " + code + ". Никому его не сообщайте."
	case p == PurposeReset:
		return "Восстановление пароля podpis", "Код для восстановления пароля podpis: " + code + ". Никому его не сообщайте."
	}
	return "Код для входа в podpis", "Код для входа в podpis: " + code + ". Никому его не сообщайте."
}

// start makes a pending code for addr and sends it. For an address
// without an account (known false) a login or reset code is made and
// stored as for any other but sent to nobody: the answer is the same.
func (s *Service) start(ctx context.Context, cl Client, p Purpose, ch deliver.Channel, addr string, acc AccountRecord, passwordHash string) (*Pending, error) {
	id := secret()
	h := hash(id)
	code := newCode()
	now := s.now()
	rec := PendingRecord{Hash: h, Purpose: p, Channel: string(ch), Address: addr, AccountID: acc.ID, PasswordHash: passwordHash,
		CodeHash: s.codeHash(h, code), Created: now, Expires: now.Add(codeTTL), Sent: now}
	if err := s.cfg.Store.CreatePending(ctx, rec); err != nil {
		return nil, ErrUnavailable.with(err)
	}
	if err := s.deliver(ctx, rec, code); err != nil {
		return nil, err
	}
	s.sweep()
	return pendingOf(id, ch, addr), nil
}

// deliver sends the code of rec. A registration's message goes out in
// every case and at once, so a failure is the caller's UNAVAILABLE; a
// login or reset code goes only to an existing account, and in the
// background so that the answer takes as long either way.
func (s *Service) deliver(ctx context.Context, rec PendingRecord, code string) error {
	known := rec.AccountID != ""
	subject, body := text(rec.Purpose, known, code)
	m := deliver.Message{Channel: deliver.Channel(rec.Channel), To: rec.Address, Subject: subject, Text: body, Code: code, Sent: s.now()}
	if rec.Purpose == PurposeRegister {
		if err := s.cfg.Sender.Send(ctx, m); err != nil {
			return ErrUnavailable.with(err)
		}
		return nil
	}
	if !known {
		return nil
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.cfg.Sender.Send(ctx, m); err != nil {
			s.log.Error("account: delivery", "channel", m.Channel, "err", err)
		}
	}()
	return nil
}

// Register starts a registration: it checks the password, hashes it and
// sends a code. A phone or e-mail that already has an account gets the
// same answer (its owner gets a message saying so), so registration does
// not tell who is registered.
func (s *Service) Register(ctx context.Context, cl Client, c Contact, password string) (*Pending, error) {
	ch, addr, err := resolve(c)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password, addr); err != nil {
		return nil, err
	}
	if err := s.allow(ctx, hit{limitRegPerAddr, cl.Address}, hit{limitSendPerID, addr}, hit{limitSendPerAddr, cl.Address}); err != nil {
		return nil, err
	}
	acc, err := s.lookup(ctx, ch, addr)
	if err != nil && !errors.Is(err, ErrNoRecord) {
		return nil, ErrUnavailable.with(err)
	}
	ph, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, ErrUnavailable.with(err)
	}
	return s.start(ctx, cl, PurposeRegister, ch, addr, acc, ph)
}

// RequestCode sends a one-time login code (PurposeLogin) or a password
// reset code (PurposeReset) to c; the same answer whether or not c has an
// account.
func (s *Service) RequestCode(ctx context.Context, cl Client, c Contact, p Purpose) (*Pending, error) {
	if p != PurposeLogin && p != PurposeReset {
		return nil, ErrBadRequest.with(fmt.Errorf("purpose %q", p))
	}
	ch, addr, err := resolve(c)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, hit{limitSendPerID, addr}, hit{limitSendPerAddr, cl.Address}); err != nil {
		return nil, err
	}
	acc, err := s.lookup(ctx, ch, addr)
	if err != nil && !errors.Is(err, ErrNoRecord) {
		return nil, ErrUnavailable.with(err)
	}
	return s.start(ctx, cl, p, ch, addr, acc, "")
}

// Resend sends a new code for a pending id, no sooner than a minute
// after the last; the old code stops working and the tries start again.
func (s *Service) Resend(ctx context.Context, cl Client, id string) (*Pending, error) {
	h := hash(id)
	rec, err := s.cfg.Store.Pending(ctx, h)
	if errors.Is(err, ErrNoRecord) || err == nil && (rec.Done || rec.Purpose == PurposeRenew) {
		return nil, ErrCodeExpired.with(err, field("code"))
	}
	if err != nil {
		return nil, ErrUnavailable.with(err)
	}
	now := s.now()
	if wait := rec.Sent.Add(resendAfter).Sub(now); wait > 0 {
		return nil, ErrResendTooSoon.with(nil, retryAfter(int((wait+time.Second-1)/time.Second)))
	}
	if err := s.allow(ctx, hit{limitSendPerID, rec.Address}, hit{limitSendPerAddr, cl.Address}); err != nil {
		return nil, err
	}
	code := newCode()
	if err := s.cfg.Store.RenewPending(ctx, h, s.codeHash(h, code), now, now.Add(codeTTL)); errors.Is(err, ErrNoRecord) {
		return nil, ErrCodeExpired.with(err, field("code"))
	} else if err != nil {
		return nil, ErrUnavailable.with(err)
	}
	rec.Sent = now
	if err := s.deliver(ctx, rec, code); err != nil {
		return nil, err
	}
	return pendingOf(id, deliver.Channel(rec.Channel), rec.Address), nil
}

// check spends one try of the pending code id on code: the code's own
// five tries, and the client's limit on checks.
func (s *Service) check(ctx context.Context, cl Client, id, code string, p Purpose) (PendingRecord, error) {
	if err := s.allow(ctx, hit{limitCheckPerAddr, cl.Address}); err != nil {
		return PendingRecord{}, err
	}
	h := hash(id)
	rec, err := s.cfg.Store.TryPending(ctx, h, s.now(), codeTries)
	if errors.Is(err, ErrNoRecord) {
		old, err := s.cfg.Store.Pending(ctx, h)
		if err == nil && old.Purpose == p && !old.Done && old.Tries >= codeTries && s.now().Before(old.Expires) {
			return PendingRecord{}, ErrCodeLocked.with(nil, field("code"))
		}
		return PendingRecord{}, ErrCodeExpired.with(err, field("code"))
	}
	if err != nil {
		return PendingRecord{}, ErrUnavailable.with(err)
	}
	if rec.Purpose != p {
		return PendingRecord{}, ErrCodeExpired.with(fmt.Errorf("a %s code used for %s", rec.Purpose, p), field("code"))
	}
	if !hmac.Equal([]byte(s.codeHash(h, strings.TrimSpace(code))), []byte(rec.CodeHash)) {
		left := codeTries - rec.Tries
		if left <= 0 {
			return PendingRecord{}, ErrCodeLocked.with(nil, field("code"))
		}
		e := ErrWrongCode.with(nil, field("code"))
		e.TriesLeft = left
		e.Message = fmt.Sprintf("Неверный код. Осталось попыток: %d", left)
		return PendingRecord{}, e
	}
	if err := s.cfg.Store.FinishPending(ctx, h); errors.Is(err, ErrNoRecord) {
		return PendingRecord{}, ErrCodeExpired.with(err, field("code"))
	} else if err != nil {
		return PendingRecord{}, ErrUnavailable.with(err)
	}
	return rec, nil
}

// Confirm finishes a registration with its code and returns the new
// account. A taken phone or e-mail is ALREADY_REGISTERED: said only to
// whoever proved they receive its messages.
func (s *Service) Confirm(ctx context.Context, cl Client, id, code string) (*Account, []string, error) {
	rec, err := s.check(ctx, cl, id, code, PurposeRegister)
	if err != nil {
		return nil, nil, err
	}
	if rec.AccountID != "" {
		return nil, nil, ErrAlreadyRegistered
	}
	a := AccountRecord{ID: randomID(), PasswordHash: rec.PasswordHash, Created: s.now()}
	if rec.Channel == string(deliver.SMS) {
		a.Phone = rec.Address
	} else {
		a.Email = rec.Address
	}
	if err := s.cfg.Store.CreateAccount(ctx, a); errors.Is(err, ErrDuplicate) {
		return nil, nil, ErrAlreadyRegistered.with(err)
	} else if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	acc, err := s.load(ctx, a)
	if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	s.log.Info("account: registered", "account", a.ID, "channel", rec.Channel)
	return acc, []string{"otp", rec.Channel}, nil
}

// LoginCode logs in with a one-time code.
func (s *Service) LoginCode(ctx context.Context, cl Client, id, code string) (*Account, []string, error) {
	rec, err := s.check(ctx, cl, id, code, PurposeLogin)
	if err != nil {
		return nil, nil, err
	}
	// An unknown address's code was never sent: nobody gets here with it
	// but by guessing one in a million, and then finds no account.
	acc, err := s.Account(ctx, rec.AccountID)
	if err != nil {
		return nil, nil, ErrCodeExpired.with(err, field("code"))
	}
	return acc, []string{"otp", rec.Channel}, nil
}

// ResetPassword sets a new password with a reset code and ends every
// session of the account (the caller opens a new one).
func (s *Service) ResetPassword(ctx context.Context, cl Client, id, code, password string) (*Account, []string, error) {
	// The password is judged before the code is tried, so a weak one
	// costs no try.
	if rec, err := s.cfg.Store.Pending(ctx, hash(id)); err == nil {
		if err := checkPassword(password, rec.Address); err != nil {
			return nil, nil, err
		}
	} else if err := checkPassword(password, ""); err != nil {
		return nil, nil, err
	}
	rec, err := s.check(ctx, cl, id, code, PurposeReset)
	if err != nil {
		return nil, nil, err
	}
	ph, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	if err := s.cfg.Store.SetPassword(ctx, rec.AccountID, ph); errors.Is(err, ErrNoRecord) {
		return nil, nil, ErrCodeExpired.with(err, field("code"))
	} else if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	// Every session ends, and with them what was granted on them (the
	// provider's tokens: Config.SessionsEnded).
	if err := s.EndAllSessions(ctx, rec.AccountID); err != nil {
		return nil, nil, err
	}
	acc, err := s.Account(ctx, rec.AccountID)
	if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	s.log.Info("account: password reset", "account", acc.ID)
	return acc, []string{"otp", rec.Channel}, nil
}

// LoginPassword logs in with a password. An unknown phone or e-mail
// costs the same argon2id as a known one and gets the same answer.
func (s *Service) LoginPassword(ctx context.Context, cl Client, c Contact, password string) (*Account, []string, error) {
	ch, addr, err := resolve(c)
	if err != nil {
		return nil, nil, err
	}
	if len(password) > maxPassword {
		return nil, nil, ErrWrongCredentials
	}
	if err := s.allow(ctx, hit{limitLoginPerID, addr}, hit{limitLoginPerAddr, cl.Address}); err != nil {
		return nil, nil, err
	}
	rec, err := s.lookup(ctx, ch, addr)
	if err != nil && !errors.Is(err, ErrNoRecord) {
		return nil, nil, ErrUnavailable.with(err)
	}
	stored := rec.PasswordHash
	if err != nil {
		stored = s.dummy
	}
	verr := s.verifyPassword(ctx, password, stored)
	if verr != nil && !errors.Is(verr, argon2id.ErrMismatch) && !errors.Is(verr, argon2id.ErrFormat) {
		return nil, nil, ErrUnavailable.with(verr)
	}
	if verr != nil || err != nil {
		s.log.Info("account: wrong credentials", "channel", ch)
		return nil, nil, ErrWrongCredentials
	}
	if argon2id.NeedsRehash(stored, s.cfg.Password) {
		if ph, err := s.hashPassword(ctx, password); err == nil {
			s.cfg.Store.SetPassword(ctx, rec.ID, ph)
		}
	}
	acc, err := s.load(ctx, rec)
	if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	return acc, []string{"pwd"}, nil
}

func normalizeOrigin(o string) (string, error) {
	n, err := login.NormalizeOrigin(o)
	if err != nil {
		return "", fmt.Errorf("account: Config.Origin: %w", err)
	}
	return n, nil
}

// pendingOf is what the page is told of a code sent to addr.
func pendingOf(id string, ch deliver.Channel, addr string) *Pending {
	return &Pending{ID: id, SentTo: mask(ch, addr), Channel: string(ch), ResendAfter: int(resendAfter / time.Second), ExpiresIn: int(codeTTL / time.Second)}
}
