// «Доверенность»: the head of an organisation, logged in by certificate,
// fills in a power of attorney; the server builds the EMCHD_1 XML, podpis
// signs it detached, the server checks the signature and that the signer
// is the head named in it, and the page offers both files.
import { connect, MESSAGES } from "./podpis.js";

const $ = (id) => document.getElementById(id);
const sections = ["loading", "need-login", "not-principal", "form-section", "working", "signed"];
let session = null;
let client = null;
let pending = null;

function show(id) {
  for (const s of sections) $(s).hidden = s !== id;
  const h = $(id).querySelector("h1");
  if (h) {
    h.tabIndex = -1;
    h.focus();
  }
}

function status(text, kind) {
  $("status").textContent = text || "";
  $("status").className = "status" + (kind === true ? " error" : kind ? " " + kind : "");
}

// api: the server's words come with its errors (code, message, field);
// the page keeps no table of its own.
async function api(path, body) {
  const r = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json();
  if (!r.ok) {
    const e = new Error(data.message || "Ошибка сервера");
    Object.assign(e, { code: data.code, field: data.field, status: r.status, login: data.login });
    throw e;
  }
  return data;
}

// The checksums, so that a typo shows at its field at once; the server
// checks all of it again (package poa).
const digits = (s) => s.replace(/[\s-]/g, "");

function snilsOK(v) {
  if (!/^\d{11}$/.test(v)) return false;
  if (v.slice(0, 9) <= "001001998") return true;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(v[i]) * (9 - i);
  if (sum > 101) sum %= 101;
  if (sum === 100 || sum === 101) sum = 0;
  return sum === Number(v.slice(9));
}

