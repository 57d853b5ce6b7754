package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SMSGateway sends SMS through an HTTP gateway: a POST of
// {"to":"+79161234567","text":"…"} as JSON, with «Authorization: Bearer
// Token» when Token is set; any 2xx answer is success (docs/account.md).
type SMSGateway struct {
	URL   string
	Token string
	// Client is the HTTP client; nil means one with a 30 s timeout.
	Client *http.Client
}

// Send posts m.
func (g *SMSGateway) Send(ctx context.Context, m Message) error {
	body, _ := json.Marshal(struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}{m.To, m.Text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("deliver: sms gateway: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	c := g.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("deliver: sms gateway: %w", err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("deliver: sms gateway answered %s", res.Status)
	}
	return nil
}
