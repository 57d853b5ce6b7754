package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
)

// counting is a person who approves every document and types the right
// PIN, and whom the test asks what was shown and how often.
type counting struct {
	mu     sync.Mutex
	shown  []agent.SignSummary
	pins   int
	onPIN  func()
	refuse bool
}

func (p *counting) ConfirmOrigin(context.Context, string) (agent.Decision, error) {
	return agent.AllowOnce, nil
}
func (p *counting) ConfirmSign(_ context.Context, _ string, _ *keystore.Certificate, what agent.SignSummary) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shown = append(p.shown, what)
	return !p.refuse, nil
}
func (p *counting) PIN(context.Context, string, keystore.PINRequest) ([]byte, bool, error) {
	p.mu.Lock()
	p.pins++
	f := p.onPIN
	p.mu.Unlock()
	if f != nil {
		f()
	}
	return []byte(testtoken.PIN), false, nil
}

func result[T any](t *testing.T, r wsapi.Response) T {
	t.Helper()
	var v T
	if r.Error != nil {
		t.Fatalf("error %+v", r.Error)
	}
	if err := json.Unmarshal(r.Result.(json.RawMessage), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// stream sends doc in chunks of n bytes and returns the stream's id.
func (c *client) stream(t *testing.T, name string, doc []byte, n int) string {
	t.Helper()
	size := int64(len(doc))
	b := result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Name: name, Size: &size}))
	if b.ChunkSize != wsapi.ChunkSize {
		t.Fatalf("chunk size %d", b.ChunkSize)
	}
	for off := 0; off < len(doc); off += n {
		part := doc[off:min(off+n, len(doc))]
		got := result[wsapi.StreamChunkResult](t, c.call("streamChunk", wsapi.StreamChunkParams{Stream: b.Stream, Offset: int64(off), Data: base64.StdEncoding.EncodeToString(part)}))
		if got.Received != int64(off+len(part)) {
			t.Fatalf("received %d after %d", got.Received, off+len(part))
		}
	}
	return b.Stream
}

func cmsOf(t *testing.T, r wsapi.Response) []byte {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(result[wsapi.SignResult](t, r).CMS)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// engineAccepts runs openssl cms -verify -engine gost on a detached (doc
// given) or attached CMS, against the test CA.
func engineAccepts(t *testing.T, der, doc []byte) error {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert().Raw}), 0o600)
	in := filepath.Join(dir, "sig.der")
	os.WriteFile(in, der, 0o600)
	args := []string{"cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", in, "-CAfile", ca, "-purpose", "any", "-out", filepath.Join(dir, "out")}
	if doc != nil {
		os.WriteFile(filepath.Join(dir, "doc"), doc, 0o600)
		args = append(args, "-content", filepath.Join(dir, "doc"))
	}
	if out, err := enginetest.Try(nil, args...); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

func caCert() *x509.Certificate { return ca.Cert }

// TestOverLimitFrame (issue 24): a document sent whole over the 1 MiB
// frame (787,000 bytes closed the socket with 1009 before) gets TOO_LARGE
// with its id, and the connection goes on serving; an attached sign whose
// reply could not fit a frame is refused before anyone is asked.
func TestOverLimitFrame(t *testing.T) {
	p := &counting{}
	h := start(t, agent.Config{Trusted: []agent.Rule{mustRule(t, site)}, Prompter: p})
	c := connect(t, h, site, false)
	for _, n := range []int{787_000, 5 << 20} {
		r := c.call("sign", wsapi.SignParams{Certificate: certID, Data: base64.StdEncoding.EncodeToString(make([]byte, n))})
		if r.Error == nil || r.Error.Code != wsapi.TooLargeCode {
			t.Fatalf("%d bytes: %+v", n, r.Error)
		}
	}
	if r := c.call("info", nil); r.Error != nil {
		t.Fatalf("the connection after TOO_LARGE: %+v", r.Error)
	}
	r := c.call("sign", wsapi.SignParams{Certificate: certID, Data: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 600_000))})
	if r.Error == nil || r.Error.Code != wsapi.TooLargeCode || len(p.shown) != 0 {
		t.Fatalf("attached sign of 600,000 bytes: %+v, shown %d", r.Error, len(p.shown))
	}
	// Past MaxSkipped the agent stops reading: the connection closes.
	l, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	small := serve(t, headless(mustRule(t, site)), l, &Server{MaxSkipped: 2 << 20})
	ws, _, err := small.dial(t, site, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, make([]byte, 3<<20))
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Error("a message over MaxSkipped was answered")
	}
	// Detached, the same document fits: the reply is small.
	r = c.call("sign", wsapi.SignParams{Certificate: certID, Detached: true, Data: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 600_000))})
	cmsOf(t, r)
}

