package capi

// storeReport is what TestMYStore saw, for TestMYStoreUnderWine to judge
// on the Linux side (where OpenSSL and the PFX's certificate are).
type storeReport struct {
	Certificates []listed       `json:"certificates"`
	CSPs         []InstalledCSP `json:"csps"`
	GOST         []InstalledCSP `json:"gost"`
	Errors       []string       `json:"errors"`
}

type listed struct {
	ID         string `json:"id"`
	CommonName string `json:"cn"`
	HasKey     bool   `json:"hasKey"`
	Usable     bool   `json:"usable"`
	Source     string `json:"source"`
	Container  string `json:"container"`
	Signature  []byte `json:"signature"` // PKCS #1 v1.5 over SHA-256(message)
	CMS        []byte `json:"cms"`       // cms.Sign of message with the store's signer
	PSSRefused bool   `json:"pssRefused"`
}

// message is what TestMYStore signs; TestMYStoreUnderWine checks the
// signatures over the same bytes.
var message = []byte("вход на сайт: подпись ключом из хранилища «Личное»")
