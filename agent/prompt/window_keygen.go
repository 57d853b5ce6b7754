package prompt

import (
	"context"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/ui/uiproto"
)

// The windows of getting a certificate (agent.KeyPrompter).
var _ agent.KeyPrompter = (*Window)(nil)

// ConfirmNewKey shows «Сайт … просит создать ключ электронной подписи на
// токене …» with the subject, and answers whether the person pressed
// «Создать» — not sooner than the window could have been read.
func (w *Window) ConfirmNewKey(ctx context.Context, origin string, what agent.NewKeySummary) (bool, error) {
	p := prompt(origin)
	p.Token = agent.CleanText(what.Token, 200)
	k := &uiproto.NewKey{Algorithm: agent.CleanText(what.Algorithm, 40), Exportable: what.Exportable, Label: agent.CleanText(what.Label, agent.MaxLabel)}
	for _, f := range what.Subject {
		k.Subject = append(k.Subject, uiproto.Field{Name: agent.CleanText(f.Name, 60), Value: agent.CleanText(f.Value, agent.MaxShownDescription)})
	}
	p.NewKey = k
	return w.approve(ctx, uiproto.KindNewKey, p)
}

// ConfirmInstall shows whose certificate goes to which token: owner,
// SNILS, INN, organisation, issuer, validity.
func (w *Window) ConfirmInstall(ctx context.Context, origin, token string, cert *keystore.Certificate) (bool, error) {
	p := prompt(origin)
	p.Token = agent.CleanText(token, 200)
	p.Owner = agent.CleanText(cert.Identity.CommonName, 200)
	p.Install = &uiproto.Install{Fields: installFields(cert)}
	return w.approve(ctx, uiproto.KindInstall, p)
}

// installFields are the install window's lines about cert, every value
// cleaned: the certificate came from the page.
func installFields(cert *keystore.Certificate) []uiproto.Field {
	id := cert.Identity
	var out []uiproto.Field
	for _, f := range []uiproto.Field{
		{Name: "СНИЛС", Value: id.SNILS}, {Name: "ИНН", Value: id.INN}, {Name: "Организация", Value: id.Organization},
		{Name: "ИНН организации", Value: id.INNLE}, {Name: "ОГРН", Value: id.OGRN}, {Name: "ОГРНИП", Value: id.OGRNIP},
		{Name: "Электронная почта", Value: id.Email}, {Name: "Издатель", Value: id.Issuer},
		{Name: "Действителен", Value: "с " + id.NotBefore.Local().Format("02.01.2006") + " по " + id.NotAfter.Local().Format("02.01.2006")},
		{Name: "Алгоритм", Value: cert.Algorithm}, {Name: "Отпечаток", Value: id.Thumbprint},
	} {
		if f.Value = agent.CleanText(f.Value, agent.MaxShownDescription); f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// approve runs a yes/no window of kind and reads its answer.
func (w *Window) approve(ctx context.Context, kind string, p uiproto.Prompt) (bool, error) {
	win, err := w.open(ctx, kind, p)
	if err != nil {
		return false, err
	}
	defer win.close()
	a, err := win.answer(ctx)
	if err != nil {
		return false, err
	}
	return a.Approve && !a.Cancelled && !w.tooSoon(win), nil
}
