// The account screens: login by phone or e-mail and password, registration
// and its confirmation code, login by a one-time code, password reset, and
// the account page. They talk only to the account service's JSON API
// (docs/account.md); the agent's part (certificates) is app.js's.
import { $, show, status, fieldError, date, el, askUnlink } from "/demo/ui.js";
import { renderLinks, showOutcome, enableWays, initSSO } from "/demo/sso.js";

// --- The API ---------------------------------------------------------------

let csrf = "";

// loadState fetches the CSRF token (and sets the pre-session cookie it is
// bound to) and the account of the session, if any.
export async function loadState() {
  const r = await fetch("/api/account/state", { cache: "no-store" });
  const data = await r.json();
  csrf = data.csrf || "";
  return data;
}

// call posts body to the account API. The token changes with the session:
// a login in another tab makes this page's stale, and the server refuses
// it (CSRF) without doing anything, so the page fetches the new one and
// makes the call once more. Any other refusal is thrown with its stable
// code and the server's Russian message.
export async function call(path, body) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try {
      data = await r.json();
    } catch {
      // Not the account service's answer (a proxy's page): said below.
    }
    if (r.ok) {
      if (data.csrf) csrf = data.csrf;
      return data;
    }
    if (data.code === "CSRF" && attempt === 0) {
      await loadState();
      continue;
    }
    const e = new Error(data.message || "Сервис временно недоступен. Попробуйте позже.");
    Object.assign(e, { code: data.code || "UNAVAILABLE", field: data.field, retryAfter: data.retryAfter, triesLeft: data.triesLeft, data });
    throw e;
  }
}

// --- Phone mask ---------------------------------------------------------------

// phoneDigits: the ten digits of a Russian number after +7, from what the
// person typed or pasted: our own mask, 8 916 …, +7 916 …, 916 ….
export function phoneDigits(v) {
  let d = v.replace(/\D/g, "");
  if (/^\s*\+7/.test(v)) d = d.slice(1);
  else if (/^[78]/.test(d) && (d.length === 1 || d.length === 11)) d = d.slice(1);
  return d.slice(0, 10);
}

// formatPhone writes digits as +7 (916) 123-45-67, no separator after the
// last digit, so that Backspace removes a digit and not a bracket the mask
// puts back.
export function formatPhone(d) {
  if (!d) return "";
  let s = "+7 (" + d.slice(0, 3);
  if (d.length > 3) s += ") " + d.slice(3, 6);
  if (d.length > 6) s += "-" + d.slice(6, 8);
  if (d.length > 8) s += "-" + d.slice(8, 10);
  return s;
}

function maskPhone(input) {
  input.addEventListener("input", () => {
    // Keep the caret after the same digit it followed.
    const before = input.value.slice(0, input.selectionStart ?? input.value.length);
    const digitsBefore = phoneDigits(before).length;
    const formatted = formatPhone(phoneDigits(input.value));
    input.value = formatted;
    let pos = formatted.length;
    if (digitsBefore < phoneDigits(formatted).length) {
      let seen = 0;
      for (let i = 4; i < formatted.length; i++) {
        if (/\d/.test(formatted[i]) && ++seen === digitsBefore) {
          pos = i + 1;
          break;
        }
      }
    }
    input.setSelectionRange(pos, pos);
  });
}

// --- Forms ------------------------------------------------------------------

const emailRE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

// by: "phone" or "email", which the form asks for.
const by = (form) => form.querySelector(".by").dataset.by;

function setBy(form, which) {
  const box = form.querySelector(".by");
  box.dataset.by = which;
  box.querySelector(".field-phone").hidden = which !== "phone";
  box.querySelector(".field-email").hidden = which !== "email";
  box.querySelector(".by-switch").textContent = which === "phone" ? "По email" : "По телефону";
}

function formError(form, text) {
  form.querySelector(".form-error").textContent = text || "";
}

function clearErrors(form) {
  formError(form, "");
  for (const i of form.querySelectorAll("input[aria-invalid=true]")) fieldError(i, "");
}

// contact reads the phone or e-mail of form, or marks it and returns null.
function contact(form) {
  if (by(form) === "phone") {
    const input = form.elements.phone;
    const d = phoneDigits(input.value);
    if (d.length !== 10) {
      fieldError(input, d.length ? "Номер указан не полностью: нужно 10 цифр после +7" : "Укажите номер телефона");
      return null;
    }
    fieldError(input, "");
    return { phone: "+7" + d };
  }
  const input = form.elements.email;
  const v = input.value.trim();
  if (!emailRE.test(v)) {
    fieldError(input, v ? "Адрес электронной почты указан неверно" : "Укажите адрес электронной почты");
    return null;
  }
  fieldError(input, "");
  return { email: v };
}

