package agent

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/login"
)

// Documents signed over their digests: streamed ones (the transport
// hashed their chunks as they came and never held them), signHash (the
// server hashed them) and a batch. Every signature is detached, of
// id-data, with signed attributes: the messageDigest attribute binds it
// to the content, and id-data is what keeps it from ever being a login
// (a login is under login.OID, which only Authenticate signs).

// MaxBatch bounds the documents of one request: the window lists each,
// and the reply (a CMS each) must fit one message.
const MaxBatch = 100

// MaxName bounds a document's name (a file name) as a page sends it.
const MaxName = 255

// Document is one document to sign, known by its digest.
type Document struct {
	Name string // a file name from the page, shown cleaned
	// Size in bytes of what the agent hashed; -1 when the page sent only
	// the digest (signHash): the person is told nobody here saw it.
	Size int64
	// Digest is the content's digest with the certificate key's digest
	// (Streebog-256 or -512 for GOST keys: DigestSize says which length).
	Digest []byte
}

// DigestSignRequest asks for detached signatures over Documents.
type DigestSignRequest struct {
	Certificate string
	Description string
	Documents   []Document
	// HashOnly: the digests come from the page (signHash), not from
	// content the agent hashed.
	HashOnly bool
}

// DocumentResult is one document's outcome: a detached CMS or why not.
type DocumentResult struct {
	CMS []byte
	Err error
}

// DigestName is the name of the digest of a certificate key's whose
// digests are size bytes long, as the person is shown it.
func DigestName(size int) string {
	switch size {
	case 32:
		return "Стрибог-256"
	case 64:
		return "Стрибог-512"
	}
	return fmt.Sprintf("SHA-%d", size*8)
}

// DigestSize is the length of the digest the certificate's key signs
// (32 or 64 for GOST keys).
func DigestSize(c *keystore.Certificate) (int, error) {
	var pub crypto.PublicKey = c.Cert.PublicKey
	if g, err := gostx509.PublicKey(c.Cert); err == nil {
		pub = g
	}
	h, err := cms.NewHash(pub)
	if err != nil {
		return 0, err
	}
	return h.Size(), nil
}

// SignDigests signs each document detached with one certificate, after
// one question listing every document (name, size, digest) and one PIN:
// a key that signs batches (keystore.BatchSigner) signs them all in one
// token session. A failure part-way — the token pulled out — fails the
// documents not yet signed with that error and keeps those signed. The
// error returned is for the request as a whole (nothing signed: refused,
// cancelled, wrong PIN); the results then are nil.
func (a *Agent) SignDigests(ctx context.Context, origin string, req DigestSignRequest) ([]DocumentResult, error) {
	if len(req.Documents) == 0 || len(req.Documents) > MaxBatch {
		return nil, fmt.Errorf("%w: 1 to %d documents", ErrBadRequest, MaxBatch)
	}
	n, err := a.access(ctx, origin)
	if err != nil {
		return nil, err
	}
	l, err := a.find(ctx, req.Certificate)
	if err != nil {
		return nil, err
	}
	if err := refusal(l.cert); err != nil {
		return nil, err
	}
	size, err := DigestSize(l.cert)
	if err != nil {
		return nil, err
	}
	what := SignSummary{Description: CleanText(req.Description, MaxShownDescription), HashOnly: req.HashOnly, DigestName: DigestName(size)}
	for i, d := range req.Documents {
		if len(d.Digest) != size {
			// The page hashed with another digest than the key's: refused
			// before anyone is asked, not signed as something else.
			return nil, fmt.Errorf("%w: document %d: a %d-byte digest, the key signs %s", ErrBadRequest, i, len(d.Digest), DigestName(size))
		}
		s := DocumentSummary{Name: CleanText(d.Name, MaxName), Size: d.Size, Digest: hex.EncodeToString(d.Digest)}
		what.Documents = append(what.Documents, s)
		if d.Size > 0 {
			what.Size += int(d.Size)
		}
	}
	if len(what.Documents) == 1 {
		what.Streebog = what.Documents[0].Digest
		what.Size = int(max(req.Documents[0].Size, 0))
	}
	if err := a.confirmSign(ctx, n, l.cert, what); err != nil {
		return nil, err
	}
	doc := &keystore.Summary{Description: what.Description, Size: what.Size, Streebog: what.Streebog, DigestName: what.DigestName}
	if len(what.Documents) > 1 {
		doc.Count = len(what.Documents)
	}
	key, err := l.store.Signer(keystore.WithPINScope(ctx, n), l.cert.ID, a.pinFunc(n, doc))
	if err != nil {
		return nil, err
	}
	opts := cms.SignOptions{ContentType: cms.OIDData, SigningTime: a.cfg.Now()}
	prepared := make([]*cms.Prepared, len(req.Documents))
	for i, d := range req.Documents {
		if prepared[i], err = cms.Prepare(d.Digest, l.cert.Cert, key.Public(), &opts); err != nil {
			return nil, err
		}
	}
	var sigs [][]byte
	var failed error
	if bs, ok := key.(keystore.BatchSigner); ok && isGOST(key.Public()) {
		toSign := make([][]byte, len(prepared))
		for i, p := range prepared {
			toSign[i] = p.ToSign
		}
		sigs, failed = bs.SignDigests(toSign, prepared[0].SignerOpts())
	} else {
		for _, p := range prepared {
			sig, err := key.Sign(rand.Reader, p.ToSign, p.SignerOpts())
			if err != nil {
				failed = err
				break
			}
			sigs = append(sigs, sig)
		}
	}
	if errors.Is(failed, keystore.ErrPINIncorrect) && a.unattended() {
		a.pinRefused.Store(true)
	}
	if len(sigs) == 0 && failed != nil {
		return nil, failed
	}
	out := make([]DocumentResult, len(prepared))
	for i, p := range prepared {
		if i >= len(sigs) {
			out[i].Err = failed
			continue
		}
		out[i].CMS, out[i].Err = p.Finish(sigs[i])
		Progress(ctx, i+1, len(prepared))
	}
	return out, nil
}

