package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"slices"
	"strings"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/server"
	"github.com/podpis/podpis/installer/trust"
)

// runDoctor: podpis doctor [--json] [--module PATH]... [--no-known-modules] [--agent ADDR] — exit 0 when
// certificate login works here, 1 otherwise.
func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("doctor")
	asJSON := fs.Bool("json", false, "вывести отчёт в JSON")
	var modules listFlag
	fs.Var(&modules, "module", "`ПУТЬ` к ещё одному модулю PKCS#11 для проверки (можно повторять)")
	agentAddr := fs.String("agent", "", "`АДРЕС` агента, запущенного с --listen (без флага: стандартные порты)")
	noKnown := fs.Bool("no-known-modules", false, "только модули из --module и файла настроек, без известных путей CSP")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError("doctor", stderr)
	}
	conf, confErr := config.Load(configPath(), config.SystemPath())
	candidates := pkcs11.CandidatePaths(append(modules, conf.Modules()...))
	if *noKnown {
		// Support staff (and tests) examine one module without the
		// machine's other modules in the report.
		candidates = slices.DeleteFunc(candidates, func(c pkcs11.Candidate) bool { return !c.Explicit })
	}
	report := doctor.Examine(context.Background(), doctor.Options{Candidates: candidates, Stores: platformStores(), CSPs: platformCSPs()})
	agentStatus := doctor.ProbeAgent(server.DefaultPorts)
	if *agentAddr != "" {
		agentStatus = doctor.ProbeAgentAt(*agentAddr)
	}
	me, _ := user.Current()
	if !agentStatus.Running {
		report.Findings = append(report.Findings, doctor.Finding{Code: "AGENT_NOT_RUNNING", Severity: doctor.Problem,
			Title: "podpis не запущен", Fix: "Запустите podpis (меню приложений) или включите автозапуск в его меню."})
	} else if me != nil && agentStatus.Owner != "" && agentStatus.Owner != me.Username {
		report.Findings = append(report.Findings, doctor.Finding{Code: "AGENT_OTHER_USER", Severity: doctor.Warning,
			Title: fmt.Sprintf("Порт %d занят podpis пользователя %s", agentStatus.Port, agentStatus.Owner),
			Fix:   "Ваш podpis займёт следующий свободный порт; страницы находят его сами."})
	}
	if confErr != nil {
		report.Findings = append(report.Findings, doctor.Finding{Code: "CONFIG_DAMAGED", Severity: doctor.Warning,
			Title: "Файл настроек повреждён", Cause: confErr.Error(), Fix: "Исправьте или удалите файл: podpis работает без него."})
	}
	stores := []trust.StoreStatus{}
	if ca, err := server.LoadCA(dataDir()); err != nil {
		report.Findings = append(report.Findings, doctor.Finding{Code: "TLS_NOT_SET_UP", Severity: doctor.Warning,
			Title: "Защищённое соединение (wss) с podpis не настроено",
			Cause: "Нет сертификата podpis: страницы смогут обращаться к podpis только по ws.",
			Fix:   "Выполните podpis install."})
	} else {
		stores = trust.Status(ca, trust.UserStores())
		for _, st := range stores {
			if !st.Trusted {
				report.Findings = append(report.Findings, doctor.Finding{Code: "TLS_NOT_TRUSTED", Severity: doctor.Warning,
					Title: st.Browser + " не доверяет сертификату podpis", Cause: st.Error,
					Fix: "Выполните podpis install (или «Перевыпустить сертификат» в меню podpis) и перезапустите браузер."})
			}
		}
	}
	ready := report.Ready && agentStatus.Running
	recent := doctor.RecentErrors(logPath(), 10)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		// Support scripts iterate the modules: none is [], not null.
		report.Modules = nonNil(report.Modules)
		enc.Encode(doctorJSON{Version: version, Report: report, Agent: agentStatus, TLSTrust: stores,
			TrustedOrigins: nonNil(conf.Trusted()), AllowedOrigins: nonNil(conf.Allowances()), RecentErrors: nonNil(recent), Ready: ready})
	} else {
		printReport(stdout, report, agentStatus, stores, conf, recent, ready)
	}
	if ready {
		return 0
	}
	return 1
}

