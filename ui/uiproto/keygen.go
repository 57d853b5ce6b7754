package uiproto

// The windows of getting a certificate: «podpis-ui newkey» asks whether a
// site may make a key on a token, «podpis-ui install» whether a
// certificate may be written next to its key. Each answers once: Approve
// («Создать», «Установить») or Cancelled. Their PIN window is the usual
// one with Prompt.Purpose set.
const (
	KindNewKey  = "newkey"
	KindInstall = "install"

	TitleNewKey  = "podpis — создание ключа электронной подписи"
	TitleInstall = "podpis — установка сертификата"
)

// What a PIN is for beyond a login and a document (Prompt.Purpose).
const (
	PurposeNewKey  = "newkey"
	PurposeInstall = "install"
)

// Field is one line of a window's «name: value» table; Value comes from
// outside podpis (the page, the certificate) and is cleaned by the agent.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// NewKey is the key a site asks to make: whose it is to be (the subject's
// fields, named in Russian), the algorithm, and whether it may leave the
// token (wrapped).
type NewKey struct {
	Subject    []Field `json:"subject"`
	Algorithm  string  `json:"algorithm"`
	Exportable bool    `json:"exportable,omitempty"`
	Label      string  `json:"label,omitempty"` // the key's name on the token
}

// Install is the certificate a site asks to write to Prompt.Token: its
// owner is Prompt.Owner; Fields are the rest (SNILS, INN, issuer,
// validity…), already named.
type Install struct {
	Fields []Field `json:"fields"`
}
