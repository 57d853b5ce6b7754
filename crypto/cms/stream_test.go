package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
)

// streamSign signs content through a Writer, in pieces of odd sizes.
func streamSign(t testing.TB, content []byte, cert *x509.Certificate, key crypto.Signer, opts *SignOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, cert, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	for rest := content; len(rest) > 0; {
		n := min(len(rest), 7919)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// verifyAll checks every signer of sd, each with its own certificate.
func verifyAll(sd *SignedData, detached []byte) error {
	for _, si := range sd.Signers {
		c, err := si.FindCertificate(sd.Certificates)
		if err != nil {
			return err
		}
		if err := sd.VerifySigner(si, c, detached); err != nil {
			return err
		}
	}
	return nil
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

// TestWriterParseStream: what Writer makes, attached and detached, of
// every size around a segment's, verifies both held (Parse) and streamed
// (ParseStream); a flipped content byte or other content fails.
func TestWriterParseStream(t *testing.T) {
	for _, kc := range testKeys(t) {
		t.Run(kc.name, func(t *testing.T) {
			cert := selfSigned(t, kc.key)
			for _, size := range []int{0, 1, StreamChunk - 1, StreamChunk, 2*StreamChunk + 5} {
				content := pattern(size)
				for _, detached := range []bool{false, true} {
					msg := streamSign(t, content, cert, kc.key, &SignOptions{Detached: detached})
					held, err := Parse(msg)
					if err != nil {
						t.Fatalf("size %d detached %v: Parse: %v", size, detached, err)
					}
					if held.Attached == detached || (!detached && !bytes.Equal(held.Content, content)) {
						t.Fatalf("size %d detached %v: content not carried as asked", size, detached)
					}
					var given []byte
					if detached {
						given = content
					}
					if err := verifyAll(held, given); err != nil {
						t.Fatalf("size %d detached %v: held: %v", size, detached, err)
					}
					var copied bytes.Buffer
					sd, err := ParseStream(bytes.NewReader(msg), &copied)
					if err != nil {
						t.Fatalf("size %d detached %v: ParseStream: %v", size, detached, err)
					}
					if sd.Content != nil || sd.Attached == detached || !bytes.Equal(copied.Bytes(), content[:len(copied.Bytes())]) || (!detached && copied.Len() != size) {
						t.Fatalf("size %d detached %v: streamed content wrong", size, detached)
					}
					if detached {
						if err := verifyAll(sd, nil); !errors.Is(err, ErrNoContent) {
							t.Fatalf("detached without content: %v", err)
						}
						if err := sd.HashContent(bytes.NewReader(content)); err != nil {
							t.Fatal(err)
						}
					}
					if err := verifyAll(sd, nil); err != nil {
						t.Fatalf("size %d detached %v: streamed: %v", size, detached, err)
					}
					if size < 64 {
						continue // too short to find its bytes in the message unambiguously
					}
					bad := bytes.Clone(content)
					bad[17] ^= 1
					if detached {
						sd, _ := ParseStream(bytes.NewReader(msg), nil)
						sd.HashContent(bytes.NewReader(bad))
						if err := verifyAll(sd, nil); !errors.Is(err, ErrDigestMismatch) {
							t.Fatalf("other content: %v", err)
						}
						continue
					}
					spoilt := bytes.Replace(msg, content[10:26], bad[10:26], 1)
					if bytes.Equal(spoilt, msg) {
						t.Fatal("test did not spoil the content")
					}
					sd, err = ParseStream(bytes.NewReader(spoilt), nil)
					if err != nil {
						t.Fatal(err)
					}
					if err := verifyAll(sd, nil); !errors.Is(err, ErrDigestMismatch) {
						t.Fatalf("spoilt content: %v", err)
					}
					// Content given with an attached message must be the one carried.
					sd, _ = ParseStream(bytes.NewReader(msg), nil)
					if err := sd.HashContent(bytes.NewReader(bad)); !errors.Is(err, ErrDigestMismatch) {
						t.Fatalf("other content beside attached: %v", err)
					}
				}
			}
		})
	}
}

// TestParseStreamForms: DER (definite lengths, one primitive OCTET STRING)
// and BER with every length indefinite read alike streamed and held.
func TestParseStreamForms(t *testing.T) {
	key := mustKey(t)
	cert := selfSigned(t, key)
	content := pattern(1000)
	der, err := Sign(content, cert, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, msg := range map[string][]byte{"der": der, "indefinite": indefinite(der), "writer": streamSign(t, content, cert, key, nil)} {
		var got bytes.Buffer
		sd, err := ParseStream(bytes.NewReader(msg), &got)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.Bytes(), content) || len(sd.Signers) != 1 || len(sd.Certificates) != 1 {
			t.Fatalf("%s: parsed wrong", name)
		}
		if err := verifyAll(sd, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// TestParseStreamRejects: every truncation of a streamed message, trailing
// bytes, and a digest the signer uses but the message never announced
// (so it was not computed while streaming) are errors, never a pass.
func TestParseStreamRejects(t *testing.T) {
	key := mustKey(t)
	cert := selfSigned(t, key)
	msg := streamSign(t, pattern(300), cert, key, nil)
	for i := 0; i < len(msg); i++ {
		if _, err := ParseStream(bytes.NewReader(msg[:i]), nil); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d of %d: %v", i, len(msg), err)
		}
	}
	if _, err := ParseStream(bytes.NewReader(append(bytes.Clone(msg), 0)), nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
	// The digestAlgorithms SET is the first 0x31 of the message; empty it
	// (its one AlgorithmIdentifier turned into padding the parser skips
	// is not possible in DER, so rewrite the length and drop the body).
	i := bytes.IndexByte(msg, 0x31)
	n := int(msg[i+1])
	unannounced := append(append(bytes.Clone(msg[:i]), 0x31, 0), msg[i+2+n:]...)
	sd, err := ParseStream(bytes.NewReader(unannounced), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyAll(sd, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("digest not announced: %v", err)
	}
}

// TestParseStreamMemory: a message with 80 MiB of content (over the 64 MiB
// Parse holds) streams through Writer and ParseStream allocating a small
// fraction of it.
func TestParseStreamMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 160 MiB")
	}
	key := mustKey(t)
	cert := selfSigned(t, key)
	const size = 80 << 20
	pr, pw := io.Pipe()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	go func() {
		w, err := NewWriter(pw, cert, key, nil)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		block := pattern(1 << 20)
		for range size >> 20 {
			if _, err := w.Write(block); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(w.Close())
	}()
	sd, err := ParseStream(pr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyAll(sd, nil); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("signing and verifying %d MiB allocated %d MiB", size>>20, alloc>>20)
	}
}

// TestCoSign: a second signer (another algorithm, another key) added to
// an attached and to a detached message; both signers verify, held and
// streamed; the co-signed detached message needs its content; a type the
// co-signer did not mean is refused.
func TestCoSign(t *testing.T) {
	keys := testKeys(t)
	first, second := keys[0], keys[len(keys)-3] // GOST 256, RSA
	c1, c2 := selfSigned(t, first.key), selfSigned(t, second.key)
	content := pattern(3*StreamChunk + 11)
	for _, detached := range []bool{false, true} {
		msg := streamSign(t, content, c1, first.key, &SignOptions{Detached: detached})
		var given io.Reader
		if detached {
			given = bytes.NewReader(content)
		}
		var out bytes.Buffer
		if err := CoSign(&out, bytes.NewReader(msg), given, c2, second.key, nil); err != nil {
			t.Fatalf("detached %v: %v", detached, err)
		}
		held, err := Parse(out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		var d []byte
		if detached {
			d = content
		}
		if len(held.Signers) != 2 || len(held.Certificates) != 2 || held.Attached == detached {
			t.Fatalf("detached %v: %d signers, %d certificates", detached, len(held.Signers), len(held.Certificates))
		}
		if err := verifyAll(held, d); err != nil {
			t.Fatalf("detached %v: %v", detached, err)
		}
		sd, err := ParseStream(bytes.NewReader(out.Bytes()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if detached {
			sd.HashContent(bytes.NewReader(content))
		}
		if err := verifyAll(sd, nil); err != nil {
			t.Fatalf("detached %v streamed: %v", detached, err)
		}
		// Co-signing again with the first key: three signers.
		var third bytes.Buffer
		if detached {
			given = bytes.NewReader(content)
		}
		if err := CoSign(&third, bytes.NewReader(out.Bytes()), given, c1, first.key, nil); err != nil {
			t.Fatal(err)
		}
		if sd, err := Parse(third.Bytes()); err != nil || len(sd.Signers) != 3 || verifyAll(sd, d) != nil {
			t.Fatalf("third signer: %v", err)
		}
	}
	detachedMsg := streamSign(t, content, c1, first.key, &SignOptions{Detached: true})
	if err := CoSign(io.Discard, bytes.NewReader(detachedMsg), nil, c2, second.key, nil); !errors.Is(err, ErrNoContent) {
		t.Fatalf("detached without content: %v", err)
	}
	other := streamSign(t, content, c1, first.key, &SignOptions{ContentType: bigArcType})
	if err := CoSign(io.Discard, bytes.NewReader(other), nil, c2, second.key, nil); !errors.Is(err, ErrContentType) {
		t.Fatalf("another content type: %v", err)
	}
}

// FuzzParseStream: the streaming parser never panics, and on any input
// agrees with the in-memory one: what Parse accepts, ParseStream accepts
// with the same content (streamed), signers and certificates, and each
// signer verifies (or not) alike.
func FuzzParseStream(f *testing.F) {
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	cert := selfSigned(f, key)
	for _, o := range []SignOptions{{}, {Detached: true}} {
		der, _ := Sign([]byte("seed"), cert, key, &o)
		f.Add(der)
		f.Add(indefinite(der))
		f.Add(streamSign(f, []byte("seed"), cert, key, &o))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got bytes.Buffer
		sd, err := ParseStream(bytes.NewReader(data), &got)
		held, herr := Parse(data)
		if herr != nil {
			return // the streaming parser may be laxer on what it skips, never stricter
		}
		if err != nil {
			t.Fatalf("Parse accepts, ParseStream refuses: %v", err)
		}
		if sd.Attached != held.Attached || (held.Attached && !bytes.Equal(got.Bytes(), held.Content)) ||
			len(sd.Signers) != len(held.Signers) || len(sd.Certificates) != len(held.Certificates) {
			t.Fatal("ParseStream and Parse disagree")
		}
		if !sd.Attached {
			sd.HashContent(bytes.NewReader([]byte("seed")))
		}
		for i, si := range held.Signers {
			c, err := si.FindCertificate(held.Certificates)
			if err != nil {
				continue
			}
			var d []byte
			if !held.Attached {
				d = []byte("seed")
			}
			e1, e2 := held.VerifySigner(si, c, d), sd.VerifySigner(sd.Signers[i], c, nil)
			if (e1 == nil) != (e2 == nil) {
				t.Fatalf("signer %d: held %v, streamed %v", i, e1, e2)
			}
		}
	})
}

// BenchmarkWriter: attached streaming signature of 16 MiB per op, against
// the bare Streebog-256 of the same bytes (BenchmarkStreebogBar).
func BenchmarkWriter(b *testing.B) {
	key := mustKey(b)
	cert := selfSigned(b, key)
	block := pattern(1 << 20)
	b.SetBytes(16 << 20)
	b.ReportAllocs()
	for b.Loop() {
		w, _ := NewWriter(io.Discard, cert, key, nil)
		for range 16 {
			w.Write(block)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseStream: reading and hashing a 16 MiB attached message.
func BenchmarkParseStream(b *testing.B) {
	key := mustKey(b)
	cert := selfSigned(b, key)
	msg := streamSign(b, pattern(16<<20), cert, key, nil)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		sd, err := ParseStream(bytes.NewReader(msg), nil)
		if err != nil || verifyAll(sd, nil) != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreebogBar is the bar of the two above: Streebog-256 alone.
func BenchmarkStreebogBar(b *testing.B) {
	block := pattern(1 << 20)
	b.SetBytes(16 << 20)
	b.ReportAllocs()
	for b.Loop() {
		h := gostDigest(32).new()
		for range 16 {
			h.Write(block)
		}
		h.Sum(nil)
	}
}

// TestParseStreamOverheadBound: the parts ParseStream holds (certificates,
// CRLs, SignerInfos) are bounded: a message announcing a 1 GiB
// certificate set, or sending 17 MiB of them, is refused without holding
// it.
func TestParseStreamOverheadBound(t *testing.T) {
	dataOID, _ := OIDData.MarshalBinary()
	head := []byte{0x30, 0x80}
	head = appendTLV(head, []byte{0x06}, oidSignedDataBody())
	head = append(head, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x80)
	head = appendTLV(head, []byte{0x06}, dataOID)
	head = append(head, 0x00, 0x00)
	announced := append(bytes.Clone(head), 0xa0, 0x84, 0x40, 0x00, 0x00, 0x00)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := ParseStream(io.MultiReader(bytes.NewReader(announced), zeros{}), nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("1 GiB announced: %v", err)
	}
	// Sent, in pieces of 1 MiB inside an indefinite length, with no end.
	piece := appendTLV(nil, []byte{0x04}, make([]byte, 1<<20))
	sent := append(bytes.Clone(head), 0xa0, 0x80)
	if _, err := ParseStream(io.MultiReader(bytes.NewReader(sent), &repeat{b: piece, n: 1024}), nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("1 GiB sent: %v", err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*MaxStreamOverhead {
		t.Fatalf("refusing allocated %d MiB", alloc>>20)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type repeat struct {
	b []byte
	n int
	i int
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.b[r.i:])
	if r.i += k; r.i == len(r.b) {
		r.i, r.n = 0, r.n-1
	}
	return k, nil
}

// TestUnlistedDigest: an attached message whose signer names a digest
// that digestAlgorithms does not list (RFC 5652, 5.1) is refused by
// VerifySigner held and streamed alike: a stream is hashed with the listed
// digests only, and a message must not verify one way and not the other.
func TestUnlistedDigest(t *testing.T) {
	key := mustKey(t)
	cert := selfSigned(t, key)
	der, err := Sign([]byte("договор"), cert, key, &SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The first Streebog-256 OID is digestAlgorithms'; make it -512.
	oid256 := []byte{0x06, 0x08, 0x2a, 0x85, 0x03, 0x07, 0x01, 0x01, 0x02, 0x02}
	i := bytes.Index(der, oid256)
	if i < 0 {
		t.Fatal("no Streebog-256 OID")
	}
	bad := bytes.Clone(der)
	bad[i+len(oid256)-1] = 0x03
	for name, der := range map[string][]byte{"listed": der, "unlisted": bad} {
		held, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		sd, err := ParseStream(bytes.NewReader(der), nil)
		if err != nil {
			t.Fatal(err)
		}
		e1, e2 := held.VerifySigner(held.Signers[0], cert, nil), sd.VerifySigner(sd.Signers[0], cert, nil)
		if name == "listed" && (e1 != nil || e2 != nil) {
			t.Fatalf("listed: held %v, streamed %v", e1, e2)
		}
		if name == "unlisted" && (!errors.Is(e1, ErrMalformed) || !errors.Is(e2, ErrMalformed)) {
			t.Fatalf("unlisted: held %v, streamed %v", e1, e2)
		}
	}
}