// doctorJSON is the --json contract; lists are [] rather than null so
// support scripts need no special cases.
type doctorJSON struct {
	Version        string              `json:"version"`
	Ready          bool                `json:"ready"`
	Agent          doctor.AgentStatus  `json:"agent"`
	Report         *doctor.Report      `json:"report"`
	TLSTrust       []trust.StoreStatus `json:"tlsTrust"`
	TrustedOrigins []agent.Rule        `json:"trustedOrigins"`
	AllowedOrigins []string            `json:"allowedOrigins"`
	RecentErrors   []string            `json:"recentErrors"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var problemWords = map[keystore.Problem]string{
	keystore.ProblemExpired: "истёк", keystore.ProblemNotYetValid: "ещё не действует",
	keystore.ProblemNoKey: "нет закрытого ключа", keystore.ProblemKeyUsage: "не предназначен для подписи",
	keystore.ProblemNeedsCSP: "ключ в контейнере КриптоПро CSP",
}

func printReport(w io.Writer, r *doctor.Report, a doctor.AgentStatus, stores []trust.StoreStatus, conf *config.Config, recent []string, ready bool) {
	fmt.Fprintf(w, "podpis %s — диагностика\nСистема: %s\n\n", version, r.OS)
	if a.Running {
		fmt.Fprintf(w, "Агент: запущен, порт %d, версия %s", a.Port, a.Version)
		if a.Owner != "" {
			fmt.Fprintf(w, ", пользователь %s", a.Owner)
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "Агент: не запущен")
	}
	fmt.Fprintln(w, "\nКриптопровайдеры (модули PKCS#11):")
	if len(r.Modules) == 0 {
		fmt.Fprintln(w, "  не найдено ни одного")
	}
	for _, m := range r.Modules {
		state := "загружен"
		if !m.Loaded {
			state = "не загружается: " + m.Error
		}
		name := m.Vendor
		if name == m.Path && m.Library != "" {
			name = m.Library // a module named on the command line
		}
		fmt.Fprintf(w, "  %s — %s\n    %s\n", name, state, m.Path)
		for _, s := range m.Slots {
			if s.TokenPresent {
				gost := strings.Join(s.GOSTMechanisms, ", ")
				if gost == "" {
					gost = "нет"
				}
				fmt.Fprintf(w, "    слот %d: токен «%s» (серийный номер %s); механизмы ГОСТ: %s\n", s.ID, s.Label, s.Serial, gost)
			} else {
				fmt.Fprintf(w, "    слот %d: токен не подключён\n", s.ID)
			}
		}
	}
	fmt.Fprintln(w, "\nСертификаты:")
	if len(r.Certificates) == 0 {
		fmt.Fprintln(w, "  не найдены")
	}
	for _, c := range r.Certificates {
		state := "пригоден"
		if !c.Usable() {
			var words []string
			for _, p := range c.Problems {
				words = append(words, problemWords[p])
			}
			state = strings.Join(words, ", ")
		}
		fmt.Fprintf(w, "  %s — %s, до %s (%s)\n", c.Identity.CommonName, c.Algorithm, c.Identity.NotAfter.Format("02.01.2006"), state)
	}
	if len(stores) > 0 {
		fmt.Fprintln(w, "\nДоверие браузеров сертификату podpis (wss):")
		for _, st := range stores {
			state := "доверяет"
			if !st.Trusted {
				state = "не доверяет"
			}
			fmt.Fprintf(w, "  %s — %s\n", st.Browser, state)
		}
	}
	if t := conf.Trusted(); len(t) > 0 {
		fmt.Fprintf(w, "\nДоверенные сайты: %v\n", t)
	}
	if al := conf.Allowances(); len(al) > 0 {
		fmt.Fprintf(w, "Разрешённые сайты: %v\n", al)
	}
	fmt.Fprintln(w, "\nИтог:")
	for _, f := range r.Findings {
		mark := map[doctor.Severity]string{doctor.OK: "✓", doctor.Warning: "!", doctor.Problem: "✗"}[f.Severity]
		fmt.Fprintf(w, "  %s %s\n", mark, f.Title)
		switch {
		case f.Cause != "" && f.Severity == doctor.OK:
			fmt.Fprintf(w, "      %s\n", f.Cause)
		case f.Cause != "":
			fmt.Fprintf(w, "      Причина: %s\n", f.Cause)
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "      Что сделать: %s\n", f.Fix)
		}
	}
	if len(recent) > 0 {
		fmt.Fprintln(w, "\nПоследние ошибки журнала:")
		for _, l := range recent {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if ready {
		fmt.Fprintln(w, "\nВход по сертификату должен работать.")
	} else {
		fmt.Fprintln(w, "\nВход по сертификату сейчас невозможен: см. пункты со знаком ✗.")
	}
}
