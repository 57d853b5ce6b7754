package pkcs11

import (
	"testing"

	"github.com/miekg/pkcs11"
)

// TestPINRequestContainer: a CSP's module asks for a container's password
// under the container's name; a token's for its PIN; the final try is
// told as one try left.
func TestPINRequestContainer(t *testing.T) {
	for vendor, container := range map[string]bool{"ViPNet CSP": true, "CryptoPro CSP": true, "Rutoken": false, "/opt/x/lib.so": false} {
		l := &location{module: &Module{Vendor: vendor}}
		req := pinRequest(pkcs11.TokenInfo{Label: "eea1c548", Flags: pkcs11.CKF_USER_PIN_FINAL_TRY | pkcs11.CKF_USER_PIN_COUNT_LOW}, l)
		if req.Container != container || req.Token != "eea1c548" || !req.FinalTry || req.TriesLeft != 1 {
			t.Errorf("%s: %+v", vendor, req)
		}
	}
}
