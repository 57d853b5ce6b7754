package sso

// Identity is who an outside provider says logged in, in the one shape the
// account service links and looks up: (Provider, Subject) is the key.
type Identity struct {
	// Provider is "esia" or "telegram": the namespace of Subject.
	Provider string
	// Subject is the provider's stable ID of the person: ESIA's oid,
	// Telegram's user ID. Names and usernames change; these do not.
	Subject string
	// Name is what to show: «Фамилия Имя Отчество», or the Telegram name.
	Name string
	// Claims are the provider's further data under stable English keys
	// (ESIA: snils, inn, birthdate, trusted, amr; Telegram: username,
	// photo_url). Empty values are left out.
	Claims map[string]string
}

// Provider names.
const (
	ESIA     = "esia"
	Telegram = "telegram"
)

// NewClaims returns the non-empty pairs of kv (key, value, key, value, …)
// as a map.
func NewClaims(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}
