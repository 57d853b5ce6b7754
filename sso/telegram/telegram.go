// Package telegram verifies the data of the Telegram Login Widget
// (https://core.telegram.org/widgets/login, «Checking authorization»): the
// fields Telegram sends back after the person confirms the login, signed
// with an HMAC-SHA-256 whose key is SHA-256 of the bot's token.
//
// The data-check-string is every received field except hash, sorted by
// name, as name=value joined by "\n"; fields Telegram may add later are
// kept in it (dropping them would break the signature, and accepting them
// unsigned would let anyone add them). Besides the signature, Verify
// refuses data older than the configured age or dated in the future, and
// a hash seen before within that age (the widget's redirect URL can be
// replayed from a browser history or a log).
package telegram

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/podpis/podpis/sso"
	"github.com/podpis/podpis/sso/replay"
)

// DefaultMaxAge is how old widget data may be when MaxAge is zero: long
// enough for the redirect to arrive, short enough that a leaked URL is
// useless soon.
const DefaultMaxAge = 5 * time.Minute

// clockSkew is how far in the future auth_date may lie: Telegram's clock
// against ours. Beyond it the data is refused, not waited for.
const clockSkew = 30 * time.Second

var (
	ErrMissingHash = errors.New("telegram: no hash in the widget data")
	ErrBadHash     = errors.New("telegram: the widget data's signature does not match")
	ErrMalformed   = errors.New("telegram: malformed widget data")
	ErrStale       = errors.New("telegram: the widget data is too old")
	ErrFuture      = errors.New("telegram: the widget data is dated in the future")
	ErrReplayed    = errors.New("telegram: the widget data was already used")
)

// Config configures a Verifier.
type Config struct {
	// BotToken is the token @BotFather gave the bot the widget belongs to.
	BotToken string
	// MaxAge is how old auth_date may be; zero means DefaultMaxAge.
	MaxAge time.Duration
	// Store remembers used hashes; nil means a replay.Memory (one process
	// only: use sso/replay/redisreplay behind a balancer).
	Store replay.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks widget data for one bot. It is safe for concurrent use.
type Verifier struct {
	key    [sha256.Size]byte
	maxAge time.Duration
	store  replay.Store
	now    func() time.Time
}

// botToken is the shape of a bot token: the bot's numeric ID, a colon, and
// the secret part.
var botToken = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]{30,}$`)

// New returns a Verifier; it refuses a token that is not a bot token, so
// that a misconfiguration (an empty or truncated token) fails at start.
func New(cfg Config) (*Verifier, error) {
	if !botToken.MatchString(cfg.BotToken) {
		return nil, errors.New("telegram: the bot token is not of the form <id>:<secret>")
	}
	if cfg.MaxAge < 0 {
		return nil, errors.New("telegram: negative MaxAge")
	}
	v := &Verifier{key: sha256.Sum256([]byte(cfg.BotToken)), maxAge: cfg.MaxAge, store: cfg.Store, now: cfg.Now}
	if v.maxAge == 0 {
		v.maxAge = DefaultMaxAge
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.store == nil {
		v.store = &replay.Memory{Now: v.now}
	}
	return v, nil
}

// User is the person as the widget reports them.
type User struct {
	ID        int64  // Telegram's user ID: the external ID to link
	FirstName string // may be empty
	LastName  string
	Username  string
	PhotoURL  string
	AuthDate  time.Time
}

// Subject returns the external ID under which an account links this user.
func (u *User) Subject() string { return strconv.FormatInt(u.ID, 10) }

// Verify checks widget data as received (the query of the widget's
// data-auth-url redirect, or FieldsFromJSON of the JavaScript callback's
// object) and returns the user. Each successful Verify uses the data up.
func (v *Verifier) Verify(ctx context.Context, data url.Values) (*User, error) {
	for k, vals := range data {
		if len(vals) != 1 {
			// A repeated field has no one place in the check string, and
			// layers in front of us may read another of its values.
			return nil, fmt.Errorf("%w: field %q given %d times", ErrMalformed, k, len(vals))
		}
	}
	hash := data.Get("hash")
	if hash == "" {
		return nil, ErrMissingHash
	}
	got, err := hex.DecodeString(hash)
	if err != nil || len(got) != sha256.Size {
		return nil, fmt.Errorf("%w: hash is not 64 hex digits", ErrMalformed)
	}
	mac := hmac.New(sha256.New, v.key[:])
	mac.Write(CheckString(data))
	if !hmac.Equal(mac.Sum(nil), got) {
		return nil, ErrBadHash
	}

	// Signed by Telegram from here on: the fields are as it wrote them.
	u := &User{FirstName: data.Get("first_name"), LastName: data.Get("last_name"), Username: data.Get("username"), PhotoURL: data.Get("photo_url")}
	if u.ID, err = strconv.ParseInt(data.Get("id"), 10, 64); err != nil || u.ID <= 0 {
		return nil, fmt.Errorf("%w: id %q", ErrMalformed, data.Get("id"))
	}
	sec, err := strconv.ParseInt(data.Get("auth_date"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: auth_date %q", ErrMalformed, data.Get("auth_date"))
	}
	u.AuthDate = time.Unix(sec, 0)
	now := v.now()
	switch {
	case u.AuthDate.After(now.Add(clockSkew)):
		return nil, fmt.Errorf("%w: %s", ErrFuture, u.AuthDate.UTC().Format(time.RFC3339))
	case now.Sub(u.AuthDate) > v.maxAge:
		return nil, fmt.Errorf("%w: signed %s ago, at most %s", ErrStale, now.Sub(u.AuthDate).Round(time.Second), v.maxAge)
	}
	// Remembered until it would be stale anyway; the hash names the whole
	// signed data.
	if err := v.store.Use(ctx, "telegram:"+strings.ToLower(hash), u.AuthDate.Add(v.maxAge+clockSkew)); err != nil {
		if errors.Is(err, replay.ErrUsed) {
			return nil, ErrReplayed
		}
		return nil, fmt.Errorf("telegram: replay store: %w", err)
	}
	return u, nil
}

// CheckString returns the data-check-string of data: every field but hash,
// sorted by name, name=value joined by "\n".
func CheckString(data url.Values) []byte {
	keys := make([]string, 0, len(data))
	for k := range data {
		if k != "hash" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(data.Get(k))
	}
	return b.Bytes()
}

// FieldsFromJSON turns the object the widget passes to its JavaScript
// callback (data-onauth) into fields for Verify. Numbers keep the digits
// Telegram sent (no float rounding of IDs); objects, arrays and nulls are
// refused.
func FieldsFromJSON(b []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	out := make(url.Values, len(obj))
	for k, val := range obj {
		switch x := val.(type) {
		case string:
			out.Set(k, x)
		case json.Number:
			out.Set(k, x.String())
		case bool:
			out.Set(k, strconv.FormatBool(x))
		default:
			return nil, fmt.Errorf("%w: field %q is not a string or number", ErrMalformed, k)
		}
	}
	return out, nil
}

// Identity returns u in the shape the account service links.
func (u *User) Identity() sso.Identity {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" && u.Username != "" {
		name = "@" + u.Username
	}
	return sso.Identity{Provider: sso.Telegram, Subject: u.Subject(), Name: name,
		Claims: sso.NewClaims("username", u.Username, "photo_url", u.PhotoURL)}
}
