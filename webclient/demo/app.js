// The demo login page's agent part: finds the agent, lets the person
// choose a certificate, has the agent sign the account service's challenge
// (to log in, or to link the certificate to the account) and sends the
// result to the server, which verifies it with the Go package verify. The
// account screens themselves are account.js's.
import { connect, PodpisError, MESSAGES, PROTOCOL } from "/podpis.js";
import { $, show, status, fieldError, date } from "/demo/ui.js";
import { call, initAccount, startAccount, loggedIn, currentAccount, refreshAccount, loggedOut } from "/demo/account.js";

let client = null;
let pending = null;
// The site's settings (which ports the agent may listen on). start waits
// for them: a person quick enough to press «Войти» first would otherwise
// probe the default ports and be told podpis is missing.
const config = fetch("/api/config")
  .then((r) => r.json())
  .catch(() => ({}));

// explain: the words come with the error — from the agent (its one table
// of codes and messages, agent/wsapi), from podpis.js for what it finds
// itself, and from this site's server (verify's messages). The page keeps
// no table of its own that could say something else.
function explain(err) {
  if (err instanceof PodpisError || err.code) return err.message;
  return "Ошибка: " + err.message;
}

async function api(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const data = await r.json();
  if (!r.ok) {
    const e = new Error(data.message || "Ошибка сервера");
    e.code = data.code;
    throw e;
  }
  return data;
}

// TRANSPORTS: how the page reached podpis — through the podpis browser
// extension (native messaging: no port, no browser question) or the
// agent's local port.
const TRANSPORTS = {
  extension: "Связь с podpis: через расширение браузера",
  websocket: "Связь с podpis: через локальный порт (WebSocket)",
};

// ensureClient connects to podpis once.
async function ensureClient() {
  if (client) return;
  // Where the browser will ask for local network access, connect asks
  // now, in this click, and says so first.
  client = await connect({ ports: (await config).ports, onPrompt: () => status(MESSAGES.PROMPT, "notice") });
  client.addEventListener("disconnected", () => status("Соединение с podpis прервано. Ожидание…", true));
  client.addEventListener("connected", () => status(""));
  client.addEventListener("notice", (e) => notice(e.detail));
  $("transport").textContent = TRANSPORTS[client.transport];
  $("transport").dataset.transport = client.transport;
  $("transport").hidden = false;
}

// purpose is what the chosen certificate is for: "login" (from the login
// screen), "link" (from the account page, «Привязать сертификат») or
// "stepup" (another service asked for a certificate inside this session:
// one linked to this account, account.Service.StepUp).
let purpose = "login";

// home is the screen a «Назад» returns to.
const home = () => (currentAccount() ? "done" : "login");

async function start(why = "login") {
  purpose = why;
  $("cert-refused").hidden = true;
  status("Поиск podpis…");
  try {
    await ensureClient();
    diagnose([]);
    const certs = await client.certificates().finally(noticeDone);
    status("");
    if (!certs.some((c) => !c.problems || c.problems.length === 0)) await explainWhy();
    list(certs);
  } catch (err) {
    if (client && ["NO_CERTIFICATES", "NO_PROVIDER", "PROVIDER_ERROR"].includes(err.code)) {
      show(home());
      status(explain(err), true);
      await explainWhy();
      return;
    }
    client = null;
    if (cannotReach(err)) return;
    show(home());
    status(explain(err), true);
  }
}

// notice shows what the agent needs the person to do for a request to go
// on (the agent's words; the heading from index.html for its code) until
// the request ends.
function notice(n) {
  const box = document.querySelector(`#notice[data-code="${n.code}"]`) || $("notice");
  $("notice-title").textContent = box.dataset.title;
  $("notice-text").textContent = n.message;
  box.hidden = false;
  // No window to type the PIN into has appeared: the spinner waits for
  // the person to open the question themselves.
  if (!$("working").hidden) $("working-text").textContent = "Ожидание ответа в окне podpis…";
}

