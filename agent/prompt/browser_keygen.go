package prompt

import (
	"context"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
)

// The pages of getting a certificate, for machines without a desktop
// (agent.KeyPrompter).
var _ agent.KeyPrompter = (*Browser)(nil)

// ConfirmNewKey asks on podpis's page whether the site may make a key.
func (b *Browser) ConfirmNewKey(ctx context.Context, origin string, what agent.NewKeySummary) (bool, error) {
	q := &question{Kind: "newkey", Origin: origin, Token: agent.CleanText(what.Token, 100), Cert: agent.CleanText(what.Algorithm, 40)}
	for _, f := range what.Subject {
		q.Fields = append(q.Fields, agent.ShownField{Name: agent.CleanText(f.Name, 60), Value: agent.CleanText(f.Value, agent.MaxShownDescription)})
	}
	if what.Label != "" {
		q.Fields = append(q.Fields, agent.ShownField{Name: "Имя ключа на токене", Value: agent.CleanText(what.Label, agent.MaxLabel)})
	}
	if what.Exportable {
		q.Fields = append(q.Fields, agent.ShownField{Name: "Экспорт ключа", Value: "разрешён, в зашифрованном виде"})
	}
	a, err := b.ask(ctx, q)
	if err != nil {
		return false, err
	}
	return a.choice == "approve", nil
}

// ConfirmInstall asks on podpis's page whether the certificate may go to
// the token.
func (b *Browser) ConfirmInstall(ctx context.Context, origin, token string, cert *keystore.Certificate) (bool, error) {
	q := &question{Kind: "install", Origin: origin, Token: agent.CleanText(token, 100), Cert: agent.CleanText(cert.Identity.CommonName, 100)}
	for _, f := range installFields(cert) {
		q.Fields = append(q.Fields, agent.ShownField{Name: f.Name, Value: f.Value})
	}
	a, err := b.ask(ctx, q)
	if err != nil {
		return false, err
	}
	return a.choice == "approve", nil
}
