// Package doctor finds out why certificate login does or does not work on
// this machine — above all what lies behind «Не установлен
// криптопровайдер» — and says it in plain Russian with the fix. The CLI
// (podpis doctor) prints its report; the agent's info method carries its
// findings so a login page can show the exact reason.
package doctor

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/capi"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/keystore/pkcs11/known"
)

// Severity of a finding.
type Severity string

const (
	OK      Severity = "ok"
	Warning Severity = "warning"
	Problem Severity = "problem"
)

// Finding is one thing doctor found, with its cause and fix.
type Finding struct {
	Code     string   `json:"code"` // stable, English
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`           // Russian
	Cause    string   `json:"cause,omitempty"` // Russian
	Fix      string   `json:"fix,omitempty"`   // Russian
	// Personal findings name a person or a token: the agent shows them
	// only to sites the person trusts.
	Personal bool `json:"-"`
}

// CSP is a crypto provider installation podpis recognises by its files,
// so that "installed without its PKCS#11 module" can be told from "not
// installed".
type CSP struct {
	Name    string
	Markers map[string][]string // GOOS → files or folders that show it is installed
	Module  string              // the Known module name that serves it
	Package string              // what to install for the module
}

// CSPs is the data behind the «Не установлен криптопровайдер» diagnosis.
var CSPs = []CSP{
	{"КриптоПро CSP", map[string][]string{"linux": {"/opt/cprocsp/bin", "/etc/opt/cprocsp"}, "windows": {`C:\Program Files\Crypto Pro\CSP`}},
		"CryptoPro CSP", "пакет lsb-cprocsp-pkcs11 из дистрибутива КриптоПро CSP"},
	{"ViPNet CSP", map[string][]string{"linux": {"/opt/itcs"}, "windows": {`C:\Program Files\InfoTeCS\ViPNet CSP`}},
		"ViPNet CSP", "компонент PKCS#11 ViPNet CSP"},
}

// Source says where a report's facts come from.
type Source string

const (
	// FromAgent: the running agent's own modules, tokens and
	// certificates, asked over its control channel (agent/control): what
	// pages are served.
	FromAgent Source = "agent"
	// OwnScan: doctor loaded the modules itself (no agent answered, or
	// the modules to examine were named on the command line).
	OwnScan Source = "scan"
)

// Report is what doctor found.
type Report struct {
	OS string `json:"os"`
	// Source: FromAgent or OwnScan.
	Source       Source                  `json:"source"`
	Modules      []pkcs11.ModuleStatus   `json:"modules"`
	Certificates []*keystore.Certificate `json:"certificates"`
	Findings     []Finding               `json:"findings"`
	// Ready is true when certificate login can work here: a module or store
	// loads and offers a usable certificate with its key.
	Ready bool `json:"ready"`
}

// Options say where to look.
type Options struct {
	Candidates []pkcs11.Candidate // nil: the known paths
	Root       string             // prefix for CSP markers (tests)
	// Store lists the certificates of the loaded modules; nil opens them.
	// The agent passes its own so that diagnosing never disturbs its
	// sessions.
	Store keystore.Store
	// Stores are key stores besides PKCS#11 (the Windows CryptoAPI store):
	// their certificates count too.
	Stores []keystore.Store
	// CSPs lists the CSPs registered with CryptoAPI (Windows;
	// capi.InstalledCSPs); nil where there is no such registry.
	CSPs func() ([]capi.InstalledCSP, error)
}

// Examine looks at the modules, stores and certificates itself.
func Examine(ctx context.Context, opts Options) *Report {
	r := &Report{OS: osName(), Source: OwnScan, Certificates: []*keystore.Certificate{}}
	cands := opts.Candidates
	if cands == nil {
		cands = pkcs11.CandidatePaths(nil)
	}
	r.Modules = pkcs11.Diagnose(ctx, cands)
	var certs []*keystore.Certificate
	for _, st := range opts.Stores {
		c, _ := st.Certificates(ctx)
		certs = append(certs, c...)
	}
	var loaded []string
	for _, m := range r.Modules {
		if m.Loaded {
			loaded = append(loaded, m.Path)
		}
	}
	var providerErr error
	if len(loaded) > 0 {
		p := opts.Store
		if p == nil {
			own, err := pkcs11.New(ctx, pkcs11.Options{Modules: loaded, OnlyModules: true})
			if err != nil {
				providerErr = err
			} else {
				defer own.Close()
				p = own
			}
		}
		if p != nil {
			c, _ := p.Certificates(ctx)
			certs = append(certs, c...)
		}
	}
	r.judge(opts, certs, len(opts.Stores) > 0, providerErr)
	return r
}

// judge turns the modules found and the certificates listed into
// findings, the same way for doctor's own scan and for the agent's status.
// platform: a store besides PKCS#11 is there (CryptoAPI), which needs no
// PKCS#11 component of a CSP.
func (r *Report) judge(opts Options, certs []*keystore.Certificate, platform bool, providerErr error) {
	var installed []CSP
	for _, csp := range CSPs {
		if cspInstalled(csp, opts.Root) {
			installed = append(installed, csp)
			if !platform {
				r.examineCSP(csp)
			}
		}
	}
	loaded, broken := 0, 0
	for _, m := range r.Modules {
		switch {
		case m.Loaded:
			loaded++
			r.examineSlots(m)
		case m.Found:
			broken++
			r.add(Finding{Code: "MODULE_NOT_LOADABLE", Severity: Problem,
				Title: "Модуль " + m.Name + " не загружается",
				Cause: m.Error,
				Fix:   "Переустановите " + m.Name + " той же разрядности, что и система (" + runtime.GOARCH + "), с зависимостями."})
		}
	}
	var gost []capi.InstalledCSP
	if opts.CSPs != nil {
		all, _ := opts.CSPs()
		gost = capi.GOST(all)
	}
	switch {
	case loaded == 0 && len(certs) == 0 && len(gost) > 0:
		// Windows: the CSP is there, its store has nothing to sign with.
		r.add(Finding{Code: "NO_CERTIFICATES", Severity: Problem, Title: gost[0].Name + ": нет сертификата с закрытым ключом",
			Cause: "В хранилище «Личное» нет сертификата, ключ которого хранит ГОСТ-криптопровайдер.",
			Fix:   "Установите сертификат из контейнера (КриптоПро CSP → Сервис → Просмотреть сертификаты в контейнере → Установить; в ViPNet CSP — «Контейнеры ключей» → свойства контейнера → «Установить сертификат»), или вставьте токен."})
		return
	case loaded == 0 && len(certs) == 0 && broken > 0:
		// Installed but failing to load: MODULE_NOT_LOADABLE says which
		// and how to fix it. «Не установлен криптопровайдер» would send
		// the person to install what is already there.
		return
	case loaded == 0 && len(certs) == 0:
		cause := "Не найден ни один модуль PKCS#11 криптопровайдера или токена."
		if opts.CSPs != nil {
			cause = "В системе не зарегистрирован ни один ГОСТ-криптопровайдер (КриптоПро CSP, ViPNet CSP), и не найден модуль PKCS#11 токена."
		}
		fix := "Установите КриптоПро CSP или ViPNet CSP (с модулем PKCS#11) либо драйвер вашего токена: Рутокен, JaCarta."
		if len(installed) > 0 && !platform {
			// The CSP is there: what is missing is its PKCS#11
			// component (CSP_WITHOUT_PKCS11 says which), not another CSP.
			var names []string
			for _, c := range installed {
				names = append(names, c.Name)
			}
			cause = "Установлен " + strings.Join(names, " и ") + ", но podpis не нашёл ни одного модуля PKCS#11, через который с ним можно работать."
			fix = "Установите " + installed[0].Package + " (см. пункт выше) или драйвер вашего токена."
		}
		r.add(Finding{Code: "NO_PROVIDER", Severity: Problem, Title: "Не установлен криптопровайдер", Cause: cause, Fix: fix})
		return
	}
	if providerErr != nil {
		r.add(Finding{Code: "PROVIDER_ERROR", Severity: Problem, Title: "Криптопровайдер не отвечает", Cause: providerErr.Error()})
		return
	}
	r.Certificates = append(r.Certificates, certs...)
	usable := 0
	for _, c := range certs {
		if c.Usable() {
			usable++
			continue
		}
		if slices.Contains(c.Problems, keystore.ProblemTokenLocked) {
			continue // the token's PIN_LOCKED finding says it, once per token
		}
		f := certFinding(c)
		f.Personal = true
		r.add(f)
	}
	switch {
	case len(certs) == 0 && r.onlySoftware():
		names := r.loadedNames()
		r.add(Finding{Code: "NO_CERTIFICATES", Severity: Problem, Title: "В программном токене нет сертификатов",
			Cause: "Загружен только программный токен (" + names + "): ключи хранятся в файлах, подключать к компьютеру нечего.",
			Fix:   "Запишите ключ и сертификат в программный токен (" + names + ") или установите криптопровайдер либо драйвер токена с вашей электронной подписью."})
	case len(certs) == 0 && !r.anyToken():
		cause := "Токен не подключён, а криптопровайдера с контейнерами ключей (КриптоПро CSP, ViPNet CSP) нет."
		if slices.ContainsFunc(r.Modules, func(m pkcs11.ModuleStatus) bool { return m.Loaded && m.CSP }) {
			cause = "Токен не подключён, а в криптопровайдере нет контейнеров с сертификатами."
		}
		r.add(Finding{Code: "NO_CERTIFICATES", Severity: Problem, Title: "Не найдено ни одного сертификата",
			Cause: cause,
			Fix:   "Вставьте токен с электронной подписью или установите сертификат в контейнер " + r.containerWord(installed) + "."})
	case len(certs) == 0:
		r.add(Finding{Code: "NO_CERTIFICATES", Severity: Problem, Title: "На токене нет сертификатов",
			Fix: "Запишите сертификат на токен (или установите его в контейнер " + r.containerWord(installed) + ") в удостоверяющем центре."})
	case usable == 0 && len(certs) > 0:
		cause := "Все найденные сертификаты истекли, не имеют закрытого ключа или не предназначены для подписи."
		if slices.ContainsFunc(certs, func(c *keystore.Certificate) bool { return slices.Contains(c.Problems, keystore.ProblemTokenLocked) }) {
			cause = "Токен заблокирован или у сертификатов истёк срок, нет закрытого ключа: см. замечания выше."
		}
		r.add(Finding{Code: "NO_USABLE_CERTIFICATE", Severity: Problem, Title: "Нет сертификата, пригодного для входа", Cause: cause})
	case usable > 0:
		r.Ready = true
		r.add(Finding{Code: "READY", Severity: OK, Title: "Вход по сертификату возможен",
			Cause: plural(usable, "сертификат пригоден", "сертификата пригодны", "сертификатов пригодны") + " для входа."})
	}
}

// onlySoftware: every loaded module is a software token (SoftHSM2,
// podpis's soft token), and no other store is there.
func (r *Report) onlySoftware() bool {
	n := 0
	for _, m := range r.Modules {
		if m.Loaded {
			if !m.Software {
				return false
			}
			n++
		}
	}
	return n > 0
}

func (r *Report) loadedNames() string {
	var names []string
	for _, m := range r.Modules {
		if m.Loaded && !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	return strings.Join(names, ", ")
}

// containerWord names the CSP whose container a certificate goes into:
// the one that is loaded or installed, else both.
func (r *Report) containerWord(installed []CSP) string {
	var names []string
	for _, m := range r.Modules {
		if m.Loaded && m.CSP && !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		for _, c := range installed {
			names = append(names, c.Name)
		}
	}
	switch len(names) {
	case 0:
		return "криптопровайдера (КриптоПро CSP, ViPNet CSP)"
	case 1:
		return names[0]
	}
	return "криптопровайдера (" + strings.Join(names, ", ") + ")"
}

func (r *Report) add(f Finding) { r.Findings = append(r.Findings, f) }

// Diagnosis is the report as the agent takes it (agent.Config.Diagnose):
// the agent names what it needs and doctor, a client of the agent like
// any other, supplies it.
func (r *Report) Diagnosis() agent.Diagnosis {
	d := agent.Diagnosis{Ready: r.Ready, Findings: make([]agent.Finding, 0, len(r.Findings))}
	for _, f := range r.Findings {
		d.Findings = append(d.Findings, agent.Finding{Code: f.Code, Severity: string(f.Severity), Title: f.Title,
			Cause: f.Cause, Fix: f.Fix, Personal: f.Personal})
	}
	return d
}

func (r *Report) anyToken() bool {
	for _, m := range r.Modules {
		for _, s := range m.Slots {
			if s.TokenPresent {
				return true
			}
		}
	}
	return false
}

func cspInstalled(csp CSP, root string) bool {
	for _, p := range csp.Markers[runtime.GOOS] {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return true
		}
	}
	return false
}

// examineCSP tells "installed without PKCS#11" from "not installed".
func (r *Report) examineCSP(csp CSP) {
	for _, m := range r.Modules {
		if m.Name == csp.Module && m.Found {
			return // its module is there; loading problems are reported per module
		}
	}
	r.add(Finding{Code: "CSP_WITHOUT_PKCS11", Severity: Problem,
		Title: csp.Name + " установлен, но без модуля PKCS#11",
		Cause: "podpis обращается к криптопровайдеру через PKCS#11, а этот компонент не установлен.",
		Fix:   "Установите " + csp.Package + "."})
}

// softwareFix says how to put a token into a software module: there is
// nothing to plug in.
var softwareFix = map[string]string{
	known.SoftHSM2:  "Создайте токен (softhsm2-util --init-token --free --label ИМЯ) и запишите в него ключ и сертификат; проверьте SOFTHSM2_CONF.",
	known.SoftToken: "Проверьте папку ключей программного токена (PODPIS_SOFTTOKEN_DIR, по умолчанию ~/.podpis/softtoken): в ней должны быть файлы ИМЯ.key и ИМЯ.pem.",
}

func (r *Report) examineSlots(m pkcs11.ModuleStatus) {
	tokens := 0
	for _, s := range m.Slots {
		if !s.TokenPresent {
			continue
		}
		tokens++
		if s.PINLocked {
			r.add(Finding{Code: "PIN_LOCKED", Severity: Problem, Personal: true, Title: "PIN-код токена «" + s.Label + "» заблокирован",
				Fix: "PIN-код введён неверно слишком много раз. Разблокируйте токен PIN-кодом администратора (PUK) в программе производителя токена или обратитесь в удостоверяющий центр."})
		} else if s.PINFinalTry {
			r.add(Finding{Code: "PIN_COUNT_LOW", Severity: Warning, Personal: true, Title: "На токене «" + s.Label + "» осталась последняя попытка ввода PIN-кода",
				Fix: "Следующий неверный PIN-код заблокирует токен: введите его внимательно или обратитесь к администратору."})
		} else if s.PINCountLow {
			r.add(Finding{Code: "PIN_COUNT_LOW", Severity: Warning, Personal: true, Title: "На токене «" + s.Label + "» ранее вводили неверный PIN-код",
				Fix: "Будьте внимательны: после нескольких неверных попыток токен блокируется."})
		}
	}
	switch {
	case tokens > 0 || m.CSP:
		// A CSP's containers need no token.
	case m.Software:
		fix := softwareFix[m.Name]
		if fix == "" {
			fix = "Создайте в нём токен и запишите ключ и сертификат: подключать к компьютеру ничего не нужно."
		}
		r.add(Finding{Code: "NO_TOKEN", Severity: Warning, Title: m.Name + ": в программном токене нет инициализированного токена", Fix: fix})
	default:
		r.add(Finding{Code: "NO_TOKEN", Severity: Warning, Title: m.Name + ": токен не подключён",
			Fix: "Вставьте токен в USB-порт; если он вставлен, проверьте, что служба pcscd запущена."})
	}
}

func certFinding(c *keystore.Certificate) Finding {
	name := c.Identity.CommonName
	for _, p := range c.Problems {
		switch p {
		case keystore.ProblemExpired:
			return Finding{Code: "CERT_EXPIRED", Severity: Warning, Title: "Сертификат «" + name + "» истёк",
				Cause: "Срок действия закончился " + c.Identity.NotAfter.Format("02.01.2006") + ".", Fix: "Получите новый сертификат в удостоверяющем центре."}
		case keystore.ProblemNeedsCSP:
			return Finding{Code: "NEEDS_CSP", Severity: Problem, Title: "Ключ сертификата «" + name + "» — контейнер КриптоПро",
				Fix: "Установите КриптоПро CSP с модулем PKCS#11 (lsb-cprocsp-pkcs11)."}
		case keystore.ProblemNoKey:
			return Finding{Code: "NO_PRIVATE_KEY", Severity: Warning, Title: "У сертификата «" + name + "» нет закрытого ключа на этом токене",
				Fix: "Подключите токен с ключом этого сертификата."}
		case keystore.ProblemNotYetValid:
			return Finding{Code: "CERT_NOT_YET_VALID", Severity: Warning, Title: "Сертификат «" + name + "» ещё не действует",
				Fix: "Проверьте дату и время на компьютере."}
		case keystore.ProblemKeyUsage:
			return Finding{Code: "KEY_USAGE", Severity: Warning, Title: "Сертификат «" + name + "» не предназначен для подписи"}
		}
	}
	return Finding{Code: "CERT_PROBLEM", Severity: Warning, Title: "Сертификат «" + name + "» нельзя использовать"}
}

func plural(n int, one, few, many string) string {
	s := itoa(n) + " "
	switch {
	case n%10 == 1 && n%100 != 11:
		return s + one
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 10 || n%100 >= 20):
		return s + few
	}
	return s + many
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
