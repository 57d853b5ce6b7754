// The demo login page: finds the agent, lets the person choose a
// certificate, has the agent sign the server's challenge and sends the
// result to the server, which verifies it with the Go package verify.
import { connect, PodpisError, MESSAGES, PROTOCOL } from "/podpis.js";

const $ = (id) => document.getElementById(id);
const sections = ["login", "no-agent", "choose", "working", "done"];
let client = null;
let pending = null;
// The site's settings (which ports the agent may listen on). start waits
// for them: a person quick enough to press «Войти» first would otherwise
// probe the default ports and be told podpis is missing.
const config = fetch("/api/config")
  .then((r) => r.json())
  .catch(() => ({}));

function show(id) {
  for (const s of sections) $(s).hidden = s !== id;
  const h = $(id).querySelector("h1");
  if (h) {
    h.tabIndex = -1;
    h.focus();
  }
}

// status: kind true marks an error, "notice" what the person is about to
// be asked.
function status(text, kind) {
  $("status").textContent = text || "";
  $("status").className = "status" + (kind === true ? " error" : kind ? " " + kind : "");
}

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

async function start() {
  status("Поиск podpis…");
  try {
    if (!client) {
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
    diagnose([]);
    const certs = await client.certificates().finally(noticeDone);
    status("");
    if (!certs.some((c) => !c.problems || c.problems.length === 0)) await explainWhy();
    list(certs);
  } catch (err) {
    if (client && ["NO_CERTIFICATES", "NO_PROVIDER", "PROVIDER_ERROR"].includes(err.code)) {
      show("login");
      status(explain(err), true);
      await explainWhy();
      return;
    }
    client = null;
    if (cannotReach(err)) return;
    show("login");
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

function date(s) {
  return new Date(s).toLocaleDateString("ru-RU");
}

function list(certs) {
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
    if (c.problems && c.problems.length) {
      b.disabled = true;
      b.classList.add("unusable");
      const span = document.createElement("span");
      span.className = "problem";
      span.textContent = c.problems.map((p) => PROBLEMS[p] || p).join("; ");
      b.append(span);
    }
    b.addEventListener("click", () => login(c));
    li.append(b);
    ul.append(li);
  }
  show("choose");
}

async function login(cert) {
  show("working");
  status("");
  try {
    const { challenge } = await api("/api/challenge");
    pending = client.authenticate(cert.id, challenge);
    const { cms } = await pending.finally(noticeDone);
    pending = null;
    $("working-text").textContent = "Проверка подписи…";
    const res = await api("/api/login", { cms });
    welcome(res.identity);
  } catch (err) {
    pending = null;
    show("choose");
    status(explain(err), true);
  } finally {
    $("working-text").textContent = "Введите PIN-код в окне podpis…";
  }
}

function welcome(id) {
  signer = id.thumbprint;
  $("who").textContent = id.commonName;
  const dl = $("who-details");
  dl.replaceChildren();
  for (const [k, v] of [
    ["Организация", id.organization],
    ["ИНН", id.inn],
    ["ИНН ЮЛ", id.innle],
    ["СНИЛС", id.snils],
    ["ОГРН", id.ogrn],
    ["Эл. почта", id.email],
    ["Сертификат", id.thumbprint],
  ]) {
    if (!v) continue;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  show("done");
}

// Documents: the logged-in person's certificate signs the chosen files.
// One file is streamed and signed with sign({file}); several go as one
// batch (one window listing each, one PIN). Each signature is offered as
// a .sig file (detached CMS, DER).
let signer = null;
let docsAbort = null;

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
    $("doc-sign").disabled = !$("doc-files").files.length;
    $("doc-cancel").hidden = true;
  }
}

$("doc-files").addEventListener("change", () => {
  $("doc-sign").disabled = !$("doc-files").files.length;
});
$("doc-sign").addEventListener("click", signDocuments);
$("doc-cancel").addEventListener("click", () => docsAbort && docsAbort.abort());

$("by-cert").addEventListener("click", start);
$("retry").addEventListener("click", start);
$("cancel").addEventListener("click", () => {
  if (client && pending) client.cancel(pending).catch(() => {});
});
$("logout").addEventListener("click", async () => {
  await api("/api/logout");
  show("login");
});
for (const b of document.querySelectorAll(".back")) b.addEventListener("click", () => {
  show("login");
  status("");
});

fetch("/api/me")
  .then((r) => (r.ok ? r.json() : null))
  .then((me) => {
    if (me && me.identity) welcome(me.identity);
  })
  .catch(() => {});
