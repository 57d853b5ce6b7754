//go:build unix || windows

// Command podpis-softtoken is podpis's GOST PKCS#11 module, built with
//
//	go build -buildmode=c-shared -o libpodpis-softtoken.so ./cmd/podpis-softtoken
//
// It serves the keys of PODPIS_SOFTTOKEN_DIR under the user PIN
// PODPIS_SOFTTOKEN_PIN (default 1234) and the security officer's PIN
// PODPIS_SOFTTOKEN_SO_PIN (default 87654321); see internal/softtoken.
// These exports only convert C arguments to the Go token model and check
// what only C can get wrong (NULL pointers).
package main

/*
#include <stdlib.h>
#include <string.h>
#include "cryptoki.h"
extern CK_FUNCTION_LIST podpis_function_list;
*/
import "C"

import (
	"crypto/rand"
	"sort"
	"sync"
	"unsafe"

	"github.com/podpis/podpis/internal/softtoken"
)

var (
	tokenMu sync.Mutex
	// token is replaced at every C_Initialize, so that the folder and PIN
	// are read when an application starts using the module.
	token = softtoken.New("", "")
)

// getenv reads the C library's environment as it is now.
func getenv(name string) string {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if v := C.getenv(cname); v != nil {
		return C.GoString(v)
	}
	return ""
}

func main() {}

type rv = C.CK_RV

func ok(r softtoken.RV) rv { return rv(r) }

// pad copies s into a blank-padded fixed field, as PKCS#11 strings are.
func pad(dst unsafe.Pointer, size int, s string) {
	b := unsafe.Slice((*byte)(dst), size)
	for i := range b {
		b[i] = ' '
	}
	copy(b, s)
}

//export podpis_initialized
func podpis_initialized() C.int {
	if token.Initialized() {
		return 1
	}
	return 0
}

//export podpis_check_session
func podpis_check_session(h C.CK_SESSION_HANDLE) rv { return ok(token.CheckSession(uint64(h))) }

//export C_GetFunctionList
func C_GetFunctionList(pp **C.CK_FUNCTION_LIST) rv {
	if pp == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	*pp = &C.podpis_function_list
	return softtoken.CKR_OK
}

//export C_Initialize
func C_Initialize(args unsafe.Pointer) rv {
	if args != nil && C.podpis_init_args_bad((*C.CK_C_INITIALIZE_ARGS)(args)) != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	tokenMu.Lock()
	defer tokenMu.Unlock()
	if _, r := token.SlotInfo(softtoken.SlotID); r == softtoken.CKR_OK {
		return softtoken.CKR_CRYPTOKI_ALREADY_INITIALIZED
	}
	token = softtoken.FromEnv(getenv)
	return ok(token.Initialize())
}

//export C_Finalize
func C_Finalize(reserved unsafe.Pointer) rv {
	if reserved != nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.Finalize())
}

//export C_GetInfo
func C_GetInfo(info *C.CK_INFO) rv {
	if !token.Initialized() {
		return softtoken.CKR_CRYPTOKI_NOT_INITIALIZED
	}
	if info == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	info.cryptokiVersion = C.CK_VERSION{major: 2, minor: 40}
	pad(unsafe.Pointer(&info.manufacturerID), 32, "podpis")
	C.podpis_set_info_flags(info, 0)
	pad(unsafe.Pointer(&info.libraryDescription), 32, "podpis GOST soft token")
	info.libraryVersion = C.CK_VERSION{major: 1, minor: 0}
	return softtoken.CKR_OK
}

//export C_GetSlotList
func C_GetSlotList(tokenPresent C.CK_BBOOL, list *C.CK_SLOT_ID, count *C.CK_ULONG) rv {
	if count == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	if _, r := token.SlotInfo(softtoken.SlotID); r != softtoken.CKR_OK {
		return ok(r)
	}
	n := 1
	if tokenPresent != 0 && !token.Present() {
		n = 0
	}
	if list == nil {
		*count = C.CK_ULONG(n)
		return softtoken.CKR_OK
	}
	if int(*count) < n {
		*count = C.CK_ULONG(n)
		return softtoken.CKR_BUFFER_TOO_SMALL
	}
	if n == 1 {
		*list = softtoken.SlotID
	}
	*count = C.CK_ULONG(n)
	return softtoken.CKR_OK
}

