package prompt

import (
	"context"
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/ui/uiproto"
)

// TestWindowSoftTokenWrongThenRight: a login through the agent with the
// real soft token behind it. The person types a wrong PIN: the token's
// counter moves once, the window stays open and says so, and nothing is
// tried again by code (the counter stays at one while the person reads);
// then the right PIN logs in and resets the counter.
func TestWindowSoftTokenWrongThenRight(t *testing.T) {
	d := xvfb(t)
	env, err := testtoken.Setup()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Cleanup)
	ca := testpki.Root(t, gost3410.CurveTC26512A, "Window test CA", time.Now())
	cert, key := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Оконный Тест Тестович"}, time.Now(), nil)
	if err := env.AddToSoftToken("window", key, cert); err != nil {
		t.Fatal(err)
	}
	p, err := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const site = "https://lk.example.ru"
	a := agent.New(agent.Config{Stores: []keystore.Store{p}, Prompter: d.window(settle), Trusted: []agent.Rule{site}})
	done := make(chan error, 1)
	go func() {
		_, _, err := a.Authenticate(context.Background(), site, keystore.Examine(cert, true, time.Now()).ID, "challenge-21")
		done <- err
	}()
	win := d.find(uiproto.TitlePIN)
	time.Sleep(read)
	d.keys(win, []string{"type", "0000"}, []string{"key", "Return"})
	deadline := time.Now().Add(20 * time.Second)
	for env.PINFailures() != 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a retry by code would land now
	if n := env.PINFailures(); n != 1 {
		t.Fatalf("the token counted %d wrong PINs for one typed, want 1", n)
	}
	d.shot(win, "window-pin-05-softtoken-wrong.png")
	if d.find(uiproto.TitlePIN) != win {
		t.Fatal("the PIN window closed after a wrong PIN")
	}
	d.keys(win, []string{"type", testtoken.PIN}, []string{"key", "Return"})
	if err := within(t, done, "the login after the right PIN"); err != nil {
		t.Fatalf("login: %v", err)
	}
	if n := env.PINFailures(); n != 0 {
		t.Errorf("counter %d after the right PIN, want 0", n)
	}
}