function noticeDone() {
  $("notice").hidden = true;
}

// cannotReach shows why the page cannot reach the agent and what fixes it:
// the error's message (podpis.js's) and the steps in index.html for its
// code. False for other errors.
function cannotReach(err) {
  const fix = document.querySelector(`#no-agent .fix[data-code="${err.code}"]`);
  if (!fix) return false;
  for (const f of document.querySelectorAll("#no-agent .fix")) f.hidden = f !== fix;
  $("no-agent-title").textContent = fix.dataset.title;
  $("no-agent-text").textContent = err.message;
  if (err.detail && err.detail.version) {
    $("outdated-version").textContent = `Установлена версия ${err.detail.version} (протокол ${err.detail.protocol}), сайту нужен протокол ${PROTOCOL}.`;
  }
  $("open-top").href = location.href;
  status("");
  show("no-agent");
  return true;
}

// explainWhy shows what podpis doctor finds when there is nothing to sign
// with: no provider, a module that does not load, no token.
async function explainWhy() {
  try {
    const info = await client.info();
    const problems = (info.findings || []).filter((f) => f.severity === "problem");
    diagnose(problems);
    // The agent's finding says it with the cause and the fix: the status
    // line need not say «Не установлен криптопровайдер» a second time.
    if (problems.some((f) => f.title === $("status").textContent)) status("");
  } catch {
    // An older agent without findings: the status line has to do.
  }
}

function diagnose(findings) {
  const box = $("diagnosis");
  box.replaceChildren();
  for (const f of findings) {
    const p = document.createElement("p");
    const b = document.createElement("strong");
    b.textContent = f.title;
    p.append(b);
    for (const t of [f.cause, f.fix]) {
      if (!t) continue;
      p.append(document.createElement("br"), t);
    }
    box.append(p);
  }
  box.hidden = findings.length === 0;
}

const PROBLEMS = {
  EXPIRED: "Истёк срок действия",
  NOT_YET_VALID: "Срок действия ещё не наступил",
  NO_PRIVATE_KEY: "Нет закрытого ключа",
  KEY_USAGE: "Не предназначен для подписи",
  NEEDS_CSP: "Ключ в контейнере КриптоПро: установите КриптоПро CSP",
  TOKEN_LOCKED: "Токен заблокирован: PIN-код введён неверно слишком много раз. Разблокируйте его PIN-кодом администратора (PUK).",
};

function list(certs) {
  $("choose-title").textContent = purpose === "link" ? "Выберите сертификат для привязки"
    : purpose === "stepup" ? "Выберите сертификат, привязанный к вашей учётной записи" : "Выберите необходимый сертификат";
  const linked = new Set(((currentAccount() || {}).certificates || []).map((c) => c.thumbprint));
  const ul = $("cert-list");
  ul.replaceChildren();
  for (const c of certs) {
    const id = c.identity;
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "cert";
    const rows = [
      ["name", id.commonName || id.thumbprint],
      ["row", id.organization || ""],
      ["row", [id.inn && "ИНН " + id.inn, id.snils && "СНИЛС " + id.snils].filter(Boolean).join(" · ")],
      ["row", "Издатель: " + id.issuer],
      ["row", "Действителен с " + date(id.notBefore) + " по " + date(id.notAfter)],
    ];
    for (const [cls, text] of rows) {
      if (!text) continue;
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      b.append(span);
    }
    if (purpose === "link" && linked.has(id.thumbprint)) {
      b.disabled = true;
      b.classList.add("unusable");
      const span = document.createElement("span");
      span.className = "problem";
      span.textContent = "Уже привязан к этой учётной записи";
      b.append(span);
    } else if (purpose === "stepup" && !linked.has(id.thumbprint)) {
      // The server takes only the account's own certificates
      // (CERT_OTHER_ACCOUNT); the list says so before the PIN.
      b.disabled = true;
      b.classList.add("unusable");
      const span = document.createElement("span");
      span.className = "problem";
      span.textContent = "Не привязан к вашей учётной записи";
      b.append(span);
    } else if (c.problems && c.problems.length) {
      b.disabled = true;
      b.classList.add("unusable");
      const span = document.createElement("span");
      span.className = "problem";
      span.textContent = c.problems.map((p) => PROBLEMS[p] || p).join("; ");
      b.append(span);
    }
    b.addEventListener("click", () => (purpose === "link" ? link(c) : login(c)));
    li.append(b);
    ul.append(li);
  }
  show("choose");
}