//export C_GetSlotInfo
func C_GetSlotInfo(slot C.CK_SLOT_ID, info *C.CK_SLOT_INFO) rv {
	if info == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	si, r := token.SlotInfo(uint64(slot))
	if r != softtoken.CKR_OK {
		return ok(r)
	}
	pad(unsafe.Pointer(&info.slotDescription), 64, si.Description)
	pad(unsafe.Pointer(&info.manufacturerID), 32, si.Manufacturer)
	info.flags = C.CK_FLAGS(si.Flags)
	info.hardwareVersion = C.CK_VERSION{major: 1}
	info.firmwareVersion = C.CK_VERSION{major: 1}
	return softtoken.CKR_OK
}

//export C_GetTokenInfo
func C_GetTokenInfo(slot C.CK_SLOT_ID, info *C.CK_TOKEN_INFO) rv {
	if info == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	ti, r := token.TokenInfo(uint64(slot))
	if r != softtoken.CKR_OK {
		return ok(r)
	}
	pad(unsafe.Pointer(&info.label), 32, ti.Label)
	pad(unsafe.Pointer(&info.manufacturerID), 32, ti.Manufacturer)
	pad(unsafe.Pointer(&info.model), 16, ti.Model)
	pad(unsafe.Pointer(&info.serialNumber), 16, ti.Serial)
	info.flags = C.CK_FLAGS(ti.Flags)
	info.ulMaxSessionCount = 0 // CK_EFFECTIVELY_INFINITE
	info.ulSessionCount = C.CK_ULONG(ti.Sessions)
	info.ulMaxRwSessionCount = 0
	info.ulRwSessionCount = 0
	info.ulMaxPinLen = C.CK_ULONG(ti.MaxPIN)
	info.ulMinPinLen = C.CK_ULONG(ti.MinPIN)
	unavailable := ^C.CK_ULONG(0)
	info.ulTotalPublicMemory, info.ulFreePublicMemory = unavailable, unavailable
	info.ulTotalPrivateMemory, info.ulFreePrivateMemory = unavailable, unavailable
	info.hardwareVersion = C.CK_VERSION{major: 1}
	info.firmwareVersion = C.CK_VERSION{major: 1}
	pad(unsafe.Pointer(&info.utcTime), 16, ti.UTCTime)
	return softtoken.CKR_OK
}

//export C_GetMechanismList
func C_GetMechanismList(slot C.CK_SLOT_ID, list *C.CK_MECHANISM_TYPE, count *C.CK_ULONG) rv {
	if count == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	if _, r := token.SlotInfo(uint64(slot)); r != softtoken.CKR_OK {
		return ok(r)
	}
	var mechs []uint64
	for m := range token.Mechanisms() {
		mechs = append(mechs, m)
	}
	sort.Slice(mechs, func(i, j int) bool { return mechs[i] < mechs[j] })
	if list == nil {
		*count = C.CK_ULONG(len(mechs))
		return softtoken.CKR_OK
	}
	if int(*count) < len(mechs) {
		*count = C.CK_ULONG(len(mechs))
		return softtoken.CKR_BUFFER_TOO_SMALL
	}
	out := unsafe.Slice(list, len(mechs))
	for i, m := range mechs {
		out[i] = C.CK_MECHANISM_TYPE(m)
	}
	*count = C.CK_ULONG(len(mechs))
	return softtoken.CKR_OK
}

//export C_GetMechanismInfo
func C_GetMechanismInfo(slot C.CK_SLOT_ID, mech C.CK_MECHANISM_TYPE, info *C.CK_MECHANISM_INFO) rv {
	if info == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	if _, r := token.SlotInfo(uint64(slot)); r != softtoken.CKR_OK {
		return ok(r)
	}
	m, found := token.Mechanisms()[uint64(mech)]
	if !found {
		return softtoken.CKR_MECHANISM_INVALID
	}
	info.ulMinKeySize, info.ulMaxKeySize, info.flags = C.CK_ULONG(m[0]), C.CK_ULONG(m[1]), C.CK_FLAGS(m[2])
	return softtoken.CKR_OK
}

//export C_OpenSession
func C_OpenSession(slot C.CK_SLOT_ID, flags C.CK_FLAGS, app unsafe.Pointer, notify unsafe.Pointer, h *C.CK_SESSION_HANDLE) rv {
	if h == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	s, r := token.OpenSession(uint64(slot), uint64(flags))
	if r == softtoken.CKR_OK {
		*h = C.CK_SESSION_HANDLE(s)
	}
	return ok(r)
}

