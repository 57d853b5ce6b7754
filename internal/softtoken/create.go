package softtoken

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"os"
)

// certAttrs are the attributes a certificate template may carry.
var certAttrs = map[uint64]bool{
	CKA_CLASS: true, CKA_TOKEN: true, CKA_PRIVATE: true, CKA_MODIFIABLE: true, CKA_LABEL: true,
	CKA_CERTIFICATE_TYPE: true, CKA_ID: true, CKA_SUBJECT: true, CKA_ISSUER: true, CKA_SERIAL_NUMBER: true,
	CKA_VALUE: true, CKA_TRUSTED: true, CKA_START_DATE: true, CKA_END_DATE: true, ckaCopyable: true,
	ckaDestroyable: true, 0x087: true, // CKA_CERTIFICATE_CATEGORY
}

// CreateObject stores an X.509 certificate (C_CreateObject; the token
// holds no other objects an application can create). CKA_VALUE must be a
// certificate; CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER, when given,
// must be the certificate's. A token certificate whose CKA_ID is a key's
// (or, without CKA_ID, whose public key is a key's) is written as NAME.pem
// beside that key, and must carry that key's public key: a certificate
// for another key beside it would not load again. Others are written
// alone (cert-….pem with its .attrs).
func (t *Token) CreateObject(h uint64, attrs []Attribute) (uint64, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return 0, rv
	}
	class, haveClass, goodClass := uint64(0), false, false
	for _, a := range attrs {
		if a.Type == CKA_CLASS {
			haveClass = true
			class, goodClass = parseULong(a.Value)
		}
	}
	switch {
	case !haveClass:
		return 0, CKR_TEMPLATE_INCOMPLETE
	case !goodClass:
		return 0, CKR_ATTRIBUTE_VALUE_INVALID
	case class == CKO_DATA:
		return t.createData(h, attrs)
	case class != CKO_CERTIFICATE:
		// Keys are made on the token (C_GenerateKeyPair), never imported.
		return 0, CKR_ATTRIBUTE_VALUE_INVALID
	}
	tm := template{}
	for _, a := range attrs {
		if !certAttrs[a.Type] {
			return 0, CKR_ATTRIBUTE_TYPE_INVALID
		}
		if boolAttrs[a.Type] || a.Type == CKA_TRUSTED {
			if len(a.Value) != 1 {
				return 0, CKR_ATTRIBUTE_VALUE_INVALID
			}
		}
		tm[a.Type] = a.Value
	}
	if rv := tm.checkULong(CKA_CERTIFICATE_TYPE, CKC_X_509); rv != CKR_OK {
		return 0, CKR_ATTRIBUTE_VALUE_INVALID
	}
	if tm.flag(CKA_PRIVATE, false) || tm.flag(CKA_TRUSTED, false) {
		// Private certificates are not kept, and only the SO may mark
		// one trusted, which this token has no use for.
		return 0, CKR_TEMPLATE_INCONSISTENT
	}
	der, ok := tm[CKA_VALUE]
	if !ok {
		return 0, CKR_TEMPLATE_INCOMPLETE
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return 0, CKR_ATTRIBUTE_VALUE_INVALID
	}
	serial, _ := asn1.Marshal(cert.SerialNumber)
	for a, want := range map[uint64][]byte{CKA_SUBJECT: cert.RawSubject, CKA_ISSUER: cert.RawIssuer, CKA_SERIAL_NUMBER: serial} {
		if v, ok := tm[a]; ok && !bytes.Equal(v, want) {
			return 0, CKR_TEMPLATE_INCONSISTENT
		}
	}
	onToken := tm.flag(CKA_TOKEN, false)
	if onToken && !s.rw {
		return 0, CKR_SESSION_READ_ONLY
	}
	// The key it goes with: by CKA_ID, else by public key. Ids need not be
	// unique: among keys sharing one, the certificate's own key.
	id, haveID := tm[CKA_ID]
	var key *object
	named := false
	for _, handle := range t.handles() {
		o := t.objects[handle]
		if o.class != CKO_PRIVATE_KEY || o.file == "" || haveID && !bytes.Equal(o.attrs[CKA_ID], id) {
			continue
		}
		named = named || haveID
		if publicMatches(o.key.Public(), cert) {
			key = o
			break
		}
	}
	if key == nil && named {
		return 0, CKR_ATTRIBUTE_VALUE_INVALID // CKA_ID names a key the certificate is not for
	}
	if key != nil && !haveID {
		id = key.attrs[CKA_ID]
	}
	if id == nil {
		id = spkiID(cert.PublicKey)
	}
	label := string(tm[CKA_LABEL])
	if _, ok := tm[CKA_LABEL]; !ok && key != nil {
		label = string(key.attrs[CKA_LABEL])
	}
	o := certObject(cert, id, label, "")
	if !onToken {
		o.session = h
		return t.add(o), CKR_OK
	}
	name := ""
	if key != nil && !t.hasCert(key.file) {
		name = key.file
	} else {
		name = t.newFileName("cert-")
	}
	o.file = name
	o.attrs[CKA_TOKEN] = bval(true)
	handle := t.add(o)
	if t.saveMeta(name) != nil || writeCert(t.path(name, ".pem"), cert.Raw) != nil {
		delete(t.objects, handle)
		os.Remove(t.path(name, ".pem"))
		t.saveMeta(name)
		return 0, CKR_DEVICE_ERROR
	}
	return handle, CKR_OK
}

