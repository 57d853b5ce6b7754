package layers

import (
	"bytes"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/podpis/podpis/"

// rules says, for each of our packages (a path or a prefix ending in
// "/..."), which of ours it may import. The first rule that matches a
// package applies. Outside modules are listed where a layer must stay
// free of them. Imports point one way:
//
//	cmd → server, nativehost → wsapi → agent → keystore → login, crypto
//	cmd → verify → login, crypto
type rule struct {
	pkg     string
	mayUse  []string // our packages
	outside []string // modules outside ours, when the layer restricts them
}

var rules = []rule{
	// Our GOST: nothing of ours but itself, and only what Go's own crypto
	// uses from outside.
	{pkg: "crypto/...", mayUse: []string{"crypto/..."}, outside: []string{"golang.org/x/crypto/cryptobyte...", "golang.org/x/sys/cpu"}},
	// The contract between the agent and the servers: a leaf.
	{pkg: "login", mayUse: []string{"crypto/..."}, outside: []string{}},
	// The certificate request in the qualified profile: built over a
	// crypto.Signer, so it knows no key store.
	{pkg: "certreq", mayUse: []string{"crypto/..."}, outside: []string{"golang.org/x/crypto/cryptobyte..."}},

	// The server side never reaches into the agent. verify turns
	// revocation on by default, so it may build the checker.
	{pkg: "verify", mayUse: []string{"login", "crypto/...", "verify/revocation", "cades"}},
	// CAdES-T and X Long: timestamps (crypto/tsp) and the revocation
	// evidence verify/revocation collects, for the signers (CLI, agent)
	// and for verify.
	{pkg: "cades", mayUse: []string{"crypto/...", "verify/revocation"}},
	// poa: powers of attorney, checked with verify; certreq lends it the
	// checksums of SNILS, INN and OGRN. poaweb is its pages, for any site.
	{pkg: "poa", mayUse: []string{"verify", "login", "certreq"}},
	{pkg: "poa/poaweb", mayUse: []string{"poa", "verify", "login", "webclient"}},
	// poasvc is «Доверенность» as a service logging in through the
	// provider (an OpenID Connect client: no account or idp code).
	{pkg: "poa/poasvc", mayUse: []string{"poa/poaweb", "verify", "login"}},
	{pkg: "verify/...", mayUse: []string{"verify", "login", "crypto/..."}},

	// The agent: keystore below the policy, the policy below the
	// protocol, the protocol below the transports.
	{pkg: "agent/keystore", mayUse: []string{"login", "crypto/..."}},
	{pkg: "agent/keystore/pkcs11/known", mayUse: []string{}},
	{pkg: "agent/keystore/...", mayUse: []string{"agent/keystore", "agent/keystore/pkcs11/known", "login", "crypto/..."}},
	{pkg: "agent", mayUse: []string{"agent/keystore", "login", "certreq", "crypto/..."}},
	{pkg: "agent/config", mayUse: []string{"agent", "login"}},
	{pkg: "agent/wsapi", mayUse: []string{"agent", "agent/keystore", "certreq", "login", "crypto/...", "cades"}}, // certreq: its field errors map to INVALID_REQUEST here; crypto: streamed documents are hashed as they arrive
	{pkg: "agent/server", mayUse: []string{"agent/wsapi", "internal/peercred"}},
	{pkg: "agent/nativehost", mayUse: []string{"agent/wsapi", "internal/peercred"}},
	// The control channel (doctor, settings) rides nativehost's per-user
	// socket primitives, never the loopback port; the agent's wiring in
	// cmd/ fills in what it answers.
	{pkg: "agent/control", mayUse: []string{"agent/nativehost", "agent/keystore", "login"}},
	{pkg: "agent/prompt", mayUse: []string{"agent", "agent/keystore", "login", "ui/uiproto"}},
	{pkg: "agent/tray", mayUse: []string{"agent/keystore", "login"}},
	// The settings window's driver: speaks uiproto to podpis-ui, links
	// no toolkit (it runs inside the agent).
	{pkg: "agent/settings", mayUse: []string{"agent", "agent/config", "agent/keystore", "login", "ui/uiproto"}},
	// doctor examines the concrete stores; the agent gets its findings
	// through agent.Config, wired in cmd/.
	{pkg: "agent/doctor", mayUse: []string{"agent", "agent/control", "agent/keystore", "agent/keystore/...", "login", "crypto/..."}},

	// The windows are a program of their own (podpis-ui): the agent
	// speaks uiproto to it and never links the toolkit.
	{pkg: "ui/uiproto", mayUse: []string{}, outside: []string{}},
	{pkg: "ui/...", mayUse: []string{"ui/uiproto", "login"}},
	{pkg: "ui", mayUse: []string{"ui/uiproto", "login"}},

	{pkg: "installer/...", mayUse: []string{"installer/..."}},

	// The outside ways into an account: server-side packages like verify,
	// never the agent. replay is their leaf; the ESIA client signs with
	// our CMS; its test stand-in may use the test helpers.
	{pkg: "sso", mayUse: []string{}},
	{pkg: "sso/replay", mayUse: []string{}},
	{pkg: "sso/replay/...", mayUse: []string{"sso/replay"}},
	{pkg: "sso/telegram", mayUse: []string{"sso", "sso/replay"}},
	{pkg: "sso/telegram/telegramstand", mayUse: []string{"sso/telegram"}},
	{pkg: "sso/ssoweb", mayUse: []string{"sso", "sso/esia", "sso/telegram"}},
	{pkg: "sso/ssodemo", mayUse: []string{"sso/esia", "sso/esia/esiastand", "sso/telegram", "sso/telegram/telegramstand", "crypto/..."}},
	{pkg: "sso/esia", mayUse: []string{"sso", "sso/replay", "crypto/..."}},
	{pkg: "sso/esia/esiastand", mayUse: []string{"sso", "sso/esia", "crypto/..."}},
	{pkg: "sso/esia/esiatest", mayUse: []string{"sso/esia/esiastand", "internal/..."}},

	// The OpenID Connect provider: the account service plugs into it
	// through its small interfaces, so it imports no account code.
	{pkg: "idp", mayUse: []string{"login"}},
	// The account service: a site's server side beside verify, never the
	// agent. Its parts are leaves; the storage implements its interface.
	{pkg: "account", mayUse: []string{"account/argon2id", "account/contact", "account/deliver", "account/ratelimit", "verify", "login", "sso", "sso/ssoweb", "sso/telegram"}},
	{pkg: "account/sqlstore", mayUse: []string{"account"}},
	{pkg: "account/deliver/...", mayUse: []string{"account/deliver"}},
	{pkg: "account/...", mayUse: []string{}},

	// Helpers of our own: the product's ones are leaves; the test
	// helpers may use what they stand in for.
	{pkg: "internal/peercred", mayUse: []string{}},
	{pkg: "internal/harden", mayUse: []string{}},
	{pkg: "internal/instance", mayUse: []string{}},
	{pkg: "internal/logfile", mayUse: []string{}},
	{pkg: "internal/softtoken", mayUse: []string{"crypto/..."}},
	{pkg: "internal/layers", mayUse: []string{}},
	{pkg: "internal/...", mayUse: []string{"internal/...", "crypto/...", "login", "verify", "verify/...", "agent/keystore/pkcs11/known"}},

	{pkg: "webclient", mayUse: []string{}},
	// The browser tests' SMTP server and SMS gateway: the Go tests' sinks,
	// run as a program.
	{pkg: "webclient/testing/codesink", mayUse: []string{"account/deliver/delivertest"}},
	// Binaries wire everything together; nothing imports them.
	{pkg: "cmd/...", mayUse: []string{"account", "account/...", "agent", "agent/...", "cades", "certreq", "crypto/...", "login", "verify", "verify/...", "sso/...", "installer/...", "internal/...", "webclient", "ui", "ui/...", "poa", "poa/...", "idp"}},
}

func match(pattern, pkg string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	if p, ok := strings.CutSuffix(pattern, "..."); ok {
		return strings.HasPrefix(pkg, p)
	}
	return pkg == pattern
}

// graph is package → its imports, our packages without the module prefix.
type graph map[string][]string

// list asks the go command for the imports of every package of ours (not
// its tests) as built for goos.
func list(t *testing.T, goos string) graph {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"...")
	cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	g := graph{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.Contains(f[0], "/node_modules/") {
			continue // an npm package's Go sources (webclient's tooling), not ours
		}
		g[strings.TrimPrefix(f[0], module)] = f[1:]
	}
	if len(g) < 20 {
		t.Fatalf("go list found %d packages: %s", len(g), out)
	}
	return g
}