//export C_CloseSession
func C_CloseSession(h C.CK_SESSION_HANDLE) rv { return ok(token.CloseSession(uint64(h))) }

//export C_CloseAllSessions
func C_CloseAllSessions(slot C.CK_SLOT_ID) rv { return ok(token.CloseAllSessions(uint64(slot))) }

//export C_GetSessionInfo
func C_GetSessionInfo(h C.CK_SESSION_HANDLE, info *C.CK_SESSION_INFO) rv {
	if info == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	state, flags, r := token.SessionInfo(uint64(h))
	if r != softtoken.CKR_OK {
		return ok(r)
	}
	info.slotID, info.state, info.flags, info.ulDeviceError = softtoken.SlotID, C.CK_STATE(state), C.CK_FLAGS(flags), 0
	return softtoken.CKR_OK
}

//export C_Login
func C_Login(h C.CK_SESSION_HANDLE, user C.CK_USER_TYPE, pin *C.CK_UTF8CHAR, pinLen C.CK_ULONG) rv {
	if pin == nil && pinLen != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	p := C.GoBytes(unsafe.Pointer(pin), C.int(pinLen))
	r := token.Login(uint64(h), uint64(user), p)
	clear(p)
	return ok(r)
}

//export C_Logout
func C_Logout(h C.CK_SESSION_HANDLE) rv { return ok(token.Logout(uint64(h))) }

func template(p *C.CK_ATTRIBUTE, n C.CK_ULONG) []C.CK_ATTRIBUTE {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice(p, int(n))
}

//export C_GetAttributeValue
func C_GetAttributeValue(h C.CK_SESSION_HANDLE, obj C.CK_OBJECT_HANDLE, attrs *C.CK_ATTRIBUTE, n C.CK_ULONG) rv {
	if attrs == nil && n != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	result := rv(softtoken.CKR_OK)
	for i := range template(attrs, n) {
		a := &template(attrs, n)[i]
		v, r := token.AttributeValue(uint64(h), uint64(obj), uint64(a._type))
		switch {
		case r == softtoken.CKR_SESSION_HANDLE_INVALID, r == softtoken.CKR_OBJECT_HANDLE_INVALID,
			r == softtoken.CKR_DEVICE_REMOVED, r == softtoken.CKR_CRYPTOKI_NOT_INITIALIZED:
			return ok(r)
		case r != softtoken.CKR_OK:
			a.ulValueLen = ^C.CK_ULONG(0)
			result = ok(r)
		case C.podpis_attr_value(a) == nil:
			a.ulValueLen = C.CK_ULONG(len(v))
		case int(a.ulValueLen) < len(v):
			a.ulValueLen = ^C.CK_ULONG(0)
			result = softtoken.CKR_BUFFER_TOO_SMALL
		default:
			if len(v) > 0 {
				C.memcpy(C.podpis_attr_value(a), unsafe.Pointer(&v[0]), C.size_t(len(v)))
			}
			a.ulValueLen = C.CK_ULONG(len(v))
		}
	}
	return result
}

//export C_FindObjectsInit
func C_FindObjectsInit(h C.CK_SESSION_HANDLE, attrs *C.CK_ATTRIBUTE, n C.CK_ULONG) rv {
	if attrs == nil && n != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	var tmpl []softtoken.Attribute
	for i := range template(attrs, n) {
		a := &template(attrs, n)[i]
		tmpl = append(tmpl, softtoken.Attribute{Type: uint64(a._type), Value: C.GoBytes(C.podpis_attr_value(a), C.int(a.ulValueLen))})
	}
	return ok(token.FindObjectsInit(uint64(h), tmpl))
}

//export C_FindObjects
func C_FindObjects(h C.CK_SESSION_HANDLE, out *C.CK_OBJECT_HANDLE, max C.CK_ULONG, count *C.CK_ULONG) rv {
	if count == nil || (out == nil && max != 0) {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	found, r := token.FindObjects(uint64(h), int(max))
	if r != softtoken.CKR_OK {
		return ok(r)
	}
	if len(found) > 0 {
		dst := unsafe.Slice(out, len(found))
		for i, f := range found {
			dst[i] = C.CK_OBJECT_HANDLE(f)
		}
	}
	*count = C.CK_ULONG(len(found))
	return softtoken.CKR_OK
}

//export C_FindObjectsFinal
func C_FindObjectsFinal(h C.CK_SESSION_HANDLE) rv { return ok(token.FindObjectsFinal(uint64(h))) }

//export C_SignInit
func C_SignInit(h C.CK_SESSION_HANDLE, mech *C.CK_MECHANISM, key C.CK_OBJECT_HANDLE) rv {
	if mech == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.SignInit(uint64(h), uint64(mech.mechanism), uint64(key)))
}