func isGOST(pub crypto.PublicKey) bool {
	_, ok := pub.(*gost3410.PublicKey)
	return ok
}

// CoSignRequest asks for a parallel signature on an existing CMS.
type CoSignRequest struct {
	Certificate string
	Description string
	CMS         []byte // DER or BER SignedData, attached or detached
	// Document is, for a detached CMS, the content streamed again: its
	// digest with the certificate key's digest. Ignored when attached.
	Document *Document
}

// CoSign adds a signer with the certificate to req.CMS, after the person
// approved the document (its digest, as for sign). Only plain data
// (id-data) is co-signed: a co-signature keeps the message's content
// type, so co-signing a login (login.OID) would make a login of this
// certificate for another site's challenge; a login document inside
// id-data is refused as sign refuses it.
func (a *Agent) CoSign(ctx context.Context, origin string, req CoSignRequest) ([]byte, error) {
	sd, err := cms.Parse(req.CMS)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if !sd.ContentType.Equal(cms.OIDData) {
		return nil, fmt.Errorf("%w: only id-data is co-signed", ErrLoginDocument)
	}
	if sd.Content != nil && login.IsDocument(sd.Content) {
		return nil, ErrLoginDocument
	}
	if sd.Content == nil && req.Document == nil {
		return nil, fmt.Errorf("%w: a detached CMS needs its document", ErrBadRequest)
	}
	n, err := a.access(ctx, origin)
	if err != nil {
		return nil, err
	}
	l, err := a.find(ctx, req.Certificate)
	if err != nil {
		return nil, err
	}
	if err := refusal(l.cert); err != nil {
		return nil, err
	}
	size, err := DigestSize(l.cert)
	if err != nil {
		return nil, err
	}
	doc := Document{Size: int64(len(sd.Content))}
	var detached []byte
	if sd.Content != nil {
		var pub crypto.PublicKey = l.cert.Cert.PublicKey
		if g, err := gostx509.PublicKey(l.cert.Cert); err == nil {
			pub = g
		}
		h, err := cms.NewHash(pub)
		if err != nil {
			return nil, err
		}
		h.Write(sd.Content)
		doc.Digest = h.Sum(nil)
	} else {
		doc = *req.Document
		detached = doc.Digest
		if len(doc.Digest) != size {
			return nil, fmt.Errorf("%w: a %d-byte digest, the key signs %s", ErrBadRequest, len(doc.Digest), DigestName(size))
		}
		// The document streamed again must be the one the others signed
		// (those whose digest is the same algorithm's): the person must
		// not co-sign what the first signer never saw.
		for _, si := range sd.Signers {
			if si.HasSignedAttributes && len(si.MessageDigest) == size && string(si.MessageDigest) != string(doc.Digest) {
				return nil, fmt.Errorf("%w: the document is not the one signed", ErrBadRequest)
			}
		}
	}
	d := DocumentSummary{Name: CleanText(doc.Name, MaxName), Size: doc.Size, Digest: hex.EncodeToString(doc.Digest)}
	what := SignSummary{Description: CleanText(req.Description, MaxShownDescription), Size: int(max(doc.Size, 0)),
		Streebog: d.Digest, DigestName: DigestName(size), Documents: []DocumentSummary{d}}
	if err := a.confirmSign(ctx, n, l.cert, what); err != nil {
		return nil, err
	}
	key, err := l.store.Signer(keystore.WithPINScope(ctx, n), l.cert.ID,
		a.pinFunc(n, &keystore.Summary{Description: what.Description, Size: what.Size, Streebog: what.Streebog, DigestName: what.DigestName}))
	if err != nil {
		return nil, err
	}
	der, err := cms.CoSignDigest(req.CMS, detached, l.cert.Cert, key, &cms.SignOptions{SigningTime: a.cfg.Now()})
	if errors.Is(err, keystore.ErrPINIncorrect) && a.unattended() {
		a.pinRefused.Store(true)
	}
	return der, err
}