function password(form, name, fresh) {
  const input = form.elements[name];
  const v = input.value;
  const bad = !v ? "Укажите пароль" : fresh && [...v].length < 8 ? "Пароль должен быть не короче 8 символов" : "";
  fieldError(input, bad);
  return bad ? null : v;
}

// refused shows err at its field (the server names it) or for the form.
function refused(form, err) {
  const input = err.field && form.elements[err.field];
  if (input && input.offsetParent !== null) {
    fieldError(input, err.message);
    input.focus();
  } else {
    formError(form, err.message);
  }
}

function focusFirstInvalid(form) {
  const bad = form.querySelector("input[aria-invalid=true]");
  if (bad) bad.focus();
}

// busy disables a form's button while its request is on the way: one
// press, one request.
async function busy(form, fn) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}

// --- The code step (registration, code login, reset) -------------------------

// flow is the step the code confirms: kind "register", "code" or "reset",
// and the server's Pending.
let flow = null;
let timer = 0;

const CONFIRM = {
  register: {
    title: (p) => (p.channel === "email" ? "Подтвердите email" : "Подтвердите телефон"),
    back: "← Вернуться к началу регистрации",
    path: "/api/account/confirm",
    submit: "Подтвердить",
  },
  code: { title: () => "Введите код", back: "← Вернуться ко входу", path: "/api/account/code/login", submit: "Войти" },
  reset: { title: () => "Новый пароль", back: "← Вернуться ко входу", path: "/api/account/reset/confirm", submit: "Сохранить пароль и войти" },
};

function startConfirm(kind, pending) {
  flow = { kind, ...pending };
  const c = CONFIRM[kind];
  const form = $("confirm-form");
  form.reset();
  clearErrors(form);
  $("confirm-title").textContent = c.title(pending);
  $("sent-to").textContent = pending.sentTo;
  $("confirm-back").textContent = c.back;
  $("confirm-go").textContent = c.submit;
  form.querySelector(".new-password").hidden = kind !== "reset";
  form.elements.password.required = kind === "reset";
  codeUsable(true);
  countdown(pending.resendAfter ?? 60);
  status("");
  show("confirm");
}

function codeUsable(ok) {
  $("confirm-code").disabled = !ok;
  $("confirm-go").disabled = !ok;
}

// countdown shows «Отправить повторно через N» for the seconds the server
// gave, then the button. The number is not read out every second
// (aria-live off); the button's appearance is.
function countdown(seconds) {
  clearInterval(timer);
  const until = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    $("resend-wait").hidden = left <= 0;
    $("resend").hidden = left > 0;
    if (left > 0) $("resend-seconds").textContent = String(left);
    else clearInterval(timer);
  };
  tick();
  timer = setInterval(tick, 250);
}

async function confirmCode(ev) {
  ev.preventDefault();
  const form = $("confirm-form");
  clearErrors(form);
  const code = form.elements.code.value.replace(/\D/g, "");
  if (code.length !== 6) {
    fieldError(form.elements.code, "Код — 6 цифр из сообщения");
    form.elements.code.focus();
    return;
  }
  const body = { pending: flow.pending, code };
  if (flow.kind === "reset") {
    const p = password(form, "password", true);
    if (!p) return focusFirstInvalid(form);
    body.password = p;
  }
  try {
    const res = await busy(form, () => call(CONFIRM[flow.kind].path, body));
    clearInterval(timer);
    const kind = flow.kind;
    const channel = flow.channel;
    flow = null;
    if (kind === "register") {
      account = res.account;
      $("confirmed-title").textContent = channel === "email" ? "Email подтверждён!" : "Телефон подтвержден!";
      show("confirmed");
      return;
    }
    loggedIn(res.account, { how: kind === "reset" ? "Пароль изменён" : "" });
  } catch (err) {
    if (err.code === "CODE_LOCKED" || err.code === "CODE_EXPIRED") {
      // This code is dead: only a new one helps.
      codeUsable(false);
      formError(form, /новый код/.test(err.message) ? err.message : err.message + " Запросите новый код.");
      if (!$("resend").hidden) $("resend").focus();
      return;
    }
    if (err.code === "WRONG_CODE") {
      form.elements.code.value = "";
      fieldError(form.elements.code, err.message);
      form.elements.code.focus();
      return;
    }
    refused(form, err);
  }
}