func mustRule(t *testing.T, s string) agent.Rule {
	r, err := agent.ParseRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestStreamSign: a 3 MB document streamed in chunks is signed detached
// over the digest of what arrived; the person is shown its name, size and
// Streebog digest; openssl cms -verify -engine gost accepts the CMS with
// the document and refuses it with one byte changed; the stream is used
// up by the signature.
func TestStreamSign(t *testing.T) {
	p := &counting{}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, site, false)
	doc := make([]byte, 3<<20+17)
	for i := range doc {
		doc[i] = byte(i * 7)
	}
	id := c.stream(t, "договор.pdf", doc, wsapi.ChunkSize)
	der := cmsOf(t, c.call("sign", wsapi.SignParams{Certificate: certID, Stream: id, Description: "Договор"}))
	sum := streebog.Sum256(doc)
	if len(p.shown) != 1 || len(p.shown[0].Documents) != 1 || p.shown[0].Documents[0].Name != "договор.pdf" ||
		p.shown[0].Documents[0].Size != int64(len(doc)) || p.shown[0].Streebog != fmt.Sprintf("%x", sum) || p.pins != 1 {
		t.Fatalf("shown %+v, %d PINs", p.shown, p.pins)
	}
	sd, err := cms.Parse(der)
	if err != nil || sd.Content != nil {
		t.Fatalf("%v, content %d bytes", err, len(sd.Content))
	}
	enginetest.Require(t)
	if err := engineAccepts(t, der, doc); err != nil {
		t.Fatal(err)
	}
	doc[len(doc)/2] ^= 1
	if engineAccepts(t, der, doc) == nil {
		t.Fatal("the engine accepts the signature over a changed document")
	}
	if r := c.call("sign", wsapi.SignParams{Certificate: certID, Stream: id}); r.Error == nil || r.Error.Code != wsapi.BadRequest {
		t.Fatalf("a stream signed twice: %+v", r.Error)
	}
}

// TestStreamRefusals: a stream ended short, run over its size, sent out
// of order, with a chunk over ChunkSize, or hashed with another digest
// than the key's is never signed and the person is never asked.
func TestStreamRefusals(t *testing.T) {
	p := &counting{}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, site, false)
	begin := func(size int64, digest string) string {
		return result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Size: &size, Digest: digest})).Stream
	}
	chunk := func(id string, off int64, n int) wsapi.Response {
		return c.call("streamChunk", wsapi.StreamChunkParams{Stream: id, Offset: off, Data: base64.StdEncoding.EncodeToString(make([]byte, n))})
	}
	code := func(r wsapi.Response) wsapi.Code {
		if r.Error == nil {
			return "OK"
		}
		return r.Error.Code
	}
	short := begin(10, "")
	chunk(short, 0, 5)
	over := begin(10, "")
	outOfOrder := begin(-1+11, "")
	big := begin(1<<20, "")
	wrongDigest := begin(3, "streebog512")
	chunk(wrongDigest, 0, 3)
	for _, tc := range []struct {
		name string
		r    wsapi.Response
		want wsapi.Code
	}{
		{"over its size", chunk(over, 0, 11), wsapi.BadRequest},
		{"out of order", chunk(outOfOrder, 3, 1), wsapi.BadRequest},
		{"chunk over ChunkSize", chunk(big, 0, wsapi.ChunkSize+1), wsapi.TooLargeCode},
		{"unknown digest", c.call("streamBegin", wsapi.StreamBeginParams{Digest: "md5"}), wsapi.BadRequest},
		{"sign short", c.call("sign", wsapi.SignParams{Certificate: certID, Stream: short}), wsapi.BadRequest},
		{"sign overrun", c.call("sign", wsapi.SignParams{Certificate: certID, Stream: over}), wsapi.BadRequest},
		{"sign Streebog-512 with a 256-bit key", c.call("sign", wsapi.SignParams{Certificate: certID, Stream: wrongDigest}), wsapi.BadRequest},
		{"sign unknown stream", c.call("sign", wsapi.SignParams{Certificate: certID, Stream: "nope"}), wsapi.BadRequest},
	} {
		if got := code(tc.r); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if len(p.shown) != 0 || p.pins != 0 {
		t.Fatalf("the person was asked: %+v, %d PINs", p.shown, p.pins)
	}
}

