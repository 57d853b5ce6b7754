package main

import (
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/login"
)

func TestPrintCertificate(t *testing.T) {
	base := keystore.Certificate{
		ID: "ab12", Algorithm: "GOST R 34.10-2012 256 (tc26-256-a)", Source: "Рутокен", Token: "Rutoken ECP",
		Identity: login.Identity{CommonName: "Иванов Иван", SNILS: "11223344595", INN: "500100732259", Issuer: "УЦ ФНС России",
			NotBefore: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)},
	}
	allProblems := base
	allProblems.Problems = []keystore.Problem{keystore.ProblemExpired, keystore.ProblemNotYetValid, keystore.ProblemNoKey,
		keystore.ProblemKeyUsage, keystore.ProblemNeedsCSP, "FUTURE_PROBLEM"}
	for _, tc := range []struct {
		name      string
		c         keystore.Certificate
		want, not []string
	}{
		{"usable", base, []string{
			"ab12  Иванов Иван\n", "    Владелец: Иванов Иван\n", "    СНИЛС: 112-233-445 95\n", "    ИНН: 500100732259\n",
			"    Издатель: УЦ ФНС России\n", "    Действителен с 02.01.2026 по 02.01.2027\n", "    Токен: Rutoken ECP (Рутокен)\n",
		}, []string{"Проблемы", "Организация", "ОГРН"}},
		// Each known problem by its Russian name; one this table does not
		// know yet still shows, by its code.
		{"problems", allProblems, []string{
			"    Проблемы: срок действия истёк, ещё не действует, нет закрытого ключа, не предназначен для подписи, ключ в контейнере КриптоПро CSP, FUTURE_PROBLEM\n",
		}, []string{"EXPIRED", "NOT_YET_VALID", "NO_PRIVATE_KEY", "KEY_USAGE", "NEEDS_CSP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printCertificate(&b, &tc.c)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in\n%s", w, b.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("unexpected %q in\n%s", n, b.String())
				}
			}
		})
	}
}