async function resend() {
  const form = $("confirm-form");
  clearErrors(form);
  try {
    const p = await call("/api/account/resend", { pending: flow.pending });
    Object.assign(flow, p);
    $("sent-to").textContent = p.sentTo;
    form.elements.code.value = "";
    codeUsable(true);
    countdown(p.resendAfter ?? 60);
    formError(form, "");
    status("Новый код отправлен на " + p.sentTo, "notice");
    form.elements.code.focus();
  } catch (err) {
    if (err.retryAfter) countdown(err.retryAfter);
    formError(form, err.message);
  }
}

// --- Login, registration, code, reset ------------------------------------------

async function loginByPassword(ev) {
  ev.preventDefault();
  const form = $("login-form");
  clearErrors(form);
  const who = contact(form);
  const p = password(form, "password", false);
  if (!who || !p) return focusFirstInvalid(form);
  try {
    const res = await busy(form, () => call("/api/account/login", { ...who, password: p }));
    form.reset();
    loggedIn(res.account, {});
  } catch (err) {
    form.elements.password.value = "";
    refused(form, err);
  }
}

async function register(ev) {
  ev.preventDefault();
  const form = $("register-form");
  clearErrors(form);
  const who = contact(form);
  const p = password(form, "password", true);
  if (!who || !p) return focusFirstInvalid(form);
  try {
    const pending = await busy(form, () => call("/api/account/register", { ...who, password: p }));
    startConfirm("register", pending);
  } catch (err) {
    refused(form, err);
  }
}

// askCode's form serves «У меня есть код» (kind "code") and «Забыли
// пароль?» (kind "reset").
let askKind = "code";
const ASK = {
  code: { title: "Вход по коду", lead: "Отправим одноразовый код для входа на телефон или email вашей учётной записи.", path: "/api/account/code" },
  reset: { title: "Восстановление пароля", lead: "Отправим код на телефон или email вашей учётной записи; с ним вы зададите новый пароль.", path: "/api/account/reset" },
};

function openAsk(kind) {
  askKind = kind;
  const form = $("ask-code-form");
  clearErrors(form);
  // Carry over what the person already typed on the login form.
  const login = $("login-form");
  setBy(form, by(login));
  form.elements.phone.value = login.elements.phone.value;
  form.elements.email.value = login.elements.email.value;
  $("ask-code-title").textContent = ASK[kind].title;
  $("ask-code-lead").textContent = ASK[kind].lead;
  status("");
  show("ask-code");
}

async function askCode(ev) {
  ev.preventDefault();
  const form = $("ask-code-form");
  clearErrors(form);
  const who = contact(form);
  if (!who) return focusFirstInvalid(form);
  try {
    const pending = await busy(form, () => call(ASK[askKind].path, who));
    startConfirm(askKind, pending);
  } catch (err) {
    refused(form, err);
  }
}

// --- The account page ----------------------------------------------------------

let account = null;
// loginCert is the thumbprint of the certificate this session logged in
// with (the page knows it; the session's amr only says "a key"). Kept for
// a reload of the page.
let loginCert = remembered();
let hooks = { linkCertificate: () => {}, signer: () => {} };

// remembered and remember keep loginCert in sessionStorage, which a page
// framed by another site may be denied (third-party storage blocked):
// then a reload forgets which certificate logged in, nothing worse.
function remembered() {
  try {
    return sessionStorage.getItem("podpis-login-cert");
  } catch {
    return null;
  }
}

function remember(thumbprint) {
  try {
    if (thumbprint) sessionStorage.setItem("podpis-login-cert", thumbprint);
    else sessionStorage.removeItem("podpis-login-cert");
  } catch {
    // See remembered.
  }
}

export function currentAccount() {
  return account;
}

// loggedIn shows the account after any login; cert is the thumbprint of
// the certificate that logged in, if one did.
export function loggedIn(acc, { cert, how } = {}) {
  account = acc;
  loginCert = cert || null;
  remember(loginCert);
  // Logging in for another service (OpenID Connect): app.js sends the
  // browser back to the provider.
  if (hooks.loggedIn && hooks.loggedIn()) return;
  renderAccount();
  show("done");
  if (how) status(how, "notice");
}

export async function refreshAccount() {
  const r = await fetch("/api/account/me", { cache: "no-store" });
  if (!r.ok) return null;
  account = await r.json();
  renderAccount();
  return account;
}

const AMR = [
  [["hwk"], "по сертификату"],
  [["otp", "sms"], "по коду из SMS"],
  [["otp", "email"], "по коду из письма"],
  [["pwd"], "по паролю"],
  [["esia"], "через Госуслуги"],
  [["telegram"], "через Telegram"],
];

