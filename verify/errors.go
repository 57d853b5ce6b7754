package verify

import "fmt"

// Code is a stable reason code: what a login server logs and what its API
// returns. The set is fixed; the strings never change.
type Code string

const (
	CodeMalformed         Code = "MALFORMED"
	CodeBadSignature      Code = "BAD_SIGNATURE"
	CodeContentMismatch   Code = "CONTENT_MISMATCH"
	CodeUntrusted         Code = "UNTRUSTED"
	CodeExpired           Code = "EXPIRED"
	CodeNotYetValid       Code = "NOT_YET_VALID"
	CodeKeyUsage          Code = "KEY_USAGE"
	CodeChallengeUnknown  Code = "CHALLENGE_UNKNOWN"
	CodeChallengeExpired  Code = "CHALLENGE_EXPIRED"
	CodeChallengeReplayed Code = "CHALLENGE_REPLAYED"
	CodeOriginMismatch    Code = "ORIGIN_MISMATCH"
	CodeClockSkew         Code = "CLOCK_SKEW"
	CodeRevoked           Code = "REVOKED"
	CodeRevocationUnknown Code = "REVOCATION_UNKNOWN"
	CodeWrongPurpose      Code = "WRONG_PURPOSE"
	// CodeUnsupportedAlgorithm is a well-formed signature with a digest or
	// signature algorithm this package does not verify: not MALFORMED,
	// since the message may be valid to a verifier that knows it.
	CodeUnsupportedAlgorithm Code = "UNSUPPORTED_ALGORITHM"
	// CodeBadTimestamp is a CAdES timestamp that does not verify, covers
	// other data, or validation data (X Long) not covered by one.
	CodeBadTimestamp Code = "BAD_TIMESTAMP"
	// CodeTimestampUntrusted is a timestamp of a TSA that does not chain
	// to Config.TimestampRoots.
	CodeTimestampUntrusted Code = "TIMESTAMP_UNTRUSTED"
)

var descriptions = map[Code]struct{ en, ru string }{
	CodeMalformed:            {"the signature is not a well-formed CMS message of the expected kind", "Подпись повреждена или имеет неверный формат"},
	CodeBadSignature:         {"the signature does not verify with the signer's certificate", "Подпись неверна"},
	CodeContentMismatch:      {"the signed content differs from what the signature covers", "Подписанные данные не совпадают с подписью"},
	CodeUntrusted:            {"the certificate does not chain to a trusted root", "Сертификат выдан недоверенным удостоверяющим центром"},
	CodeExpired:              {"a certificate in the chain has expired", "Срок действия сертификата истёк"},
	CodeNotYetValid:          {"a certificate in the chain is not yet valid", "Срок действия сертификата ещё не наступил"},
	CodeKeyUsage:             {"the certificate may not be used for this signature", "Сертификат не предназначен для электронной подписи"},
	CodeChallengeUnknown:     {"the challenge was not issued by this server for this site", "Запрос на вход не найден: обновите страницу"},
	CodeChallengeExpired:     {"the challenge has expired", "Время ожидания входа истекло: обновите страницу"},
	CodeChallengeReplayed:    {"the challenge has already been used", "Этот запрос на вход уже использован"},
	CodeOriginMismatch:       {"the signature was made for another site", "Подпись сделана для другого сайта"},
	CodeClockSkew:            {"the signing time is too far from the server's clock", "Часы компьютера идут неверно: проверьте дату и время"},
	CodeRevoked:              {"a certificate in the chain has been revoked", "Сертификат отозван удостоверяющим центром"},
	CodeRevocationUnknown:    {"whether the certificate is revoked could not be established", "Не удалось проверить, не отозван ли сертификат: попробуйте позже"},
	CodeWrongPurpose:         {"the signature was made for another purpose: a login is not a document signature, nor a document signature a login", "Подпись сделана для другой цели: подпись входа не подписывает документы, а подпись документа не даёт входа"},
	CodeUnsupportedAlgorithm: {"the signature uses an algorithm this verifier does not support", "Подпись сделана по алгоритму, который здесь не поддерживается"},
	CodeBadTimestamp:         {"a timestamp of the signature does not verify or covers other data", "Штамп времени подписи неверен или относится к другим данным"},
	CodeTimestampUntrusted:   {"a timestamp of the signature comes from an untrusted time-stamping authority", "Штамп времени выдан недоверенной службой штампов времени"},
}

// Description is an English sentence for logs and the CLI.
func (c Code) Description() string { return descriptions[c].en }

// MessageRU is the Russian message to show a person.
func (c Code) MessageRU() string { return descriptions[c].ru }

// Error is a verification failure with its reason code.
type Error struct {
	Code Code
	// Err is the underlying cause, for logs; never show it to a person.
	Err error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("verify: %s: %s", e.Code, e.Code.Description())
	}
	return fmt.Sprintf("verify: %s: %s: %v", e.Code, e.Code.Description(), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, verify.ErrExpired) and the like match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Err == nil && t.Code == e.Code
}

// Sentinels, one per code, for errors.Is.
var (
	ErrMalformed            = &Error{Code: CodeMalformed}
	ErrBadSignature         = &Error{Code: CodeBadSignature}
	ErrContentMismatch      = &Error{Code: CodeContentMismatch}
	ErrUntrusted            = &Error{Code: CodeUntrusted}
	ErrExpired              = &Error{Code: CodeExpired}
	ErrNotYetValid          = &Error{Code: CodeNotYetValid}
	ErrKeyUsage             = &Error{Code: CodeKeyUsage}
	ErrChallengeUnknown     = &Error{Code: CodeChallengeUnknown}
	ErrChallengeExpired     = &Error{Code: CodeChallengeExpired}
	ErrChallengeReplayed    = &Error{Code: CodeChallengeReplayed}
	ErrOriginMismatch       = &Error{Code: CodeOriginMismatch}
	ErrClockSkew            = &Error{Code: CodeClockSkew}
	ErrRevoked              = &Error{Code: CodeRevoked}
	ErrRevocationUnknown    = &Error{Code: CodeRevocationUnknown}
	ErrWrongPurpose         = &Error{Code: CodeWrongPurpose}
	ErrUnsupportedAlgorithm = &Error{Code: CodeUnsupportedAlgorithm}
	ErrBadTimestamp         = &Error{Code: CodeBadTimestamp}
	ErrTimestampUntrusted   = &Error{Code: CodeTimestampUntrusted}
)

func fail(code Code, err error) *Error { return &Error{Code: code, Err: err} }
