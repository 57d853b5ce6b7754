package wsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/certreq"
)

// TestProtocolDoc keeps docs/protocol.md in step: every method has a
// section and every code its row with the message the agent sends.
func TestProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	documented := slices.Collect(maps.Keys(methods))
	for m := range connMethods {
		documented = append(documented, m)
	}
	for _, m := range documented {
		if !strings.Contains(text, "### `"+m+"`") {
			t.Errorf("method %s is not documented", m)
		}
	}
	for _, m := range []string{"streamBegin", "streamChunk", "streamAbort"} {
		if !strings.Contains(text, "`"+m+"`") {
			t.Errorf("method %s is not documented", m)
		}
	}
	if !strings.Contains(text, "### `cancel`") {
		t.Error("cancel is not documented")
	}
	for _, c := range Codes {
		row := "| `" + string(c) + "` |"
		i := strings.Index(text, row)
		if i < 0 {
			t.Errorf("code %s is not documented", c)
			continue
		}
		line := text[i : i+strings.Index(text[i:], "\n")]
		if !strings.HasSuffix(strings.TrimSpace(line), "| "+c.Message()+" |") {
			t.Errorf("code %s: the document's message differs from %q", c, c.Message())
		}
	}
}

func TestErrorOf(t *testing.T) {
	for err, want := range map[error]Code{
		agent.ErrOriginDenied: OriginDenied,
		agent.ErrBusy:         Busy,
		errors.Join(agent.ErrBadRequest, errors.New("x")):                               BadRequest,
		keystore.ErrPINLocked:                                                           PINLocked,
		&keystore.Error{Code: keystore.CodeTokenRemoved, Err: errors.New("C_Sign")}:     TokenRemoved,
		context.DeadlineExceeded:                                                        Timeout,
		errors.New("anything else"):                                                     Internal,
		fmt.Errorf("%w: /usr/lib/librtpkcs11ecp.so: Иванов", keystore.ErrProviderError): ProviderError,
		&keystore.Error{Code: "SOMETHING_NEW"}:                                          ProviderError,
		errors.Join(agent.ErrBusy, context.Canceled):                                    Busy,
	} {
		// The page gets the table's words, never the Go error's (which
		// names modules, files, people).
		if got := ErrorOf(err); got.Code != want || got.Message != want.Message() {
			t.Errorf("%v → %v, want %v", err, got.Code, want)
		}
	}
}

// TestMessages: every code has both its texts, and the key store's codes
// all land on a protocol code of the same name.
func TestMessages(t *testing.T) {
	for _, c := range Codes {
		if c.Message() == "" || c.English() == "" {
			t.Errorf("%s: messages %q / %q", c, c.Message(), c.English())
		}
	}
	for _, k := range []keystore.Code{keystore.CodePINRequired, keystore.CodePINIncorrect, keystore.CodePINLocked,
		keystore.CodeTokenRemoved, keystore.CodeCertNotFound, keystore.CodeNoProvider, keystore.CodeProviderError,
		keystore.CodeTimeout, keystore.CodeCancelled} {
		if got := CodeOf(&keystore.Error{Code: k}); string(got) != string(k) {
			t.Errorf("key store %s → %s", k, got)
		}
	}
}

