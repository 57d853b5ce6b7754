package esia

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/podpis/podpis/sso"
)

// Person is the basic data ESIA's REST API gives about a person
// (GET {API}/prns/{oid}, scope fullname and snils).
type Person struct {
	FirstName  string `json:"firstName"`
	LastName   string `json:"lastName"`
	MiddleName string `json:"middleName"`
	BirthDate  string `json:"birthDate"` // dd.MM.yyyy, with scope birthdate
	SNILS      string `json:"snils"`     // 000-000-000 00
	INN        string `json:"inn"`
	// Trusted: the account is confirmed (подтверждённая учётная запись),
	// its identity checked in person or by a qualified signature.
	Trusted bool `json:"trusted"`
}

// FullName is «Фамилия Имя Отчество», the parts present.
func (p Person) FullName() string {
	return strings.Join(strings.Fields(p.LastName+" "+p.FirstName+" "+p.MiddleName), " ")
}

func (c *Client) person(ctx context.Context, oid, accessToken string) (Person, error) {
	u := strings.TrimSuffix(c.cfg.Endpoints.API, "/") + "/prns/" + url.PathEscape(oid)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Person{}, fmt.Errorf("%w: %v", ErrAPI, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	body, status, err := c.do(req)
	if err != nil {
		return Person{}, fmt.Errorf("%w: %v", ErrAPI, err)
	}
	if status != http.StatusOK {
		return Person{}, fmt.Errorf("%w: HTTP %d", ErrAPI, status)
	}
	var p Person
	if err := json.Unmarshal(body, &p); err != nil {
		return Person{}, fmt.Errorf("%w: %v", ErrAPI, err)
	}
	return p, nil
}

// Identity returns id in the shape the account service links.
func (id *Identity) Identity() sso.Identity {
	trusted := "false"
	if id.Person.Trusted {
		trusted = "true"
	}
	return sso.Identity{Provider: sso.ESIA, Subject: id.OID, Name: id.Person.FullName(),
		Claims: sso.NewClaims("snils", id.Person.SNILS, "inn", id.Person.INN, "birthdate", id.Person.BirthDate,
			"trusted", trusted, "amr", id.AuthMethod)}
}