function innOK(v) {
  if (!/^\d{12}$/.test(v)) return false;
  const digit = (w) => (w.reduce((s, k, i) => s + k * Number(v[i]), 0) % 11) % 10;
  return digit([7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === Number(v[10]) && digit([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === Number(v[11]);
}

const checks = {
  "principal.kpp": (v) => (/^\d{4}[\dA-Z]{2}\d{3}$/.test(v) ? "" : "КПП: 9 знаков, 5-й и 6-й — цифры или заглавные латинские буквы"),
  "representative.surname": (v) => (v ? "" : "Укажите фамилию"),
  "representative.name": (v) => (v ? "" : "Укажите имя"),
  "representative.snils": (v) => (snilsOK(digits(v)) ? "" : "СНИЛС: 11 цифр с верным контрольным числом"),
  "representative.inn": (v) => (innOK(digits(v)) ? "" : "ИНН: 12 цифр с верными контрольными цифрами"),
  issued: (v) => (!v ? "Укажите дату выдачи" : v < session.today ? "Дата выдачи — не раньше сегодняшнего дня" : ""),
  expires: (v, f) => (!v ? "Укажите срок действия" : v < f.elements.issued.value ? "Срок действия — не раньше даты выдачи" : ""),
};

function fieldError(name, text) {
  if (name === "powers" || name === "text") {
    $("powers-error").textContent = text;
    return;
  }
  const input = $("poa-form").elements[name];
  if (!input) return false;
  let note = input.parentElement.querySelector(".field-error");
  if (!note) {
    note = document.createElement("span");
    note.className = "field-error";
    input.after(note);
  }
  note.textContent = text;
  input.setAttribute("aria-invalid", text ? "true" : "false");
  return true;
}

// readForm returns the request, or null after marking what is wrong.
function readForm() {
  const f = $("poa-form");
  let first = null;
  for (const [name, check] of Object.entries(checks)) {
    const input = f.elements[name];
    const bad = check(input.value.trim(), f);
    fieldError(name, bad);
    if (bad && !first) first = input;
  }
  const powers = [...f.querySelectorAll('input[name="power"]:checked')].map((c) => c.value);
  const text = f.elements.text.value.trim();
  const noPowers = powers.length === 0 && !text;
  fieldError("powers", noPowers ? "Выберите полномочия из классификатора или опишите их текстом" : "");
  if (noPowers && !first) first = f.querySelector('input[name="power"]');
  if (first) {
    first.focus();
    return null;
  }
  const v = (n) => f.elements[n].value.trim();
  return {
    kpp: v("principal.kpp"),
    representative: {
      surname: v("representative.surname"), name: v("representative.name"), patronymic: v("representative.patronymic"),
      snils: digits(v("representative.snils")), inn: digits(v("representative.inn")), title: v("representative.title"),
    },
    powers, text, issued: v("issued"), expires: v("expires"),
  };
}

function details(dl, rows) {
  dl.replaceChildren();
  for (const [k, v] of rows) {
    if (!v) continue;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

const fullName = (p) => [p.surname, p.name, p.patronymic].filter(Boolean).join(" ");
const snils = (s) => (s && s.length === 11 ? `${s.slice(0, 3)}-${s.slice(3, 6)}-${s.slice(6, 9)} ${s.slice(9)}` : s);
const ruDate = (s) => s.split("-").reverse().join(".");

function addYear(day) {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

function fillForm() {
  const p = session.principal;
  details($("principal"), [
    ["Организация", p.name],
    ["ИНН ЮЛ", p.innle],
    ["ОГРН", p.ogrn],
    ["Руководитель", fullName(p.head)],
    ["Должность", p.head.title],
    ["СНИЛС", snils(p.head.snils)],
    ["ИНН", p.head.inn],
  ]);
  const box = $("powers");
  box.replaceChildren();
  for (const pw of session.powers) {
    const label = document.createElement("label");
    label.className = "power";
    const c = document.createElement("input");
    c.type = "checkbox";
    c.name = "power";
    c.value = pw.code;
    const name = document.createElement("span");
    name.textContent = pw.name;
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = pw.code;
    label.append(c, name, code);
    box.append(label);
  }
  const f = $("poa-form");
  f.elements.issued.value = session.today;
  f.elements.issued.min = session.today;
  f.elements.expires.value = addYear(session.today);
  f.elements.expires.min = session.today;
  $("cades-note").textContent =
    session.cades === "t" || session.cades === "xl1"
      ? `Формат подписи: CAdES-${session.cades === "t" ? "T" : "X Long Type 1"}, штамп времени: ${session.tsa}`
      : "Формат подписи: CAdES-BES, откреплённая.";
}

// findSigners lists the certificates podpis offers, the one the person
// logged in with first and chosen.
async function findSigners() {
  const select = $("signer");
  try {
    client = await connect({ ports: session.ports, onPrompt: () => status(MESSAGES.PROMPT, "notice") });
    const certs = await client.certificates();
    select.replaceChildren();
    for (const c of certs) {
      const o = document.createElement("option");
      o.value = c.id;
      const id = c.identity;
      o.textContent = [id.commonName, id.organization, id.snils && "СНИЛС " + snils(id.snils)].filter(Boolean).join(" · ");
      o.disabled = !!(c.problems && c.problems.length);
      o.selected = id.thumbprint === session.identity.thumbprint;
      select.append(o);
    }
    select.disabled = false;
    status("");
  } catch (err) {
    client = null;
    select.replaceChildren(new Option("podpis не найден"));
    status(err.message, true);
  }
}

// refused shows why the server or the agent refused, at the top of the
// form the person is returned to, filled in as it was.
function refused(text) {
  show("form-section");
  const box = $("form-error");
  box.textContent = text;
  box.hidden = false;
  box.focus();
  box.scrollIntoView({ block: "center" });
}

async function signPOA(ev) {
  ev.preventDefault();
  status("");
  $("form-error").hidden = true;
  const req = readForm();
  if (!req) return;
  if (!client) {
    await findSigners();
    if (!client) return;
  }
  const certificate = $("signer").value;
  let built;
  try {
    built = await api("api/build", req);
  } catch (err) {
    // A field of the form: beside it; anything else (the principal as
    // the certificate names it, the session): above the form.
    if (!err.field || fieldError(err.field, err.message) === false) refused(err.message);
    return;
  }
  show("working");
  try {
    const xml = Uint8Array.from(atob(built.xml), (c) => c.charCodeAt(0));
    // CAdES-T and X Long Type 1 (issue 25): the site's format and TSA go
    // with the request as they are; the agent makes CAdES-BES without them.
    const cades = session.cades && session.cades !== "bes" ? { cades: session.cades, tsa: session.tsa } : {};
    pending = client.sign({ certificate, file: xml, name: built.fileName, description: `Машиночитаемая доверенность на имя ${fullName(req.representative)}`, ...cades });
    const { cms } = await pending;
    pending = null;
    $("working-text").textContent = "Проверка подписи…";
    const res = await api("api/check", { xml: built.xml, signature: cms });
    signed(res, xml, cms);
  } catch (err) {
    pending = null;
    refused(err.message);
  } finally {
    $("working-text").textContent = "Подтвердите подписание и введите PIN-код в окне podpis…";
  }
}

function signed(res, xml, cms) {
  details($("summary"), [
    ["Номер", res.id],
    ["Доверитель", `${res.principal.name}, ИНН ${res.principal.innle}`],
    ["Представитель", `${fullName(res.representative)}, СНИЛС ${snils(res.representative.snils)}`],
    ["Полномочия", [...res.powers.map((p) => p.name), res.text].filter(Boolean).join("; ")],
    ["Срок действия", `с ${ruDate(res.issued)} по ${ruDate(res.expires)}`],
    ["Подписал", `${res.signer.commonName}, ${res.signer.title || "руководитель"}`],
  ]);
  const sig = Uint8Array.from(atob(cms), (c) => c.charCodeAt(0));
  const link = (id, label, bytes, type, name) => {
    const a = $(id);
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([bytes], { type }));
    a.download = name;
    $(label).textContent = name;
  };
  link("download-xml", "xml-name", xml, "application/xml", res.fileName);
  link("download-sig", "sig-name", sig, "application/pkcs7-signature", res.signatureName);
  $("verify-command").textContent = `podpis verify --roots корневые.pem --intermediates промежуточные.pem --content ${res.fileName} ${res.signatureName}`;
  show("signed");
}

$("poa-form").addEventListener("submit", signPOA);
$("poa-form").addEventListener("input", (ev) => {
  if (ev.target.getAttribute("aria-invalid") === "true") fieldError(ev.target.name, "");
});
$("cancel").addEventListener("click", () => {
  if (client && pending) client.cancel(pending).catch(() => {});
});
$("again").addEventListener("click", () => {
  $("poa-form").reset();
  $("form-error").hidden = true;
  fillForm();
  show("form-section");
});

async function start() {
  try {
    session = await api("api/session");
  } catch (err) {
    if (err.status === 401) {
      $("login-link").href = err.login || "/";
      show("need-login");
    } else {
      show("need-login");
      status(err.message, true);
    }
    return;
  }
  if (!session.principal) {
    $("not-principal-text").textContent = session.notPrincipal;
    document.querySelector(".login-again").href = session.login;
    show("not-principal");
    return;
  }
  fillForm();
  show("form-section");
  findSigners();
}

start();