// TestWireJSON: what a page receives is docs/protocol.md's JSON, member
// for member, whatever the Go types behind it are called.
func TestWireJSON(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &keystore.Certificate{ID: "3df7", Algorithm: "GOST R 34.10-2012 256 (tc26-256-a)", Source: "Rutoken", Token: "Rutoken ECP",
		TokenSerial: "3a7b1c2d", HasKey: true, Problems: []keystore.Problem{keystore.ProblemExpired}}
	c.Identity.CommonName, c.Identity.Surname, c.Identity.GivenName, c.Identity.Title = "Иванов Иван Иванович", "Иванов", "Иван Иванович", "Директор"
	c.Identity.Organization, c.Identity.Unit, c.Identity.SNILS, c.Identity.INN = "ООО «Ромашка»", "Отдел", "12345678901", "771234567890"
	c.Identity.INNLE, c.Identity.OGRN, c.Identity.OGRNIP, c.Identity.Email = "7712345678", "1027700000000", "304500116000157", "ivanov@example.ru"
	c.Identity.Thumbprint, c.Identity.Serial, c.Identity.Issuer = "3df7", "1a2b", "Тестовый УЦ"
	c.Identity.NotBefore, c.Identity.NotAfter = at, at.AddDate(1, 0, 0)
	bare := &keystore.Certificate{ID: "ab"}
	bare.Identity.NotBefore, bare.Identity.NotAfter = at, at
	for _, tc := range []struct {
		v    any
		want string
	}{
		{CertificateOf(c), `{"id":"3df7","identity":{"commonName":"Иванов Иван Иванович","surname":"Иванов","givenName":"Иван Иванович","title":"Директор",` +
			`"organization":"ООО «Ромашка»","organizationalUnit":"Отдел","snils":"12345678901","inn":"771234567890","innle":"7712345678",` +
			`"ogrn":"1027700000000","ogrnip":"304500116000157","email":"ivanov@example.ru","thumbprint":"3df7","serial":"1a2b",` +
			`"issuer":"Тестовый УЦ","notBefore":"2026-01-01T00:00:00Z","notAfter":"2027-01-01T00:00:00Z"},` +
			`"algorithm":"GOST R 34.10-2012 256 (tc26-256-a)","provider":"Rutoken","token":"Rutoken ECP","tokenSerial":"3a7b1c2d","hasKey":true,"problems":["EXPIRED"]}`},
		{CertificateOf(bare), `{"id":"ab","identity":{"thumbprint":"","serial":"","issuer":"","notBefore":"2026-01-01T00:00:00Z","notAfter":"2026-01-01T00:00:00Z"},` +
			`"algorithm":"","provider":"","token":"","hasKey":false}`},
		{InfoResult{Product: "podpis", Version: "1.0.0", Protocol: 2,
			Modules:  []ModuleInfo{moduleInfoOf(keystore.ModuleInfo{Name: "CryptoPro CSP", Library: "/opt/x.so", Loaded: true}), moduleInfoOf(keystore.ModuleInfo{Name: "Rutoken", Error: "e"})},
			Findings: []Finding{findingOf(agent.Finding{Code: "NO_TOKEN", Severity: "warning", Title: "t", Personal: true}), findingOf(agent.Finding{Code: "X", Severity: "problem", Title: "t", Cause: "c", Fix: "f"})},
			Keygen:   []KeygenToken{{Token: "Rutoken ECP", Algorithms: []string{"tc26-256-a", "tc26-512-a"}}, {Algorithms: []string{"rsa2048"}}}},
			`{"product":"podpis","version":"1.0.0","protocol":2,"providers":[{"name":"CryptoPro CSP","library":"/opt/x.so","loaded":true},{"name":"Rutoken","loaded":false,"error":"e"}],` +
				`"ready":false,"findings":[{"code":"NO_TOKEN","severity":"warning","title":"t"},{"code":"X","severity":"problem","title":"t","cause":"c","fix":"f"}],` +
				`"keygen":[{"token":"Rutoken ECP","algorithms":["tc26-256-a","tc26-512-a"]},{"algorithms":["rsa2048"]}]}`},
		{CreateRequestResult{Request: "MIIC", KeyID: "5c1f"}, `{"request":"MIIC","keyId":"5c1f"}`},
		{Response{ID: json.RawMessage("6"), Error: ErrorOf(&certreq.Error{Field: "INN", Reason: certreq.ReasonChecksum})},
			`{"id":6,"error":{"code":"INVALID_REQUEST","message":"ИНН: неверное контрольное число","field":"INN"}}`},
		{Detection{Product: "podpis", Version: "1.0.0", Protocol: 2}, `{"product":"podpis","version":"1.0.0","protocol":2}`},
		{Response{ID: json.RawMessage("5"), Result: CancelResult{Cancelled: true}}, `{"id":5,"result":{"cancelled":true}}`},
		{BadMessage(), `{"id":null,"error":{"code":"BAD_REQUEST","message":"Неверный запрос"}}`},
	} {
		got, err := json.Marshal(tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("%T:\n got %s %v\nwant %s", tc.v, got, err, tc.want)
		}
	}
}