// output implements the PKCS#11 convention for returned buffers: a nil
// buffer asks for the length, a short one gets CKR_BUFFER_TOO_SMALL, and
// in both cases the operation goes on.
func output(h C.CK_SESSION_HANDLE, sig *C.CK_BYTE, sigLen *C.CK_ULONG) (done bool, r rv) {
	n, code := token.SignatureLen(uint64(h))
	if code != softtoken.CKR_OK {
		return true, ok(code)
	}
	if sig == nil {
		*sigLen = C.CK_ULONG(n)
		return true, softtoken.CKR_OK
	}
	if int(*sigLen) < n {
		*sigLen = C.CK_ULONG(n)
		return true, softtoken.CKR_BUFFER_TOO_SMALL
	}
	return false, softtoken.CKR_OK
}

func deliver(s []byte, sig *C.CK_BYTE, sigLen *C.CK_ULONG) {
	C.memcpy(unsafe.Pointer(sig), unsafe.Pointer(&s[0]), C.size_t(len(s)))
	*sigLen = C.CK_ULONG(len(s))
}

//export C_Sign
func C_Sign(h C.CK_SESSION_HANDLE, data *C.CK_BYTE, dataLen C.CK_ULONG, sig *C.CK_BYTE, sigLen *C.CK_ULONG) rv {
	if sigLen == nil || (data == nil && dataLen != 0) {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	if done, r := output(h, sig, sigLen); done {
		return r
	}
	s, r := token.Sign(uint64(h), C.GoBytes(unsafe.Pointer(data), C.int(dataLen)))
	if r != softtoken.CKR_OK {
		return ok(r)
	}
	deliver(s, sig, sigLen)
	return softtoken.CKR_OK
}

//export C_SignUpdate
func C_SignUpdate(h C.CK_SESSION_HANDLE, part *C.CK_BYTE, partLen C.CK_ULONG) rv {
	if part == nil && partLen != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.SignUpdate(uint64(h), C.GoBytes(unsafe.Pointer(part), C.int(partLen))))
}

//export C_SignFinal
func C_SignFinal(h C.CK_SESSION_HANDLE, sig *C.CK_BYTE, sigLen *C.CK_ULONG) rv {
	if sigLen == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	if done, r := output(h, sig, sigLen); done {
		return r
	}
	s, r := token.SignFinal(uint64(h))
	if r != softtoken.CKR_OK {
		return ok(r)
	}
	deliver(s, sig, sigLen)
	return softtoken.CKR_OK
}

//export C_SeedRandom
func C_SeedRandom(h C.CK_SESSION_HANDLE, seed *C.CK_BYTE, n C.CK_ULONG) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	if seed == nil && n != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return softtoken.CKR_OK // the operating system's generator needs no seed
}

//export C_GenerateRandom
func C_GenerateRandom(h C.CK_SESSION_HANDLE, out *C.CK_BYTE, n C.CK_ULONG) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	if out == nil && n != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	if n > 0 {
		rand.Read(unsafe.Slice((*byte)(unsafe.Pointer(out)), int(n)))
	}
	return softtoken.CKR_OK
}

// The module runs no function in parallel with its caller (PKCS#11 v2.40
// §5.16: legacy functions that must say so).

//export C_GetFunctionStatus
func C_GetFunctionStatus(h C.CK_SESSION_HANDLE) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	return softtoken.CKR_FUNCTION_NOT_PARALLEL
}

//export C_CancelFunction
func C_CancelFunction(h C.CK_SESSION_HANDLE) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	return softtoken.CKR_FUNCTION_NOT_PARALLEL
}

//export C_InitPIN
func C_InitPIN(h C.CK_SESSION_HANDLE, pin *C.CK_UTF8CHAR, pinLen C.CK_ULONG) rv {
	if pin == nil && pinLen != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	p := C.GoBytes(unsafe.Pointer(pin), C.int(pinLen))
	defer clear(p)
	return ok(token.InitPIN(uint64(h), p))
}

