package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/control"
	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/nativehost"
	"github.com/podpis/podpis/agent/server"
	"github.com/podpis/podpis/installer/trust"
	"github.com/podpis/podpis/ui/uiproto"
)

// runDoctor: podpis doctor [--json] [--module PATH]... [--no-known-modules] [--agent ADDR] — exit 0 when
// certificate login works here, 1 otherwise.
func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("doctor")
	asJSON := fs.Bool("json", false, "вывести отчёт в JSON")
	var modules listFlag
	fs.Var(&modules, "module", "`ПУТЬ` к ещё одному модулю PKCS#11 для проверки (можно повторять)")
	agentAddr := fs.String("agent", "", "`АДРЕС` агента, запущенного с --listen, если он не ответит на канале управления (без флага: стандартные порты)")
	noKnown := fs.Bool("no-known-modules", false, "только модули из --module и файла настроек, без известных путей CSP")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError("doctor", stderr)
	}
	conf, confErr := config.Load(configPath(), config.SystemPath())
	me, _ := user.Current()
	ctx := context.Background()
	// The running agent's own view first: what pages are served. Modules
	// named on the command line are examined by doctor itself, as asked.
	named := len(modules) > 0 || *noKnown
	var (
		report      *doctor.Report
		agentStatus doctor.AgentStatus
		askErr      error
	)
	opts := doctor.Options{Stores: platformStores(), CSPs: platformCSPs()}
	if st, err := doctor.AskAgent(ctx, &control.Client{}); err == nil {
		owner := ""
		if me != nil {
			owner = me.Username
		}
		agentStatus = doctor.StatusOf(st, owner)
		if !named {
			report = doctor.FromStatus(ctx, st, opts)
		}
	} else {
		askErr = err
		agentStatus = doctor.ProbeAgent(server.DefaultPorts)
		if *agentAddr != "" {
			agentStatus = doctor.ProbeAgentAt(*agentAddr)
		}
	}
	if report == nil {
		candidates := pkcs11.CandidatePaths(append(modules, conf.Modules()...))
		if *noKnown {
			// Support staff (and tests) examine one module without the
			// machine's other modules in the report.
			candidates = slices.DeleteFunc(candidates, func(c pkcs11.Candidate) bool { return !c.Explicit })
		}
		opts.Candidates = candidates
		report = doctor.Examine(ctx, opts)
	}
	if !agentStatus.Running {
		report.Findings = append(report.Findings, doctor.Finding{Code: "AGENT_NOT_RUNNING", Severity: doctor.Problem,
			Title: "podpis не запущен", Fix: "Запустите podpis (меню приложений) или включите автозапуск в его меню."})
	} else if !agentStatus.Control && me != nil && agentStatus.Owner != "" && agentStatus.Owner != me.Username {
		report.Findings = append(report.Findings, doctor.Finding{Code: "AGENT_OTHER_USER", Severity: doctor.Warning,
			Title: fmt.Sprintf("Порт %d занят podpis пользователя %s", agentStatus.Port, agentStatus.Owner),
			Fix:   "Ваш podpis займёт следующий свободный порт; страницы находят его сами."})
	} else if !agentStatus.Control {
		// An agent answers on the port but not on this account's control
		// channel: an older podpis, or one started without a runtime folder.
		report.Findings = append(report.Findings, doctor.Finding{Code: "AGENT_NO_CONTROL", Severity: doctor.Warning,
			Title: "Запущенный podpis не отвечает на запросы podpis doctor",
			Cause: "Агент на порту " + strconv.Itoa(agentStatus.Port) + " не открыл канал управления: " + errText(askErr) + ".",
			Fix:   "Перезапустите podpis (или обновите его): тогда диагностика покажет то, что видит агент."})
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

func printReport(w io.Writer, r *doctor.Report, a doctor.AgentStatus, stores []trust.StoreStatus, conf *config.Config, recent []string, ready bool) {
	fmt.Fprintf(w, "podpis %s — диагностика\nСистема: %s\n\n", version, r.OS)
	if a.Running {
		fmt.Fprintf(w, "Агент: запущен")
		if a.PID != 0 {
			fmt.Fprintf(w, " (pid %d)", a.PID)
		}
		fmt.Fprintf(w, ", порт %d, версия %s", a.Port, a.Version)
		if a.Owner != "" {
			fmt.Fprintf(w, ", пользователь %s", a.Owner)
		}
		if a.Headless {
			fmt.Fprintf(w, ", без окон (--headless)")
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "Агент: не запущен")
	}
	fmt.Fprintf(w, "Откуда сведения: %s\n", sourceText(r, a))
	fmt.Fprintln(w, "\nКриптопровайдеры (модули PKCS#11):")
	if len(r.Modules) == 0 {
		fmt.Fprintln(w, "  не найдено ни одного")
	}
	for _, m := range r.Modules {
		state := "загружен"
		if !m.Loaded {
			state = "не загружается: " + m.Error
		}
		name := m.Name
		if name == "" {
			name = m.Vendor
		}
		if m.Software {
			name += " (программный токен)"
		}
		path := m.Path
		if m.File != "" && m.File != m.Path {
			path += " (" + m.File + ")" // where a bare name was found (Windows)
		}
		fmt.Fprintf(w, "  %s — %s\n    %s\n", name, state, path)
		for _, s := range m.Slots {
			if s.TokenPresent {
				gost := strings.Join(s.GOSTMechanisms, ", ")
				if gost == "" {
					gost = "нет"
				}
				fmt.Fprintf(w, "    слот %d: токен «%s» (серийный номер %s); механизмы ГОСТ: %s%s\n", s.ID, s.Label, s.Serial, gost, pinWords(s))
			} else if m.Software {
				fmt.Fprintf(w, "    слот %d: нет инициализированного токена\n", s.ID)
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
				words = append(words, uiproto.ProblemWord(string(p)))
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

// errText says why the control channel did not answer, for support staff.
func errText(err error) string {
	switch {
	case err == nil:
		return "причина неизвестна"
	case errors.Is(err, control.ErrNotRunning):
		path, _ := nativehost.ControlPath()
		return "нет канала " + path
	}
	return err.Error()
}

// sourceText says where the report's modules, tokens and certificates
// come from: the running agent's own view, or doctor's own scan and why.
func sourceText(r *doctor.Report, a doctor.AgentStatus) string {
	switch {
	case r.Source == doctor.FromAgent:
		return "по данным запущенного агента podpis (его модули, токены и сертификаты — то, что видят сайты)"
	case a.Control:
		return "собственная проверка модулей, указанных в --module или без известных путей (--no-known-modules); агент podpis запущен со своими модулями"
	case a.Running:
		return "запущенный агент не ответил на запрос podpis doctor: собственная проверка (модули загружены заново, агент может видеть иное)"
	}
	return "агент не запущен: собственная проверка (модули загружены заново)"
}

// pinWords tells the token's PIN state.
func pinWords(s pkcs11.SlotStatus) string {
	var w []string
	switch {
	case s.PINLocked:
		w = append(w, "PIN-код заблокирован")
	case s.PINFinalTry:
		w = append(w, "осталась последняя попытка ввода PIN-кода")
	case s.PINCountLow:
		w = append(w, "ранее вводили неверный PIN-код")
	}
	if s.PINSaved {
		w = append(w, "PIN-код сохранён агентом")
	}
	if len(w) == 0 {
		return ""
	}
	return "; " + strings.Join(w, ", ")
}