// TestSignHashIsNoLogin (issue 24): a page that knows another site's
// fresh challenge builds that site's login document, hashes it and asks
// signHash (and a stream of it) to sign the digest. The agent signs it as
// id-data — the person saw only a digest — and the victim's VerifyLogin
// refuses it: the login content type, which only authenticate signs, is
// what keeps them apart. The same digest signed under the login type
// would pass, so the test shows the content type is the defence.
func TestSignHashIsNoLogin(t *testing.T) {
	defer env.ResetPIN()
	const attacker, victim = "https://evil.example", "https://victim.example"
	p := &counting{}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, attacker, false)
	v, _ := verify.New(verify.Config{Origins: []string{victim}, Roots: []*x509.Certificate{ca.Cert}})
	ctx := context.Background()
	ch, _ := v.IssueChallenge(ctx, victim)
	doc := login.NewDocument(victim, ch.Value, time.Now()).Marshal()
	sum := streebog.Sum256(doc)

	der := cmsOf(t, c.call("signHash", wsapi.SignHashParams{Certificate: certID, Hash: fmt.Sprintf("%x", sum), Description: "Счёт"}))
	if len(p.shown) != 1 || !p.shown[0].HashOnly || p.shown[0].Streebog != fmt.Sprintf("%x", sum) {
		t.Fatalf("shown %+v", p.shown)
	}
	// A document signature over that content it is…
	sd, err := cms.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := sd.Signers[0].FindCertificate(sd.Certificates)
	if err := sd.VerifySigner(sd.Signers[0], signer, doc); err != nil {
		t.Fatalf("signHash's CMS does not verify over the document: %v", err)
	}
	if !sd.ContentType.Equal(cms.OIDData) {
		t.Fatalf("content type %v", sd.ContentType)
	}
	// …but never a login, detached or with the document put back in.
	if _, err := v.VerifyLogin(ctx, der, victim); err == nil {
		t.Fatal("signHash made a login")
	}
	id := c.stream(t, "login.json", doc, 7)
	streamed := cmsOf(t, c.call("sign", wsapi.SignParams{Certificate: certID, Stream: id}))
	if _, err := v.VerifyLogin(ctx, streamed, victim); err == nil {
		t.Fatal("a streamed login document made a login")
	}
	// Cosigning a real login of the attacker's own is refused: the
	// co-signature would keep the login content type.
	ach, _ := v.IssueChallenge(ctx, victim)
	lr := c.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: ach.Value})
	loginCMS := result[wsapi.AuthenticateResult](t, lr).CMS
	if r := c.call("cosign", wsapi.CosignParams{Certificate: certID, CMS: loginCMS}); r.Error == nil || r.Error.Code != wsapi.BadRequest {
		t.Fatalf("cosign of a login: %+v", r.Error)
	}
}

