package esia

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/podpis/podpis/crypto/cms"
)

// SecretMessage is what client_secret signs: the UTF-8 concatenation
// scope + timestamp + client_id + state, with nothing between them (the
// recommendations' «подпись … от значений четырёх параметров HTTP-запроса:
// scope, timestamp, clientId, state»).
func SecretMessage(scope, timestamp, clientID, state string) []byte {
	return []byte(scope + timestamp + clientID + state)
}

// clientSecret signs the message for state at now: a detached CMS
// SignedData (signed attributes as CAdES-BES, the certificate included) in
// base64url.
func (c *Client) clientSecret(state string, now time.Time) (string, error) {
	msg := SecretMessage(c.scope, now.Format(TimestampLayout), c.cfg.ClientID, state)
	der, err := cms.Sign(msg, c.cfg.Certificate, c.cfg.Key, &cms.SignOptions{Detached: true, SigningTime: now})
	if err != nil {
		return "", fmt.Errorf("esia: signing client_secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(der), nil
}