// signChallenge has the agent sign a challenge the account service issued
// at path (a login challenge of this origin, whatever its purpose on the
// server) and returns the CMS.
async function signChallenge(cert, path) {
  const { challenge } = await call(path);
  pending = client.authenticate(cert.id, challenge);
  const { cms } = await pending.finally(noticeDone);
  pending = null;
  $("working-text").textContent = "Проверка подписи…";
  return cms;
}

// login: certificate login, which the account service allows only for a
// certificate linked to an account.
async function login(cert) {
  show("working");
  status("");
  try {
    const cms = await signChallenge(cert, "/api/account/login/certificate/challenge");
    const res = await call("/api/account/login/certificate", { cms, step_up: purpose === "stepup" });
    loggedIn(res.account, { cert: cert.identity.thumbprint });
  } catch (err) {
    pending = null;
    if (err.code === "CERT_NOT_LINKED" && purpose !== "stepup") return notLinked(cert, err);
    if (err.code === "CERT_RENEWED") return renewed(cert, err);
    show("choose");
    status(explain(err), true);
  } finally {
    $("working-text").textContent = "Введите PIN-код в окне podpis…";
  }
}

// notLinked: the certificate is good but belongs to no account; the login
// screen says so and how to link it.
function notLinked(cert, err) {
  show("login");
  $("cert-refused-title").textContent = "Сертификат не привязан к учётной записи";
  $("cert-refused-who").textContent = certLine(cert.identity);
  $("cert-refused-how").textContent = "Чтобы входить по сертификату, войдите по телефону или email и в Личном кабинете " +
    "нажмите «Привязать сертификат»: podpis попросит подписать запрос этим сертификатом.";
  $("renew-go").hidden = true;
  $("cert-refused").classList.remove("info");
  $("cert-refused").hidden = false;
  $("cert-refused").dataset.code = err.code;
  $("login-phone").focus();
}

// renewed: a new certificate of a person whose old one is linked (same
// SNILS, a trusted CA): linked only when the person says so.
function renewed(cert, err) {
  show("login");
  $("cert-refused-title").textContent = "Новый сертификат взамен привязанного";
  $("cert-refused-who").textContent = certLine(cert.identity);
  $("cert-refused-how").textContent = err.message;
  $("renew-go").hidden = false;
  $("renew-go").onclick = async () => {
    try {
      const res = await call("/api/account/login/certificate/confirm", { confirm: err.data.confirm });
      $("cert-refused").hidden = true;
      loggedIn(res.account, { cert: cert.identity.thumbprint });
    } catch (e) {
      status(explain(e), true);
    }
  };
  $("cert-refused").dataset.code = err.code;
  $("cert-refused").classList.add("info");
  $("cert-refused").hidden = false;
  $("renew-go").focus();
}

function certLine(id) {
  return [id.commonName, id.snils && "СНИЛС " + id.snils, "издатель " + id.issuer].filter(Boolean).join(", ");
}