function how(session) {
  const amr = (session && session.amr) || [];
  const found = AMR.find(([want]) => want.every((m) => amr.includes(m)));
  return found ? found[1] : "";
}

function dlRows(dl, rows) {
  dl.replaceChildren();
  for (const [k, v] of rows) {
    if (!v) continue;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  dl.hidden = !dl.children.length;
}

// browserName: the browser and system from a User-Agent, for the list of
// sessions («Chrome, Linux»).
function browserName(ua) {
  if (!ua) return "Неизвестный браузер";
  const b = /Edg\//.test(ua) ? "Edge" : /YaBrowser/.test(ua) ? "Яндекс Браузер" : /Firefox\//.test(ua) ? "Firefox"
    : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Браузер";
  const os = /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS"
    : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? b + ", " + os : b;
}

function dateTime(s) {
  return new Date(s).toLocaleString("ru-RU", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function renderAccount() {
  const acc = account;
  const certs = acc.certificates || [];
  const current = (acc.sessions || []).find((s) => s.current);
  const byCert = loginCert && certs.find((c) => c.thumbprint === loginCert);
  const linkedName = ((acc.links || []).find((l) => l.name) || {}).name;
  const name = byCert ? byCert.owner : acc.phoneDisplay || acc.email || linkedName || "владелец учётной записи";
  $("who").textContent = name;
  $("avatar").textContent = (byCert ? byCert.owner : "").split(" ").slice(0, 2).map((w) => w[0]).join("") || "ЛК";
  $("who-how").textContent = [current && "Вход " + how(current), current && "с " + dateTime(current.created)].filter(Boolean).join(" ");
  dlRows($("who-details"), byCert
    ? [["Организация", byCert.organization], ["ИНН", byCert.inn], ["ИНН ЮЛ", byCert.innle], ["СНИЛС", byCert.snils],
      ["ОГРН", byCert.ogrn], ["Издатель", byCert.issuer], ["Действителен до", date(byCert.notAfter)], ["Отпечаток", byCert.thumbprint]]
    : []);
  $("login-cert").hidden = !byCert;

  const ul = $("linked");
  ul.replaceChildren();
  for (const c of certs) ul.append(certItem(c));
  $("linked-empty").hidden = certs.length > 0;
  renderLinks(acc);

  dlRows($("contacts"), [
    ["Телефон", acc.phoneDisplay || (acc.phone ? formatPhone(phoneDigits(acc.phone)) : "не указан")],
    ["Email", acc.email || "не указан"],
    ["Учётная запись создана", acc.created && date(acc.created)],
  ]);

  const sl = $("sessions");
  sl.replaceChildren();
  // This browser first, then the most recently active.
  const sessions = [...(acc.sessions || [])].sort((a, b) => (b.current - a.current) || (new Date(b.lastSeen) - new Date(a.lastSeen)));
  for (const s of sessions) sl.append(sessionItem(s));

  hooks.signer(byCert || certs.find((c) => new Date(c.notAfter) > new Date()) || null);
}

function certItem(c) {
  const li = el("li", "linked-cert");
  li.dataset.thumbprint = c.thumbprint;
  const text = el("div", "linked-text");
  text.append(el("span", "name", c.owner || c.thumbprint));
  if (c.organization) text.append(el("span", "row", c.organization));
  const ids = [c.snils && "СНИЛС " + c.snils, c.inn && "ИНН " + c.inn, c.innle && "ИНН ЮЛ " + c.innle].filter(Boolean).join(" · ");
  if (ids) text.append(el("span", "row", ids));
  text.append(el("span", "row", "Издатель: " + c.issuer));
  const expired = new Date(c.notAfter) < new Date();
  text.append(el("span", "row" + (expired ? " problem" : ""), (expired ? "Истёк " : "Действителен с " + date(c.notBefore) + " по ") + date(c.notAfter)));
  li.append(text);
  const actions = el("div", "linked-actions");
  const unlink = el("button", "unlink", "Отвязать");
  unlink.type = "button";
  unlink.setAttribute("aria-label", "Отвязать сертификат " + (c.owner || c.thumbprint));
  unlink.addEventListener("click", () => askCertUnlink(li, c));
  actions.append(unlink);
  li.append(actions);
  return li;
}

// askCertUnlink asks once more in place: an unlinked certificate no
// longer logs in.
function askCertUnlink(li, c) {
  askUnlink(li, "Отвязать? Вход по этому сертификату станет невозможен.", () => renderAccount(), async () => {
    await call(`/api/account/certificates/${encodeURIComponent(c.id)}/unlink`);
    await refreshAccount();
    status("Сертификат «" + (c.owner || c.thumbprint) + "» отвязан", "notice");
    $("certs-title").focus();
  });
}

function sessionItem(s) {
  const li = el("li", "session" + (s.current ? " current" : ""));
  const text = el("div", "linked-text");
  const title = el("span", "name", browserName(s.userAgent));
  if (s.current) title.append(" ", el("span", "badge", "этот сеанс"));
  text.append(title);
  text.append(el("span", "row", ["Вход " + how(s), s.address && "адрес " + s.address].filter(Boolean).join(" · ")));
  text.append(el("span", "row", "Открыт " + dateTime(s.created) + " · активность " + dateTime(s.lastSeen)));
  li.append(text);
  if (!s.current) {
    const end = el("button", "", "Завершить");
    end.type = "button";
    end.setAttribute("aria-label", "Завершить сеанс: " + browserName(s.userAgent));
    end.addEventListener("click", async () => {
      try {
        await call(`/api/account/sessions/${encodeURIComponent(s.id)}/logout`);
        await refreshAccount();
        $("sessions-title").focus();
      } catch (err) {
        status(err.message, true);
      }
    });
    li.append(end);
  }
  return li;
}

export function loggedOut(text) {
  account = null;
  loginCert = null;
  remember(null);
  show("login");
  status(text || "", text ? "notice" : undefined);
}

// --- Wiring ------------------------------------------------------------------------

// initAccount wires the screens; linkCertificate is app.js's (the agent),
// signer tells app.js which certificate signs documents.
export function initAccount(h) {
  hooks = { ...hooks, ...h };
  for (const input of document.querySelectorAll("input[type=tel]")) maskPhone(input);
  for (const b of document.querySelectorAll(".by-switch")) {
    b.addEventListener("click", () => {
      const form = b.closest("form");
      setBy(form, by(form) === "phone" ? "email" : "phone");
      clearErrors(form);
      form.elements[by(form)].focus();
    });
  }
  for (const b of document.querySelectorAll(".reveal")) {
    b.addEventListener("click", () => {
      const input = b.parentElement.querySelector("input");
      const shown = input.type === "password";
      input.type = shown ? "text" : "password";
      b.setAttribute("aria-pressed", String(shown));
      b.textContent = shown ? "Скрыть" : "Показать";
      b.setAttribute("aria-label", shown ? "Скрыть пароль" : "Показать пароль");
    });
  }
  initSSO();
  $("login-form").addEventListener("submit", loginByPassword);
  $("register-form").addEventListener("submit", register);
  $("ask-code-form").addEventListener("submit", askCode);
  $("confirm-form").addEventListener("submit", confirmCode);
  $("resend").addEventListener("click", resend);
  $("confirm-code").addEventListener("input", (e) => {
    e.target.value = e.target.value.replace(/\D/g, "").slice(0, 6);
  });
  $("confirm-back").addEventListener("click", () => {
    clearInterval(timer);
    status("");
    show(flow && flow.kind === "register" ? "register" : "login");
    flow = null;
  });
  $("to-register").addEventListener("click", () => {
    status("");
    show("register");
  });
  for (const b of document.querySelectorAll(".to-login")) b.addEventListener("click", () => {
    status("");
    show("login");
  });
  $("to-code").addEventListener("click", () => openAsk("code"));
  $("to-reset").addEventListener("click", () => openAsk("reset"));
  $("to-account").addEventListener("click", () => loggedIn(account, {}));
  $("link-cert").addEventListener("click", () => hooks.linkCertificate());
  $("logout").addEventListener("click", async () => {
    try {
      await call("/api/account/logout");
      loggedOut("Вы вышли из Личного кабинета");
    } catch (err) {
      status(err.message, true);
    }
  });
  $("logout-all").addEventListener("click", async () => {
    try {
      await call("/api/account/sessions/logout-all");
      loggedOut("Вы вышли на всех устройствах");
    } catch (err) {
      status(err.message, true);
    }
  });
  // The outbox (make run): the codes that would have gone by SMS or mail.
  fetch("/outbox", { method: "HEAD" })
    .then((r) => {
      $("outbox-link").hidden = !r.ok;
      $("outbox-hint").hidden = !r.ok;
    })
    .catch(() => {});
}

// startAccount shows the session's account, or the login form.
export async function startAccount() {
  try {
    const st = await loadState();
    enableWays(st.sso);
    if (st.account) {
      account = st.account;
      renderAccount();
      show("done");
    }
    showOutcome(st.ssoResult, !!st.account);
  } catch {
    status("Сервис учётных записей недоступен. Обновите страницу позже.", true);
  }
}