//export C_SetPIN
func C_SetPIN(h C.CK_SESSION_HANDLE, oldPIN *C.CK_UTF8CHAR, oldLen C.CK_ULONG, newPIN *C.CK_UTF8CHAR, newLen C.CK_ULONG) rv {
	if oldPIN == nil && oldLen != 0 || newPIN == nil && newLen != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	o := C.GoBytes(unsafe.Pointer(oldPIN), C.int(oldLen))
	n := C.GoBytes(unsafe.Pointer(newPIN), C.int(newLen))
	defer clear(o)
	defer clear(n)
	return ok(token.SetPIN(uint64(h), o, n))
}

// attributes copies a template an application passed.
func attributes(p *C.CK_ATTRIBUTE, n C.CK_ULONG) ([]softtoken.Attribute, bool) {
	if p == nil && n != 0 {
		return nil, false
	}
	var out []softtoken.Attribute
	for i := range template(p, n) {
		a := &template(p, n)[i]
		v := C.podpis_attr_value(a)
		if v == nil && a.ulValueLen != 0 {
			return nil, false
		}
		out = append(out, softtoken.Attribute{Type: uint64(a._type), Value: C.GoBytes(v, C.int(a.ulValueLen))})
	}
	return out, true
}

//export C_CreateObject
func C_CreateObject(h C.CK_SESSION_HANDLE, attrs *C.CK_ATTRIBUTE, n C.CK_ULONG, obj *C.CK_OBJECT_HANDLE) rv {
	tmpl, good := attributes(attrs, n)
	if !good || obj == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	handle, r := token.CreateObject(uint64(h), tmpl)
	if r == softtoken.CKR_OK {
		*obj = C.CK_OBJECT_HANDLE(handle)
	}
	return ok(r)
}

//export C_DestroyObject
func C_DestroyObject(h C.CK_SESSION_HANDLE, obj C.CK_OBJECT_HANDLE) rv {
	return ok(token.DestroyObject(uint64(h), uint64(obj)))
}

//export C_GetObjectSize
func C_GetObjectSize(h C.CK_SESSION_HANDLE, obj C.CK_OBJECT_HANDLE, size *C.CK_ULONG) rv {
	if size == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	n, r := token.ObjectSize(uint64(h), uint64(obj))
	if r == softtoken.CKR_OK {
		*size = C.CK_ULONG(n)
	}
	return ok(r)
}

//export C_GenerateKeyPair
func C_GenerateKeyPair(h C.CK_SESSION_HANDLE, mech *C.CK_MECHANISM, pubAttrs *C.CK_ATTRIBUTE, nPub C.CK_ULONG,
	privAttrs *C.CK_ATTRIBUTE, nPriv C.CK_ULONG, pubH, privH *C.CK_OBJECT_HANDLE) rv {
	pub, good1 := attributes(pubAttrs, nPub)
	priv, good2 := attributes(privAttrs, nPriv)
	if mech == nil || !good1 || !good2 || pubH == nil || privH == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	pk, sk, r := token.GenerateKeyPair(uint64(h), uint64(mech.mechanism), pub, priv)
	if r == softtoken.CKR_OK {
		*pubH, *privH = C.CK_OBJECT_HANDLE(pk), C.CK_OBJECT_HANDLE(sk)
	}
	return ok(r)
}

//export C_SetAttributeValue
func C_SetAttributeValue(h C.CK_SESSION_HANDLE, obj C.CK_OBJECT_HANDLE, attrs *C.CK_ATTRIBUTE, n C.CK_ULONG) rv {
	tmpl, good := attributes(attrs, n)
	if !good {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.SetAttributeValue(uint64(h), uint64(obj), tmpl))
}

//export C_CopyObject
func C_CopyObject(h C.CK_SESSION_HANDLE, obj C.CK_OBJECT_HANDLE, attrs *C.CK_ATTRIBUTE, n C.CK_ULONG, out *C.CK_OBJECT_HANDLE) rv {
	tmpl, good := attributes(attrs, n)
	if !good || out == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	c, r := token.CopyObject(uint64(h), uint64(obj), tmpl)
	if r == softtoken.CKR_OK {
		*out = C.CK_OBJECT_HANDLE(c)
	}
	return ok(r)
}

//export C_VerifyInit
func C_VerifyInit(h C.CK_SESSION_HANDLE, mech *C.CK_MECHANISM, key C.CK_OBJECT_HANDLE) rv {
	if mech == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.VerifyInit(uint64(h), uint64(mech.mechanism), uint64(key)))
}