func (t *Token) hasCert(name string) bool {
	for _, o := range t.objects {
		if o.file == name && o.class == CKO_CERTIFICATE {
			return true
		}
	}
	return false
}

// DestroyObject removes an object, from the folder too for a token
// object (C_DestroyObject). A private key takes its public key with it:
// the public half has no file of its own.
func (t *Token) DestroyObject(h, handle uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	o, rv := t.object(handle)
	if rv != CKR_OK {
		return rv
	}
	if o.file == "" {
		delete(t.objects, handle)
		return CKR_OK
	}
	if !s.rw {
		return CKR_SESSION_READ_ONLY
	}
	var remove []string
	switch o.class {
	case CKO_CERTIFICATE:
		remove = []string{".pem"}
		delete(t.objects, handle)
	case CKO_PRIVATE_KEY:
		remove = []string{".key"}
		for hh, other := range t.objects {
			if other.file == o.file && other.class != CKO_CERTIFICATE {
				delete(t.objects, hh)
			}
		}
	case CKO_PUBLIC_KEY:
		delete(t.objects, handle)
	}
	// NAME.attrs first: it then describes what is left, which is what
	// loads should the removal below be cut short.
	if t.saveMeta(o.file) != nil {
		return CKR_DEVICE_ERROR
	}
	for _, ext := range remove {
		if err := os.Remove(t.path(o.file, ext)); err != nil && !os.IsNotExist(err) {
			return CKR_DEVICE_ERROR
		}
	}
	return CKR_OK
}

// ObjectSize is C_GetObjectSize: the bytes of the object's attributes.
func (t *Token) ObjectSize(h, handle uint64) (uint64, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, rv := t.sessionFor(h); rv != CKR_OK {
		return 0, rv
	}
	o, rv := t.object(handle)
	if rv != CKR_OK {
		return 0, rv
	}
	var n uint64
	for _, v := range o.attrs {
		n += uint64(len(v))
	}
	return n, CKR_OK
}

// dataAttrs are the attributes of a data object.
var dataAttrs = map[uint64]bool{
	CKA_CLASS: true, CKA_TOKEN: true, CKA_PRIVATE: true, CKA_MODIFIABLE: true, CKA_LABEL: true,
	CKA_APPLICATION: true, CKA_OBJECT_ID: true, CKA_VALUE: true, ckaCopyable: true, ckaDestroyable: true,
}

// createData makes a data object (CKO_DATA): in the session only. The
// folder keeps keys and certificates, nothing an application stashes.
func (t *Token) createData(h uint64, attrs []Attribute) (uint64, RV) {
	o := &object{class: CKO_DATA, session: h, attrs: map[uint64][]byte{
		CKA_CLASS: ulong(CKO_DATA), CKA_TOKEN: bval(false), CKA_PRIVATE: bval(false), CKA_MODIFIABLE: bval(true),
		CKA_LABEL: {}, CKA_APPLICATION: {}, CKA_VALUE: {},
	}}
	for _, a := range attrs {
		if !dataAttrs[a.Type] {
			return 0, CKR_ATTRIBUTE_TYPE_INVALID
		}
		if boolAttrs[a.Type] && len(a.Value) != 1 {
			return 0, CKR_ATTRIBUTE_VALUE_INVALID
		}
		o.attrs[a.Type] = append([]byte(nil), a.Value...)
	}
	if o.attrs[CKA_TOKEN][0] != 0 {
		return 0, CKR_TEMPLATE_INCONSISTENT
	}
	o.private = o.attrs[CKA_PRIVATE][0] != 0
	if o.private && !t.userIn() {
		return 0, CKR_USER_NOT_LOGGED_IN
	}
	return t.add(o), CKR_OK
}

