// Command podpis is the podpis certificate-signing agent and its tools.
//
// The commands, their one-line Russian descriptions and usage lines are
// one table (commands, below), which the dispatcher runs and
// "podpis help [КОМАНДА]" prints; each command's flags carry their Russian
// descriptions in its flag set, printed by "podpis КОМАНДА --help".
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// command is one row of the one table of subcommands: the dispatcher runs
// it, help prints it, and the man page is generated from the same text, so
// the words live here as data rather than in scattered Printf calls.
type command struct {
	name    string
	summary string // one line, Russian: what the command is for
	usage   string // the arguments, after "podpis NAME"
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands []command

func init() {
	commands = []command{
		{"certs", "показать сертификаты на токенах: владелец, СНИЛС, ИНН, срок, проблемы",
			"[--module ПУТЬ]... [--no-known-modules] [--json]", runCerts},
		{"cosign", "добавить свою подпись к подписанному файлу (CMS): совместная подпись",
			"--cert ОТПЕЧАТОК --in ПОДПИСЬ --out ФАЙЛ [--content ФАЙЛ] [--module ПУТЬ]... [--no-known-modules]", runCosign},
		{"doctor", "проверить, работает ли здесь вход по сертификату, и подсказать, что исправить",
			"[--json] [--module ПУТЬ]... [--no-known-modules] [--agent 127.0.0.1:ПОРТ]", runDoctor},
		{"hash", "посчитать хэш «Стрибог» файлов или стандартного ввода",
			"[--alg streebog256|streebog512] [ФАЙЛ...]", runHash},
		{"install", "настроить защищённое соединение с браузерами и автозапуск",
			"[--renew] [--no-autostart]", runInstall},
		{"install-cert", "установить выпущенный сертификат на токен, где лежит его ключ",
			"[--module ПУТЬ]... ФАЙЛ", runInstallCert},
		{"native-host", "посредник для расширения podpis (его запускает браузер)",
			"", runNativeHost},
		{"request", "создать ключ на токене и запрос на сертификат (PKCS#10) для удостоверяющего центра",
			"--module ПУТЬ [--token МЕТКА] --curve АЛГОРИТМ --subject 'CN=…,SNILS=…,INN=…' [--ku …] [--eku …] [--policy …] --out ФАЙЛ", runRequest},
		{"run", "запустить агент podpis для страниц входа",
			"[--headless] [--trust-origin САЙТ]... [--module ПУТЬ]... [--no-known-modules] [--listen 127.0.0.1:ПОРТ]", runAgent},
		{"settings", "открыть окно настроек: сертификаты, разрешённые сайты, диагностика, о программе",
			"[--module ПУТЬ]... [--no-known-modules]", runSettings},
		{"sign", "подписать файл (CMS) ключом с токена",
			"--cert ОТПЕЧАТОК --in ФАЙЛ --out ФАЙЛ [--detached] [--cades bes|t|xl1] [--tsa АДРЕС] [--chain ФАЙЛ] [--module ПУТЬ]... [--no-known-modules]", runSign},
		{"speed", "измерить скорость ГОСТ-подписи и хэша",
			"[--curve КРИВАЯ] [--seconds N] [--list]", runSpeed},
		{"uninstall", "убрать то, что сделал install: доверие браузеров, автозапуск, расширение",
			"", runUninstall},
		{"verify", "проверить подпись CMS или вход на сайт",
			"[--login САЙТ] --roots ФАЙЛ [--tsa-roots ФАЙЛ] [--intermediates ФАЙЛ] [--at RFC3339] [--content ФАЙЛ] [--revocation require|prefer|off] [--crl ФАЙЛ]... [--qualified] [--json] ПОДПИСЬ", runVerify},
		{"version", "показать версию podpis", "", runVersion},
		{"help", "описание команд; help КОМАНДА — описание команды и её флагов",
			"[КОМАНДА]", runHelp},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		return runHelp(args[1:], stdout, stderr)
	}
	// The browser starts the host manifest's path, podpis itself, with
	// its own arguments: Chrome's extension origin, or Firefox's manifest
	// path and extension id.
	if strings.HasPrefix(args[0], "chrome-extension://") || (len(args) == 2 && strings.HasSuffix(args[0], ".json")) {
		return runNativeHost(args, stdout, stderr)
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "podpis: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usageLine is "podpis NAME ARGS", as errors and help print it.
func (c command) usageLine() string {
	return strings.TrimSpace("podpis " + c.name + " " + c.usage)
}

// usage is the short list that follows a usage error on stderr.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %s\n", c.usageLine())
	}
	fmt.Fprintln(w, "Описание команд: podpis help; одной команды: podpis help КОМАНДА")
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if code, done := noArgs("version", args, stdout, stderr); done {
		return code
	}
	fmt.Fprintf(stdout, "podpis %s\n", version)
	return 0
}