// violations checks g against rules.
func violations(g graph) []string {
	var bad []string
	for pkg, imports := range g {
		i := slices.IndexFunc(rules, func(r rule) bool { return match(r.pkg, pkg) })
		if i < 0 {
			bad = append(bad, pkg+": no rule says what it may import")
			continue
		}
		r := rules[i]
		for _, imp := range imports {
			switch {
			case strings.HasPrefix(imp, module):
				ours := strings.TrimPrefix(imp, module)
				if match("cmd/...", ours) {
					bad = append(bad, pkg+" imports "+ours+": nothing imports a binary")
				} else if !slices.ContainsFunc(r.mayUse, func(p string) bool { return match(p, ours) }) {
					bad = append(bad, pkg+" imports "+ours)
				}
			case strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
				// an outside module
				if r.outside != nil && !slices.ContainsFunc(r.outside, func(p string) bool { return match(p, imp) }) {
					bad = append(bad, pkg+" imports "+imp+" (outside modules are restricted here)")
				}
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// TestLayers: every package of ours, as built for Linux and for Windows,
// imports only what its layer allows.
func TestLayers(t *testing.T) {
	for _, goos := range []string{"linux", "windows"} {
		for _, v := range violations(list(t, goos)) {
			t.Errorf("%s: %s", goos, v)
		}
	}
}

// TestLayersRefuse: the rules bite. Each forbidden import added to the
// real graph is reported.
func TestLayersRefuse(t *testing.T) {
	real := list(t, "linux")
	for _, edge := range [][2]string{
		{"agent/keystore", "verify"}, // the key store reaching into the server package
		{"agent", "verify"},          // OCSP/CRL code in the agent binary
		{"agent", "agent/doctor"},    // the policy depending on concrete stores
		{"agent/keystore", "agent/keystore/pkcs11"},
		{"agent/wsapi", "agent/server"},       // protocol below its transport
		{"agent/tray", "installer/autostart"}, // nothing in agent/ imports installer/
		{"verify", "agent"},                   // verify never imports agent
		{"crypto/cms", "verify"},              // crypto/ imports nothing of ours
		{"login", "verify"},                   // the contract is a leaf
		{"certreq", "agent/keystore"},         // the request knows no key store
		{"agent/server", "cmd/podpis"},        // nothing imports cmd/
		{"agent/control", "agent/server"},     // control never rides the loopback port
		{"agent/wsapi", "agent/control"},      // pages' protocol knows no control request
		{"agent/settings", "ui"},              // the agent's side of the settings window draws nothing
		{"sso/telegram", "agent"},             // the server side never reaches into the agent
	} {
		g := graph{}
		for k, v := range real {
			g[k] = v
		}
		if _, ok := g[edge[0]]; !ok {
			t.Errorf("no package %s to test with", edge[0])
			continue
		}
		g[edge[0]] = append(slices.Clone(g[edge[0]]), module+edge[1])
		if v := violations(g); !slices.ContainsFunc(v, func(s string) bool { return strings.HasPrefix(s, edge[0]+" imports "+edge[1]) }) {
			t.Errorf("%s → %s was not refused (%v)", edge[0], edge[1], v)
		}
	}
	g := graph{"crypto/streebog": {"github.com/gorilla/websocket"}}
	if v := violations(g); len(v) != 1 {
		t.Errorf("crypto/ importing an outside module: %v", v)
	}
}

// TestAgentLinksNoToolkit: the agent faces the network and must run on a
// machine with no desktop, so no GUI toolkit (nor its OpenGL) may reach
// podpis by any path; the windows are podpis-ui's.
func TestAgentLinksNoToolkit(t *testing.T) {
	for _, goos := range []string{"linux", "windows"} {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"cmd/podpis")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (%s): %v", goos, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 50 {
			t.Fatalf("go list -deps (%s) found %d packages", goos, len(deps))
		}
		for _, d := range deps {
			if strings.HasPrefix(d, "fyne.io/fyne/") || strings.HasPrefix(d, "github.com/go-gl/") {
				t.Errorf("%s: podpis links %s", goos, d)
			}
		}
	}
}