// settable says which attributes C_SetAttributeValue and C_CopyObject may
// change on an object of class.
func settable(class, typ uint64) bool {
	switch typ {
	case CKA_LABEL, CKA_ID:
		return class != CKO_DATA || typ == CKA_LABEL
	case CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE:
		return class == CKO_DATA
	case CKA_SENSITIVE, CKA_EXTRACTABLE:
		return class == CKO_PRIVATE_KEY
	}
	return false
}

// applyAttrs checks and applies a template to a copy of attrs. Sensitivity
// only latches: CKA_SENSITIVE may become true, CKA_EXTRACTABLE false,
// never back.
func applyAttrs(class uint64, attrs map[uint64][]byte, tmpl []Attribute) (map[uint64][]byte, RV) {
	out := make(map[uint64][]byte, len(attrs))
	for k, v := range attrs {
		out[k] = v
	}
	for _, a := range tmpl {
		if !settable(class, a.Type) {
			if _, known := attrs[a.Type]; known || boolAttrs[a.Type] || otherAttrs[a.Type] || certAttrs[a.Type] {
				return nil, CKR_ATTRIBUTE_READ_ONLY
			}
			return nil, CKR_ATTRIBUTE_TYPE_INVALID
		}
		switch a.Type {
		case CKA_SENSITIVE:
			if len(a.Value) != 1 {
				return nil, CKR_ATTRIBUTE_VALUE_INVALID
			}
			if a.Value[0] == 0 && attrs[a.Type][0] != 0 {
				return nil, CKR_ATTRIBUTE_READ_ONLY
			}
		case CKA_EXTRACTABLE:
			if len(a.Value) != 1 {
				return nil, CKR_ATTRIBUTE_VALUE_INVALID
			}
			if a.Value[0] != 0 && attrs[a.Type][0] == 0 {
				return nil, CKR_ATTRIBUTE_READ_ONLY
			}
		}
		out[a.Type] = append([]byte(nil), a.Value...)
	}
	return out, CKR_OK
}

// SetAttributeValue changes an object's label or id (a key pair's id on
// all its objects: they share a file), a data object's value, or latches
// a private key's sensitivity. Token objects need a read/write session.
func (t *Token) SetAttributeValue(h, handle uint64, tmpl []Attribute) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	o, rv := t.object(handle)
	if rv != CKR_OK {
		return rv
	}
	if o.file != "" && !s.rw {
		return CKR_SESSION_READ_ONLY
	}
	attrs, rv := applyAttrs(o.class, o.attrs, tmpl)
	if rv != CKR_OK {
		return rv
	}
	if o.file == "" {
		o.attrs = attrs
		return CKR_OK
	}
	old := o.attrs
	o.attrs = attrs
	var others []*object
	if string(attrs[CKA_ID]) != string(old[CKA_ID]) {
		for _, other := range t.objects {
			if other.file == o.file && other != o {
				others = append(others, other)
				other.attrs[CKA_ID] = attrs[CKA_ID]
			}
		}
	}
	if t.saveMeta(o.file) != nil {
		o.attrs = old
		for _, other := range others {
			other.attrs[CKA_ID] = old[CKA_ID]
		}
		return CKR_DEVICE_ERROR
	}
	return CKR_OK
}

// CopyObject copies a data object or a certificate into a new session
// object. Keys are not copied: a copy is a second key to guard.
func (t *Token) CopyObject(h, handle uint64, tmpl []Attribute) (uint64, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, rv := t.sessionFor(h); rv != CKR_OK {
		return 0, rv
	}
	o, rv := t.object(handle)
	if rv != CKR_OK {
		return 0, rv
	}
	if o.class != CKO_DATA && o.class != CKO_CERTIFICATE {
		return 0, CKR_ACTION_PROHIBITED
	}
	var rest []Attribute
	for _, a := range tmpl {
		if a.Type == CKA_TOKEN && len(a.Value) == 1 && a.Value[0] == 0 {
			continue // a session copy is what the token makes anyway
		}
		rest = append(rest, a)
	}
	attrs, rv := applyAttrs(o.class, o.attrs, rest)
	if rv != CKR_OK {
		return 0, rv
	}
	attrs[CKA_TOKEN] = bval(false)
	c := &object{class: o.class, private: o.private, attrs: attrs, session: h}
	return t.add(c), CKR_OK
}
