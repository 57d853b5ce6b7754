package cms

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
)

// TestAddUnsigned: unsigned attributes added to a signer (of a streamed,
// BER attached message, and of a co-signed one) keep every signature
// verifying, stay in the order added, are read back, and leave the other
// signers as they were.
func TestAddUnsigned(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	cert := selfSigned(t, key)
	content := bytes.Repeat([]byte("документ "), 20000) // several BER segments
	var streamed bytes.Buffer
	w, err := NewWriter(&streamed, cert, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	other, _ := gost3410.GenerateKey(gost3410.CurveTC26512A, nil)
	var cosigned bytes.Buffer
	if err := CoSign(&cosigned, bytes.NewReader(streamed.Bytes()), nil, selfSigned(t, other), other, nil); err != nil {
		t.Fatal(err)
	}
	oidA, oidB := asn1.ObjectIdentifier{1, 2, 3, 4}, asn1.ObjectIdentifier{1, 2, 3, 5}
	a := MarshalAttribute(oidA, []byte{0x04, 0x01, 0xaa})
	b := MarshalAttribute(oidB, []byte{0x04, 0x01, 0xbb}, []byte{0x02, 0x01, 0x07})
	for name, msg := range map[string][]byte{"streamed": streamed.Bytes(), "cosigned": cosigned.Bytes()} {
		out, err := AddUnsigned(msg, 0, b, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out, err = AddUnsigned(out, 0, a); err != nil {
			t.Fatal(err)
		}
		sd, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := Parse(msg)
		for i, si := range sd.Signers {
			c, _ := si.FindCertificate(sd.Certificates)
			if err := sd.VerifySigner(si, c, nil); err != nil {
				t.Fatalf("%s: signer %d after adding attributes: %v", name, i, err)
			}
			if i > 0 && len(si.UnsignedAttrs) != len(before.Signers[i].UnsignedAttrs) {
				t.Fatalf("%s: signer %d changed", name, i)
			}
		}
		got := sd.Signers[0].UnsignedAttrs
		if len(got) != 3 || !got[0].Type.Equal(oidB) || !got[1].Type.Equal(oidA) || !got[2].Type.Equal(oidA) ||
			!bytes.Equal(got[0].Raw, b) || len(sd.Signers[0].Unsigned(oidA)) != 2 || len(sd.Signers[0].Unsigned(oidB)) != 2 {
			t.Fatalf("%s: unsigned attributes %+v", name, got)
		}
		// The streaming reader sees the same.
		ps, err := ParseStream(bytes.NewReader(out), nil)
		if err != nil || len(ps.Signers[0].UnsignedAttrs) != 3 {
			t.Fatalf("%s: ParseStream: %v", name, err)
		}
		if _, err := AddUnsigned(msg, len(sd.Signers), a); err == nil {
			t.Fatalf("%s: a signer beyond the last accepted", name)
		}
	}
	if _, err := AddUnsigned([]byte("junk"), 0, a); !errors.Is(err, ErrMalformed) {
		t.Fatalf("junk: %v", err)
	}
}