//export C_Verify
func C_Verify(h C.CK_SESSION_HANDLE, data *C.CK_BYTE, dataLen C.CK_ULONG, sig *C.CK_BYTE, sigLen C.CK_ULONG) rv {
	if data == nil && dataLen != 0 || sig == nil && sigLen != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.Verify(uint64(h), C.GoBytes(unsafe.Pointer(data), C.int(dataLen)), C.GoBytes(unsafe.Pointer(sig), C.int(sigLen))))
}

//export C_VerifyUpdate
func C_VerifyUpdate(h C.CK_SESSION_HANDLE, part *C.CK_BYTE, partLen C.CK_ULONG) rv {
	if part == nil && partLen != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.VerifyUpdate(uint64(h), C.GoBytes(unsafe.Pointer(part), C.int(partLen))))
}

//export C_VerifyFinal
func C_VerifyFinal(h C.CK_SESSION_HANDLE, sig *C.CK_BYTE, sigLen C.CK_ULONG) rv {
	if sig == nil && sigLen != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.VerifyFinal(uint64(h), C.GoBytes(unsafe.Pointer(sig), C.int(sigLen))))
}

// digestOutput is output's length convention for digests.
func digestOutput(h C.CK_SESSION_HANDLE, single bool, out *C.CK_BYTE, outLen *C.CK_ULONG) (done bool, r rv) {
	n, code := token.DigestLen(uint64(h), single)
	if code != softtoken.CKR_OK {
		return true, ok(code)
	}
	if out == nil {
		*outLen = C.CK_ULONG(n)
		return true, softtoken.CKR_OK
	}
	if int(*outLen) < n {
		*outLen = C.CK_ULONG(n)
		return true, softtoken.CKR_BUFFER_TOO_SMALL
	}
	return false, softtoken.CKR_OK
}

//export C_DigestInit
func C_DigestInit(h C.CK_SESSION_HANDLE, mech *C.CK_MECHANISM) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	if mech == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.DigestInit(uint64(h), uint64(mech.mechanism)))
}

//export C_Digest
func C_Digest(h C.CK_SESSION_HANDLE, data *C.CK_BYTE, dataLen C.CK_ULONG, out *C.CK_BYTE, outLen *C.CK_ULONG) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	if outLen == nil || (data == nil && dataLen != 0) {
		token.DigestAbort(uint64(h))
		return softtoken.CKR_ARGUMENTS_BAD
	}
	if done, r := digestOutput(h, true, out, outLen); done {
		return r
	}
	d, r := token.Digest(uint64(h), C.GoBytes(unsafe.Pointer(data), C.int(dataLen)))
	if r != softtoken.CKR_OK {
		return ok(r)
	}
	deliver(d, out, outLen)
	return softtoken.CKR_OK
}

//export C_DigestUpdate
func C_DigestUpdate(h C.CK_SESSION_HANDLE, part *C.CK_BYTE, partLen C.CK_ULONG) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	if part == nil && partLen != 0 {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return ok(token.DigestUpdate(uint64(h), C.GoBytes(unsafe.Pointer(part), C.int(partLen))))
}

//export C_DigestKey
func C_DigestKey(h C.CK_SESSION_HANDLE, key C.CK_OBJECT_HANDLE) rv {
	return ok(token.DigestKey(uint64(h), uint64(key)))
}

//export C_DigestFinal
func C_DigestFinal(h C.CK_SESSION_HANDLE, out *C.CK_BYTE, outLen *C.CK_ULONG) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	if outLen == nil {
		token.DigestAbort(uint64(h))
		return softtoken.CKR_ARGUMENTS_BAD
	}
	if done, r := digestOutput(h, false, out, outLen); done {
		return r
	}
	d, r := token.DigestFinal(uint64(h))
	if r != softtoken.CKR_OK {
		return ok(r)
	}
	deliver(d, out, outLen)
	return softtoken.CKR_OK
}

// C_GenerateKey: the token makes no secret keys; it checks its arguments
// and says the mechanism is not one of its own.
//
//export C_GenerateKey
func C_GenerateKey(h C.CK_SESSION_HANDLE, mech *C.CK_MECHANISM, attrs *C.CK_ATTRIBUTE, n C.CK_ULONG, key *C.CK_OBJECT_HANDLE) rv {
	if r := token.CheckSession(uint64(h)); r != softtoken.CKR_OK {
		return ok(r)
	}
	if _, good := attributes(attrs, n); !good || mech == nil || key == nil {
		return softtoken.CKR_ARGUMENTS_BAD
	}
	return softtoken.CKR_MECHANISM_INVALID
}
