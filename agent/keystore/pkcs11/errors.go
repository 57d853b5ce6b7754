package pkcs11

import (
	"errors"
	"fmt"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/agent/keystore"
)

// classify maps a module's error to the key store's stable codes.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrHung) {
		return &keystore.Error{Code: keystore.CodeTimeout, Err: fmt.Errorf("%s: %w", op, err)}
	}
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return &keystore.Error{Code: keystore.CodeProviderError, Err: fmt.Errorf("%s: %w", op, err)}
	}
	code := keystore.CodeProviderError
	switch uint(e) {
	case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
		code = keystore.CodePINIncorrect
	case pkcs11.CKR_PIN_LOCKED, pkcs11.CKR_PIN_EXPIRED:
		code = keystore.CodePINLocked
	case pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
		pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_SESSION_HANDLE_INVALID:
		code = keystore.CodeTokenRemoved
	case pkcs11.CKR_FUNCTION_CANCELED, pkcs11.CKR_CANCEL:
		code = keystore.CodeCancelled
	case pkcs11.CKR_USER_NOT_LOGGED_IN:
		code = keystore.CodePINRequired
	}
	return &keystore.Error{Code: code, Err: fmt.Errorf("%s: %w", op, err)}
}