// link: «Привязать сертификат» — the person signs a link challenge with
// the certificate, proving they hold its key.
async function link(cert) {
  show("working");
  $("working-title").textContent = "Привязка сертификата";
  status("");
  try {
    const cms = await signChallenge(cert, "/api/account/certificates/challenge");
    const res = await call("/api/account/certificates", { cms });
    await refreshAccount();
    show("done");
    status("Сертификат «" + (res.certificate.owner || cert.identity.commonName) + "» привязан: теперь по нему можно входить", "notice");
  } catch (err) {
    pending = null;
    if (err.code === "NOT_LOGGED_IN") return loggedOut(err.message);
    show("choose");
    status(explain(err), true);
  } finally {
    $("working-title").textContent = "Подписание";
    $("working-text").textContent = "Введите PIN-код в окне podpis…";
  }
}

// «Выпуск сертификата». The page checks what the person typed (the
// checksums of СНИЛС and ИНН) so that a typo is shown at its field; the
// agent checks all of it again before any key is made, and its
// INVALID_REQUEST names the field (err.detail.field).

const digits = (s) => s.replace(/[\s-]/g, "");

// snilsOK: the check number of СНИЛС (the last two digits) from the first
// nine, weighted 9…1, modulo 101 (100 and 101 give 00).
function snilsOK(v) {
  if (!/^\d{11}$/.test(v)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(v[i]) * (9 - i);
  const check = sum < 100 ? sum : sum % 101 === 100 ? 0 : sum % 101;
  return check === Number(v.slice(9));
}

// innOK: a person's ИНН, twelve digits with two check digits.
function innOK(v) {
  if (!/^\d{12}$/.test(v)) return false;
  const digit = (w) => (w.reduce((s, k, i) => s + k * Number(v[i]), 0) % 11) % 10;
  return digit([7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === Number(v[10]) && digit([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === Number(v[11]);
}

const fieldChecks = {
  SN: (v) => (v ? "" : "Укажите фамилию"),
  G: (v) => (v ? "" : "Укажите имя и отчество"),
  SNILS: (v) => (snilsOK(v) ? "" : "СНИЛС: 11 цифр с верным контрольным числом"),
  INN: (v) => (innOK(v) ? "" : "ИНН: 12 цифр с верными контрольными цифрами"),
  E: (v) => (!v || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? "" : "Адрес электронной почты указан неверно"),
};

// readForm returns the subject, or null after marking what is wrong.
function readForm() {
  const form = $("issue-form");
  const subject = {};
  let first = null;
  for (const input of form.querySelectorAll("input")) {
    let v = input.value.trim();
    if (input.inputMode === "numeric") v = digits(v);
    const check = fieldChecks[input.name];
    const bad = check ? check(v) : "";
    if (input.type !== "hidden") fieldError(input, bad);
    if (bad && !first) first = input;
    if (v) subject[input.name] = v;
  }
  if (first) {
    first.focus();
    return null;
  }
  // The owner's name as the certificate shows it: surname, then names.
  return { CN: subject.SN + " " + subject.G, ...subject };
}

async function issue(ev) {
  ev.preventDefault();
  status("");
  const subject = readForm();
  if (!subject) return;
  const algorithm = $("issue-form").elements.algorithm.value;
  try {
    await ensureClient();
  } catch (err) {
    client = null;
    if (!cannotReach(err)) status(explain(err), true);
    return;
  }
  show("working");
  $("working-title").textContent = "Выпуск сертификата";
  try {
    $("working-text").textContent = "Подтвердите создание ключа и введите PIN-код в окне podpis…";
    pending = client.createRequest({ algorithm, subject, label: subject.CN });
    const { request } = await pending.finally(noticeDone);
    $("working-text").textContent = "Удостоверяющий центр выпускает сертификат…";
    const { certificate } = await api("/api/issue", { request });
    $("working-text").textContent = "Подтвердите установку сертификата и введите PIN-код в окне podpis…";
    pending = client.installCertificate(certificate);
    const cert = await pending.finally(noticeDone);
    pending = null;
    $("working-title").textContent = "Подписание";
    // From the account page, the new certificate is linked to it at once;
    // from the login screen it is tried for a login, which says how to
    // link it.
    if (currentAccount()) {
      purpose = "link";
      status("Сертификат выпущен и записан на токен «" + cert.token + "». Привязка к учётной записи:", "notice");
      await link(cert);
    } else {
      status("Сертификат выпущен и записан на токен «" + cert.token + "». Вход с ним:", "notice");
      await login(cert);
    }
  } catch (err) {
    pending = null;
    $("working-title").textContent = "Подписание";
    show("issue");
    const field = err.detail && err.detail.field;
    const input = field && $("issue-form").querySelector(`input[name="${field}"]`);
    if (input) fieldError(input, err.message);
    status(explain(err), true);
  } finally {
    $("working-text").textContent = "Введите PIN-код в окне podpis…";
  }
}

// offerAlgorithms leaves in the form only the algorithms a token can make
// (info's keygen); with no agent yet, the form stays as it is and the
// agent answers NO_KEYGEN if it must.
async function offerAlgorithms() {
  try {
    await ensureClient();
    const offered = new Set((await client.info()).keygen.flatMap((k) => k.algorithms));
    const select = $("issue-form").elements.algorithm;
    for (const o of select.options) o.disabled = !offered.has(o.value);
    if (select.selectedOptions[0] && select.selectedOptions[0].disabled) {
      const first = [...select.options].find((o) => !o.disabled);
      if (first) select.value = first.value;
    }
    if (offered.size === 0) status("Ни один подключённый токен не умеет создавать ключи: подключите токен.", true);
  } catch {
    client = null;
  }
}

for (const id of ["to-issue", "to-issue-account"]) $(id).addEventListener("click", () => {
  status("");
  show("issue");
  offerAlgorithms();
});
$("issue-form").addEventListener("submit", issue);

// Documents: the logged-in person's certificate signs the chosen files.
// One file is streamed and signed with sign({file}); several go as one
// batch (one window listing each, one PIN). Each signature is offered as
// a .sig file (detached CMS, DER).
let signer = null;
let docsAbort = null;

// useSigner: the certificate documents are signed with (the one that
// logged in, else a valid linked one), or none.
function useSigner(cert) {
  signer = cert ? cert.thumbprint : null;
  $("doc-signer").textContent = cert ? "Подписывает: " + cert.owner + (cert.organization ? ", " + cert.organization : "")
    : "Привяжите сертификат, чтобы подписывать документы.";
  $("doc-sign").disabled = !signer || !$("doc-files").files.length;
}

function docsProgress(done, total, text) {
  $("doc-progress").hidden = false;
  $("doc-bar").max = total || 1;
  $("doc-bar").value = done;
  $("doc-progress-text").textContent = text;
}

function mb(n) {
  return (n / 1048576).toLocaleString("ru-RU", { maximumFractionDigits: 1 }) + " МБ";
}

function result(name, cms, error) {
  const li = document.createElement("li");
  const b = document.createElement("span");
  b.className = error ? "failed" : "ok";
  b.textContent = (error ? "Не подписан: " : "Подписан: ") + name;
  li.append(b);
  if (error) {
    li.append(" — " + explain(error));
  } else {
    const bytes = Uint8Array.from(atob(cms), (c) => c.charCodeAt(0));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([bytes], { type: "application/pkcs7-signature" }));
    a.download = name + ".sig";
    a.textContent = "скачать подпись (" + bytes.length + " байт)";
    li.append(" — ", a);
  }
  $("doc-results").append(li);
}

async function signDocuments() {
  const files = [...$("doc-files").files];
  if (!files.length || !signer) return;
  $("doc-results").replaceChildren();
  $("doc-sign").disabled = true;
  $("doc-cancel").hidden = false;
  docsAbort = new AbortController();
  const description = $("doc-desc").value;
  try {
    if (!client) {
      client = await connect({ ports: (await config).ports, onPrompt: () => status(MESSAGES.PROMPT, "notice") });
      client.addEventListener("notice", (e) => notice(e.detail));
    }
    if (files.length === 1) {
      const f = files[0];
      const { cms } = await client.sign({ certificate: signer, file: f, name: f.name, description, signal: docsAbort.signal,
        onProgress: (p) => docsProgress(p.sent, p.total, p.sent < p.total ? "Передано " + mb(p.sent) + " из " + mb(p.total)
          : "Подтвердите подпись в окне podpis…") }).finally(noticeDone);
      result(f.name, cms);
    } else {
      const results = await client.signBatch({ certificate: signer, description, signal: docsAbort.signal,
        documents: files.map((f) => ({ file: f, name: f.name })),
        onProgress: (p) => docsProgress(p.done, p.total, p.phase === "upload"
          ? "Передано файлов: " + p.done + " из " + p.total + (p.done === p.total ? ". Подтвердите подпись в окне podpis…" : "")
          : "Подписано: " + p.done + " из " + p.total) }).finally(noticeDone);
      results.forEach((r, i) => result(files[i].name, r.cms, r.error));
    }
    docsProgress(1, 1, "Готово");
  } catch (err) {
    status(explain(err), true);
    $("doc-progress").hidden = true;
  } finally {
    docsAbort = null;
    $("doc-sign").disabled = !signer || !$("doc-files").files.length;
    $("doc-cancel").hidden = true;
  }
}

$("doc-files").addEventListener("change", () => {
  $("doc-sign").disabled = !signer || !$("doc-files").files.length;
});
$("doc-sign").addEventListener("click", signDocuments);
$("doc-cancel").addEventListener("click", () => docsAbort && docsAbort.abort());

$("by-cert").addEventListener("click", () => start("login"));
$("retry").addEventListener("click", () => start(purpose));
$("cancel").addEventListener("click", () => {
  if (client && pending) client.cancel(pending).catch(() => {});
});
for (const b of document.querySelectorAll(".back")) b.addEventListener("click", () => {
  show(home());
  status("");
});

// ?oidc=ID: the provider sent the person here to log in for another
// service (docs/oidc.md); after any login — password, code, certificate,
// a step-up — the browser goes back to the provider's /oidc-login.
let oidcRequest = new URLSearchParams(location.search).get("oidc");

function backToService() {
  if (!oidcRequest) return false;
  location.assign("/oidc-login?request=" + encodeURIComponent(oidcRequest));
  return true;
}

// The services that log in through this account (podpis-demo serve
// --poa-url): a link each on the account page.
config.then(({ services }) => {
  for (const sv of services || []) {
    const a = document.createElement("a");
    a.className = "button";
    a.href = sv.url;
    a.textContent = sv.name;
    $("service-links").append(a);
  }
  $("services").hidden = !(services || []).length;
});

initAccount({ linkCertificate: () => start("link"), signer: useSigner, loggedIn: backToService });
if (!oidcRequest) startAccount();
else {
  fetch("/api/oidc/request?request=" + encodeURIComponent(oidcRequest))
    .then(async (r) => {
      const res = await r.json();
      if (!r.ok) {
        // Gone: a login here is a login to the cabinet only.
        oidcRequest = null;
        await startAccount();
        return status(res.message, true);
      }
      const name = res.client || "сервис";
      document.title = $("login-title").textContent = `Вход в «${name}»`;
      $("login-lead").textContent = `Войдите в Личный кабинет — после входа вы вернётесь в «${name}»`;
      $("login-lead").hidden = false;
      await startAccount();
      if (currentAccount() && res.certificate) {
        // Logged in without a certificate: the service wants one (step-up).
        await start("stepup");
        if (!$("choose").hidden) status(`«${name}» просит подтвердить вход сертификатом, привязанным к вашей учётной записи`, "notice");
        return;
      }
      // Not logged in, or the service asked for a fresh login.
      show("login");
    })
    .catch(() => startAccount());
}
