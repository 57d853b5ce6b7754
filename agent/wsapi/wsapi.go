// Package wsapi is the agent's protocol (docs/protocol.md): JSON requests
// {"id","method","params"} and responses {"id","result"} or
// {"id","error":{"code","message"}}, its own wire types, the method table,
// cancel, the body of GET /v1/info, and the one table of error codes and
// their messages, mapped from Go errors here and nowhere else. Transports
// (agent/server) carry its messages and never look inside them.
package wsapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/certreq"
)

// API is the protocol over one Agent.
type API struct {
	agent *agent.Agent

	mu      sync.Mutex
	uploads map[string]*Conn // stream id → its connection (Limits.Uploads)
}

// New returns the protocol over a.
func New(a *agent.Agent) *API { return &API{agent: a} }

// Serves reports whether origin (the browser's Origin header) may talk to
// the agent at all; the transport refuses the others before anything else.
func (api *API) Serves(origin string) bool { return api.agent.Serves(origin) }

// Detection is what GET /v1/info answers.
func (api *API) Detection() Detection {
	i := api.agent.Info()
	return Detection{Product: i.Product, Version: i.Version, Protocol: i.Protocol}
}

// Limits are the transport's bounds on one connection's requests.
type Limits struct {
	MaxInFlight int           // requests in flight at once, more get BUSY; zero means 8
	OpTimeout   time.Duration // one request, PIN entry included; zero means 3 minutes
	MaxStreams  int           // streams open at once, more get BUSY; zero means 128
	StreamIdle  time.Duration // a stream with no chunk for this long is dropped; zero means 1 minute
	// MaxReply bounds a response: a bigger one becomes TOO_LARGE; zero
	// means 1 MiB, the protocol's frame.
	MaxReply int
	// Uploads: the transport serves UploadPath on its port, so this
	// connection's streams take their bytes as an HTTP body too
	// (streamBegin's result names where).
	Uploads bool
}

// Conn is the protocol state of one connection: its origin, its consent
// scope («Только сейчас» covers this connection's next requests — a
// login's certificates and authenticate — never another connection's)
// and its requests in flight, which cancel finds by id.
type Conn struct {
	api    *API
	origin string
	limits Limits
	ctx    context.Context
	stop   context.CancelFunc

	mu       sync.Mutex
	inflight map[string]context.CancelFunc
	streams  map[string]*stream
	closed   bool
}

// NewConn starts the protocol for a connection whose handshake came from
// origin: the browser's, never the page's word. The transport has
// checked Serves(origin). Close ends it.
func (api *API) NewConn(origin string, l Limits) *Conn {
	if l.MaxInFlight == 0 {
		l.MaxInFlight = 8
	}
	if l.OpTimeout == 0 {
		l.OpTimeout = 3 * time.Minute
	}
	if l.MaxStreams == 0 {
		// A stream is a hash state (under 1 KiB): 128 let a page stream
		// a batch of 100 documents, and 256 connections of them hold
		// 32 MiB at most.
		l.MaxStreams = 128
	}
	if l.StreamIdle == 0 {
		l.StreamIdle = time.Minute
	}
	if l.MaxReply == 0 {
		l.MaxReply = 1 << 20
	}
	n, _ := agent.NormalizeOrigin(origin)
	ctx, stop := context.WithCancel(agent.WithSession(context.Background(), agent.NewSession()))
	return &Conn{api: api, origin: n, limits: l, ctx: ctx, stop: stop, inflight: map[string]context.CancelFunc{}, streams: map[string]*stream{}}
}

// Origin is the connection's origin, normalised (for logs).
func (c *Conn) Origin() string { return c.origin }

// Close cancels every request in flight and drops the streams.
func (c *Conn) Close() {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for id, s := range c.streams {
		s.idle.Stop()
		delete(c.streams, id)
		c.api.dropUpload(id)
	}
}

// TooLarge answers a message over the frame limit that the transport
// skipped, with the id read from its beginning (prefix) when the id
// comes before anything too long to read: podpis.js writes it first.
func TooLarge(prefix []byte) Response {
	id := peekID(prefix)
	if !validID(id) {
		id = json.RawMessage("null")
	}
	return failure(id, TooLargeCode)
}

func peekID(prefix []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return nil
		}
		if k == "id" {
			return v
		}
	}
	return nil
}

// BadMessage answers a message that is not a request at all (a binary
// frame): BAD_REQUEST with a null id.
func BadMessage() Response { return failure(json.RawMessage("null"), BadRequest) }