// TestConn: cancel reaches a request in flight and only this connection's;
// a full connection answers BUSY, a reused id BAD_REQUEST, and garbage
// BAD_REQUEST with a null id — all without calling the agent.
func TestConn(t *testing.T) {
	api := New(agent.New(agent.Config{}))
	c := api.NewConn("https://lk.example.ru", Limits{MaxInFlight: 2, OpTimeout: time.Minute})
	defer c.Close()
	other := api.NewConn("https://lk.example.ru", Limits{MaxInFlight: 2, OpTimeout: time.Minute})
	defer other.Close()
	receive := func(c *Conn, msg string) (*Call, *Response) {
		t.Helper()
		return c.Receive([]byte(msg))
	}
	first, r := receive(c, `{"id":1,"method":"info"}`)
	if first == nil || r != nil {
		t.Fatalf("info: %v %+v", first, r)
	}
	if dl, ok := first.ctx.Deadline(); !ok || time.Until(dl) > time.Minute {
		t.Errorf("a request's deadline %v, want the connection's OpTimeout", dl)
	}
	if _, r := receive(c, `{"id":1,"method":"info"}`); r == nil || r.Error == nil || r.Error.Code != BadRequest {
		t.Errorf("reused id: %+v", r)
	}
	if second, _ := receive(c, `{"id":"b","method":"info"}`); second == nil {
		t.Fatal("second request refused")
	}
	if _, r := receive(c, `{"id":3,"method":"info"}`); r == nil || r.Error == nil || r.Error.Code != Busy {
		t.Errorf("third in flight: %+v", r)
	}
	if _, r := receive(other, `{"id":9,"method":"cancel","params":{"id":1}}`); r == nil || r.Result != (CancelResult{Cancelled: false}) {
		t.Errorf("another connection cancelled: %+v", r)
	}
	if _, r := receive(c, `{"id":9,"method":"cancel","params":{"id":1}}`); r == nil || r.Result != (CancelResult{Cancelled: true}) || first.ctx.Err() == nil {
		t.Errorf("cancel: %+v, ctx %v", r, first.ctx.Err())
	}
	if _, r := receive(c, `{"id":10,"method":"cancel"}`); r == nil || r.Error == nil || r.Error.Code != BadRequest {
		t.Errorf("cancel without id: %+v", r)
	}
	if _, r := receive(c, `{"id":11,"method":"frobnicate"}`); r == nil || r.Error == nil || r.Error.Code != UnknownMethod {
		t.Errorf("unknown method: %+v", r)
	}
	if _, r := receive(c, `{"id":{"x":1},"method":"info"}`); r == nil || string(r.ID) != "null" || r.Error.Code != BadRequest {
		t.Errorf("object id: %+v", r)
	}
	if res, err := first.Run(); err != nil || res.Error != nil {
		t.Fatalf("run: %+v %v", res, err)
	}
	// Done, first's id leaves the table: the connection takes another.
	if call, r := receive(c, `{"id":1,"method":"info"}`); call == nil {
		t.Errorf("after a request ended: %+v", r)
	}
}

// noticer is a Prompter that cannot show its question: it tells the page
// so (as prompt.Browser does with no opener) and refuses.
type noticer struct{}

func (noticer) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	agent.Notify(ctx, agent.NoticePromptNotShown)
	return agent.Deny, nil
}
func (noticer) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	return false, nil
}
func (noticer) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	return nil, false, keystore.ErrCancelled
}

// TestNotice: a prompter's notice reaches the transport as a message with
// no id (a client that knows no notices finds no request of its own in
// it), naming the request it is about, with the Russian text; the request
// still ends with its own response.
func TestNotice(t *testing.T) {
	api := New(agent.New(agent.Config{Prompter: noticer{}}))
	c := api.NewConn("https://new.example", Limits{})
	defer c.Close()
	call, r := c.Receive([]byte(`{"id":"a7","method":"certificates"}`))
	if call == nil {
		t.Fatalf("certificates: %+v", r)
	}
	var sent []string
	call.Notify = func(r Response) {
		b, _ := json.Marshal(r)
		sent = append(sent, string(b))
	}
	res, _ := call.Run()
	want := `{"notice":{"request":"a7","code":"PROMPT_NOT_SHOWN","message":"` + NoticeMessage(agent.NoticePromptNotShown) + `"}}`
	if len(sent) != 1 || sent[0] != want {
		t.Fatalf("notices sent: %q, want %q", sent, want)
	}
	if res.Error == nil || res.Error.Code != OriginDenied || string(res.ID) != `"a7"` {
		t.Fatalf("the request's own response: %+v", res)
	}
	if NoticeMessage(agent.NoticePromptNotShown) == "" {
		t.Fatal("PROMPT_NOT_SHOWN has no message")
	}
}