// TestSignBatch: five streamed documents and one server digest, one
// window listing each (name, size, digest), one PIN; each CMS accepted by
// the engine with its own document. Then the token is pulled while the
// batch waits for it: the batch fails as TOKEN_REMOVED, nothing half
// made, and the next batch with the token back works.
func TestSignBatch(t *testing.T) {
	defer env.ResetPIN()
	p := &counting{}
	// Trusted: its prompts are not rate-limited, and it is still asked.
	h := start(t, agent.Config{Prompter: p, Trusted: []agent.Rule{mustRule(t, site)}})
	c := connect(t, h, site, false)
	var docs [][]byte
	var params wsapi.SignBatchParams
	params.Certificate, params.Description = certID, "Пакет договоров"
	for i := range 5 {
		d := bytes.Repeat([]byte(fmt.Sprintf("документ %d; ", i)), 1000*(i+1))
		docs = append(docs, d)
		params.Documents = append(params.Documents, wsapi.BatchDocument{Stream: c.stream(t, fmt.Sprintf("doc%d.txt", i), d, 100_000)})
	}
	extra := []byte("документ, хэшированный сервером")
	sum := streebog.Sum256(extra)
	docs = append(docs, extra)
	params.Documents = append(params.Documents, wsapi.BatchDocument{Name: "server.txt", Hash: base64.StdEncoding.EncodeToString(sum[:])})
	res := result[wsapi.SignBatchResult](t, c.call("signBatch", params))
	if p.pins != 1 || len(p.shown) != 1 || len(p.shown[0].Documents) != 6 {
		t.Fatalf("%d PINs, shown %+v", p.pins, p.shown)
	}
	for i, d := range p.shown[0].Documents[:5] {
		s := streebog.Sum256(docs[i])
		if d.Name != fmt.Sprintf("doc%d.txt", i) || d.Size != int64(len(docs[i])) || d.Digest != fmt.Sprintf("%x", s) {
			t.Errorf("document %d shown as %+v", i, d)
		}
	}
	if d := p.shown[0].Documents[5]; d.Size != -1 || !p.shown[0].HashOnly {
		t.Errorf("the server's digest shown as %+v", d)
	}
	if len(res.Results) != 6 {
		t.Fatalf("%d results", len(res.Results))
	}
	enginetest.Require(t)
	for i, r := range res.Results {
		if r.Error != nil {
			t.Fatalf("document %d: %+v", i, r.Error)
		}
		der, _ := base64.StdEncoding.DecodeString(r.CMS)
		if err := engineAccepts(t, der, docs[i]); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if i > 0 && engineAccepts(t, der, docs[i-1]) == nil {
			t.Fatalf("document %d's signature accepted over document %d", i, i-1)
		}
	}

	// The token pulled out while the PIN is asked.
	p.onPIN = func() { env.Marker(".removed", true) }
	defer env.Marker(".removed", false)
	params.Documents = nil
	for i := range 3 {
		params.Documents = append(params.Documents, wsapi.BatchDocument{Stream: c.stream(t, "", docs[i], wsapi.ChunkSize)})
	}
	if r := c.call("signBatch", params); r.Error == nil || r.Error.Code != wsapi.TokenRemoved {
		t.Fatalf("batch with the token pulled: %+v %s", r.Error, r.Result)
	}
	env.Marker(".removed", false)
	p.onPIN = nil
	params.Documents = []wsapi.BatchDocument{{Stream: c.stream(t, "", docs[0], wsapi.ChunkSize)}}
	if r := result[wsapi.SignBatchResult](t, c.call("signBatch", params)); r.Results[0].Error != nil {
		t.Fatalf("batch after the token is back: %+v", r.Results[0].Error)
	}
}

// TestCosign: a document signed (attached) by another person's key is
// co-signed through the agent; both signers verify with us and with the
// engine. A detached CMS is co-signed with the document streamed again;
// another document in the stream is refused before anyone is asked.
func TestCosign(t *testing.T) {
	defer env.ResetPIN()
	p := &counting{}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, site, false)
	otherCert, otherKey := ca.Person(t, gost3410.CurveTC26256B, pkix.Name{CommonName: "Второй Подписант"}, time.Now(), nil)
	doc := []byte(strings.Repeat("Соглашение о намерениях. ", 200))
	first, err := cms.Sign(doc, otherCert, otherKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	attached := cmsOf(t, c.call("cosign", wsapi.CosignParams{Certificate: certID, CMS: base64.StdEncoding.EncodeToString(first), Description: "Согласовано"}))
	checkAll(t, attached, nil, 2)

	detached, _ := cms.Sign(doc, otherCert, otherKey, &cms.SignOptions{Detached: true})
	other := append([]byte("не тот "), doc...)
	r := c.call("cosign", wsapi.CosignParams{Certificate: certID, CMS: base64.StdEncoding.EncodeToString(detached), Stream: c.stream(t, "", other, 1000)})
	if r.Error == nil || r.Error.Code != wsapi.BadRequest {
		t.Fatalf("cosign of another document: %+v", r.Error)
	}
	shown := len(p.shown)
	co := cmsOf(t, c.call("cosign", wsapi.CosignParams{Certificate: certID, CMS: base64.StdEncoding.EncodeToString(detached), Stream: c.stream(t, "", doc, 1000)}))
	if len(p.shown) != shown+1 {
		t.Fatalf("the person was not asked")
	}
	checkAll(t, co, doc, 2)
	enginetest.Require(t)
	if err := engineAccepts(t, co, doc); err != nil {
		t.Fatalf("detached co-signature: %v", err)
	}
	if err := engineAccepts(t, attached, nil); err != nil {
		t.Fatalf("attached co-signature: %v", err)
	}
}

func checkAll(t *testing.T, der, detached []byte, n int) {
	t.Helper()
	sd, err := cms.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Signers) != n {
		t.Fatalf("%d signers", len(sd.Signers))
	}
	for _, si := range sd.Signers {
		cert, err := si.FindCertificate(sd.Certificates)
		if err != nil {
			t.Fatal(err)
		}
		if err := sd.VerifySigner(si, cert, detached); err != nil {
			t.Fatalf("%s: %v", cert.Subject, err)
		}
	}
}