func failure(id json.RawMessage, code Code) Response {
	return Response{ID: id, Error: &Error{Code: code, Message: code.Message()}}
}

// Receive takes one text message. A message that needs no agent — a
// malformed one, an unknown method, cancel, one over the in-flight limit
// or reusing an id in flight — is answered at once (reply). Otherwise the
// request is registered as in flight, so that cancel finds it, and
// returned as call for the transport to Run where it likes: never in its
// read loop, since token calls and prompts take long.
func (c *Conn) Receive(msg []byte) (call *Call, reply *Response) {
	if r, ok := c.fastChunk(msg); ok {
		return nil, &r
	}
	var req Request
	if err := json.Unmarshal(msg, &req); err != nil || req.Method == "" || !validID(req.ID) {
		id := req.ID
		if !validID(id) {
			id = json.RawMessage("null")
		}
		r := failure(id, BadRequest)
		return nil, &r
	}
	if req.Method == "cancel" {
		r := c.cancel(req)
		return nil, &r
	}
	if r, ok := c.streamMethod(req); ok {
		return nil, &r
	}
	h, ok := methods[req.Method]
	if mk, mine := connMethods[req.Method]; mine {
		h, ok = mk(c), true
	}
	if !ok {
		r := failure(req.ID, UnknownMethod)
		return nil, &r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.inflight) >= c.limits.MaxInFlight {
		r := failure(req.ID, Busy)
		return nil, &r
	}
	if _, dup := c.inflight[string(req.ID)]; dup {
		r := failure(req.ID, BadRequest)
		return nil, &r
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.limits.OpTimeout)
	c.inflight[string(req.ID)] = cancel
	return &Call{Method: req.Method, c: c, h: h, id: req.ID, params: req.Params, ctx: ctx, cancel: cancel}, nil
}

// cancel ends a request of this connection still in flight.
func (c *Conn) cancel(req Request) Response {
	var p CancelParams
	if json.Unmarshal(req.Params, &p) != nil || !validID(p.ID) {
		return failure(req.ID, BadRequest)
	}
	c.mu.Lock()
	cancel, ok := c.inflight[string(p.ID)]
	c.mu.Unlock()
	if ok {
		cancel()
	}
	return Response{ID: req.ID, Result: CancelResult{Cancelled: ok}}
}

// validID accepts the JSON number or string ids of the protocol.
func validID(id json.RawMessage) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	var v any
	if json.Unmarshal(id, &v) != nil {
		return false
	}
	switch v.(type) {
	case float64, string:
		return true
	}
	return false
}

// Call is one request in flight.
type Call struct {
	Method string
	// Notify, set by the transport before Run, sends the page a notice
	// about this request (a Response with only Notice) while it runs; nil
	// drops notices.
	Notify func(Response)

	c      *Conn
	h      handler
	id     json.RawMessage
	params json.RawMessage
	ctx    context.Context
	cancel context.CancelFunc
}

// PanicError is a handler's panic, turned into INTERNAL so that the agent
// keeps serving; the transport logs it.
type PanicError struct {
	Method string
	Value  any
	Stack  []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("wsapi: %s panicked: %v", e.Method, e.Value)
}

// Run runs the request and returns its response, with the Go error behind
// a failure for the log (nil on success). It ends the request's time in
// flight.
func (call *Call) Run() (r Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Method: call.Method, Value: p, Stack: debug.Stack()}
			r = failure(call.id, Internal)
		}
		call.cancel()
		call.c.mu.Lock()
		delete(call.c.inflight, string(call.id))
		call.c.mu.Unlock()
	}()
	ctx := call.ctx
	if call.Notify != nil {
		ctx = agent.WithNotices(ctx, func(n agent.Notice) {
			call.Notify(Response{Notice: &Notice{Request: call.id, Code: string(n), Message: NoticeMessage(n)}})
		})
		ctx = agent.WithProgress(ctx, func(done, total int) {
			if total < 2 {
				return // a single document's answer is its progress
			}
			call.Notify(Response{Notice: &Notice{Request: call.id, Code: NoticeProgress, Done: done, Total: total}})
		})
	}
	res, err := call.h(ctx, call.c.api.agent, call.c.origin, call.params)
	if err != nil {
		return Response{ID: call.id, Error: ErrorOf(err)}, err
	}
	r = Response{ID: call.id, Result: res}
	if b, _ := json.Marshal(r); len(b) > call.c.limits.MaxReply {
		// Signed, but no frame carries it: the page is told, never
		// sent what the transport would have to cut or drop.
		err = fmt.Errorf("%w: a %d-byte reply", ErrTooLarge, len(b))
		return Response{ID: call.id, Error: ErrorOf(err)}, err
	}
	return r, nil
}

