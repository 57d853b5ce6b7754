package agent

import (
	"context"

	"github.com/podpis/podpis/agent/keystore"
)

// SignSummary is what the person is asked to approve.
type SignSummary struct {
	Description string // from the page, shown as the page's words
	Size        int
	Streebog    string // hex Streebog-256 of the data
	Login       bool   // an authentication, not a document
	// DigestName names the digest in Streebog and Documents' digests when
	// it is not Streebog-256 of the data («Стрибог-512»); "" for -256.
	DigestName string
	// HashOnly: the page sent the digest, not the document (signHash):
	// nobody here saw the content, the person is told so.
	HashOnly bool
	// Documents lists every document of a batch (signBatch), each with
	// its name, size and digest; one document signed over its digest
	// (streamed, signHash) is listed too.
	Documents []DocumentSummary
}

// DocumentSummary is one document of SignSummary.Documents.
type DocumentSummary struct {
	Name   string // cleaned
	Size   int64  // -1: not known (signHash)
	Digest string // hex
}

// Prompter asks the person. Implementations: native dialogs (agent/prompt),
// and the non-interactive one for headless runs and tests. Every method
// may be cancelled through ctx.
type Prompter interface {
	// ConfirmOrigin asks «Сайт … запрашивает доступ к сертификатам.
	// Разрешить?».
	ConfirmOrigin(ctx context.Context, origin string) (Decision, error)
	// ConfirmSign asks to approve a signature by an origin that is not
	// trusted, or of a document.
	ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what SignSummary) (bool, error)
	// PIN asks the token's PIN (with «Сохранить пароль»).
	PIN(ctx context.Context, origin string, req keystore.PINRequest) (pin []byte, save bool, err error)
}

// PINTrier is implemented by prompters whose PIN window stays open after
// a wrong PIN: it hands try each PIN the person enters (once per press of
// OK) and shows what the token said — «Неверный PIN-код» with the tries
// left — in the same window, until try succeeds, the token locks or the
// person cancels. The agent prefers it to PIN.
type PINTrier interface {
	TryPIN(ctx context.Context, origin string, req keystore.PINRequest, try keystore.TryPIN) error
}

// Unattended is implemented by prompters that answer without a person
// (podpis run --headless). Their answers are not rate-limited — the limit
// protects a person from being worn down — but a PIN they gave that the
// token refused is never offered again: tokens lock after a few tries.
type Unattended interface {
	Unattended() bool
}