// handler runs one method for an origin. Params are already size-limited
// by the transport.
type handler func(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error)

// methods is the method table; cancel acts on the connection (Receive).
var methods = map[string]handler{
	"info":         info,
	"certificates": certificates,
	"authenticate": authenticate,
	"sign":         sign,

	"createRequest":      createRequest,
	"installCertificate": installCertificate,
}

func decode(params json.RawMessage, v any) error {
	if len(params) == 0 {
		params = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.Join(agent.ErrBadRequest, err)
	}
	return nil
}

func info(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	i := a.Info()
	r := InfoResult{Product: i.Product, Version: i.Version, Protocol: i.Protocol, Modules: []ModuleInfo{}, Findings: []Finding{}}
	for _, p := range i.Modules {
		r.Modules = append(r.Modules, moduleInfoOf(p))
	}
	findings, ready := a.Diagnosis(ctx, origin)
	for _, f := range findings {
		r.Findings = append(r.Findings, findingOf(f))
	}
	r.Ready = ready
	r.Keygen = []KeygenToken{}
	for _, t := range a.KeygenTokens(ctx, origin) {
		r.Keygen = append(r.Keygen, KeygenToken{Token: t.Token, Algorithms: t.Algorithms})
	}
	return r, nil
}

func certificates(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p CertificatesParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	certs, err := a.Certificates(ctx, origin, agent.Filter{Issuer: p.Issuer, Policies: p.Policies, OnlyValid: p.OnlyValid})
	if err != nil {
		return nil, err
	}
	r := CertificatesResult{Certificates: make([]Certificate, 0, len(certs))}
	for _, c := range certs {
		r.Certificates = append(r.Certificates, CertificateOf(c))
	}
	return r, nil
}

func authenticate(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p AuthenticateParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	der, cert, err := a.Authenticate(ctx, origin, p.Certificate, p.Challenge)
	if err != nil {
		return nil, err
	}
	return AuthenticateResult{CMS: base64.StdEncoding.EncodeToString(der), Certificate: base64.StdEncoding.EncodeToString(cert.Raw)}, nil
}

// MaxDescription bounds the text a page may put into the consent prompt.
const MaxDescription = 500

func sign(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p SignParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(p.Data)
	if err != nil || len([]rune(p.Description)) > MaxDescription {
		return nil, agent.ErrBadRequest
	}
	der, err := a.Sign(ctx, origin, agent.SignRequest{Certificate: p.Certificate, Data: data, Detached: p.Detached, Description: p.Description})
	if err != nil {
		return nil, err
	}
	return SignResult{CMS: base64.StdEncoding.EncodeToString(der)}, nil
}

func createRequest(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p CreateRequestParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	req := &certreq.Request{Subject: certreq.Subject(p.Subject), KeyUsage: p.KeyUsage, ExtKeyUsage: p.ExtKeyUsage,
		Policies: p.Policies, IdentKind: certreq.IdentKind(p.IdentKind)}
	der, id, err := a.CreateRequest(ctx, origin, agent.NewKeyRequest{Token: p.Token, Algorithm: agent.KeyAlgorithmName(p.Algorithm, p.ParamSet),
		Request: req, Label: p.Label, Exportable: p.Exportable})
	if err != nil {
		return nil, err
	}
	return CreateRequestResult{Request: base64.StdEncoding.EncodeToString(der), KeyID: hex.EncodeToString(id)}, nil
}

// MaxCertificate bounds the certificate (or bundle) a page may send.
const MaxCertificate = 64 << 10

func installCertificate(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p InstallCertificateParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if p.Certificate == "" || len(p.Certificate) > MaxCertificate {
		return nil, agent.ErrBadRequest
	}
	// Base64 DER is decoded here; anything else (PEM, base64 with line
	// breaks) goes to the store as text, which reads those forms.
	data := []byte(p.Certificate)
	if der, err := base64.StdEncoding.DecodeString(p.Certificate); err == nil {
		data = der
	}
	c, err := a.InstallCertificate(ctx, origin, data)
	if err != nil {
		return nil, err
	}
	return CertificateOf(c), nil
}
