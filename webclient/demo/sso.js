// Госуслуги and Telegram: the «или авторизуйтесь через» buttons of the
// login page and the «Госуслуги и Telegram» card of the account page.
// The URLs come from the account service's state (docs/account.md), each
// bound to this browser's CSRF token; they are fetched afresh before each
// use, since the token changes with every login and logout. What happened
// comes back in the next state's ssoResult: the page's address never
// carries a message.
import { $, status, date, el, askUnlink } from "/demo/ui.js";
import { loadState, call, refreshAccount, currentAccount } from "/demo/account.js";

const NAMES = { esia: "Госуслуги", telegram: "Telegram" };

// offer is the state's sso object, or {} when the site has neither.
async function offer() {
  const st = await loadState();
  return st.sso || {};
}

// mountWidget draws the Telegram Login Widget into slot: its script tag
// with the bot and the auth URL, as Telegram documents it (a script
// inserted by code runs; one given as HTML would not).
function mountWidget(slot, way, purpose) {
  slot.replaceChildren();
  const s = document.createElement("script");
  s.async = true;
  s.src = way.script;
  s.dataset.telegramLogin = way.bot;
  s.dataset.size = "large";
  s.dataset.authUrl = way[purpose];
  slot.append(s);
}

// enableWays turns on the login page's buttons of the providers the site
// has; the others stay off, saying so.
export function enableWays(sso) {
  for (const p of ["esia", "telegram"]) {
    const b = $("by-" + p);
    const on = !!(sso && sso[p]);
    b.disabled = !on;
    if (!on) b.querySelector(".way-note").textContent = "Не подключено на этом сайте";
  }
}

// A login for another service (?oidc=ID, docs/oidc.md) leaves for
// Госуслуги or Telegram and comes back to "/": the request's id waits in
// sessionStorage (this tab only) and the page goes on to the provider
// after a login that succeeded.
const OIDC_KEY = "podpis-sso-oidc";

function rememberReturn() {
  const id = new URLSearchParams(location.search).get("oidc");
  try {
    if (id) sessionStorage.setItem(OIDC_KEY, id);
    else sessionStorage.removeItem(OIDC_KEY);
  } catch {
    // Storage denied (a framed page): the login is the cabinet's only.
  }
}

function takeReturn() {
  try {
    const id = sessionStorage.getItem(OIDC_KEY);
    sessionStorage.removeItem(OIDC_KEY);
    return id;
  } catch {
    return null;
  }
}

async function loginBy(provider) {
  rememberReturn();
  try {
    const sso = await offer();
    const way = sso[provider];
    if (!way) throw new Error(NAMES[provider] + ": вход сейчас недоступен. Обновите страницу.");
    if (provider === "esia") {
      status("Переход на Госуслуги…", "notice");
      location.assign(way.login);
      return;
    }
    const box = $("tg-login");
    const open = box.hidden;
    box.hidden = !open;
    $("by-telegram").setAttribute("aria-expanded", String(open));
    if (open) mountWidget(box.querySelector(".tg-slot"), way, "login");
  } catch (err) {
    status(err.message, true);
  }
}

// showOutcome tells what the last Госуслуги/Telegram login or link did:
// a refused login in the box above the login form, the rest in the
// status line.
export function showOutcome(res, loggedIn) {
  if (!res) return;
  const back = takeReturn();
  if (res.ok && res.purpose === "login" && back) {
    location.assign("/oidc-login?request=" + encodeURIComponent(back));
    return;
  }
  if (res.ok || loggedIn) {
    status(res.message, res.ok ? "notice" : true);
    return;
  }
  $("sso-refused-title").textContent = NAMES[res.provider] ? "Вход через " + NAMES[res.provider] + " не выполнен" : "Вход не выполнен";
  $("sso-refused-text").textContent = res.message;
  $("sso-refused").dataset.code = res.code || "";
  $("sso-refused").hidden = false;
}

// renderLinks fills the account page's card: each provider, linked
// (name, date, «Отвязать») or not («Привязать»).
export function renderLinks(acc) {
  const ul = $("ext-links");
  ul.replaceChildren();
  for (const p of ["esia", "telegram"]) {
    const link = (acc.links || []).find((l) => l.provider === p);
    ul.append(linkItem(p, link));
  }
}

const ICONS = {
  esia: '<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><path d="M3 10 12 4l9 6M5 10v8M9.5 10v8M14.5 10v8M19 10v8M3 20h18"/></svg>',
  telegram: '<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><path d="M21 4 3 11l6 2.5L11 20l3.5-4.5L19 19z"/><path d="m9 13.5 12-9.5"/></svg>',
};

function linkItem(provider, link) {
  const li = el("li", "linked-cert ext " + provider);
  li.dataset.provider = provider;
  const icon = el("span", "ext-icon");
  icon.setAttribute("aria-hidden", "true");
  icon.innerHTML = ICONS[provider];
  const text = el("div", "linked-text");
  text.append(el("span", "name", NAMES[provider]));
  if (link) text.append(el("span", "row", [link.name, "привязано " + date(link.linked)].filter(Boolean).join(" · ")));
  else text.append(el("span", "row off", "Не привязано"));
  const actions = el("div", "linked-actions");
  const b = el("button", link ? "" : "primary", link ? "Отвязать" : "Привязать");
  b.type = "button";
  b.setAttribute("aria-label", (link ? "Отвязать " : "Привязать ") + NAMES[provider]);
  b.addEventListener("click", () => (link ? askLinkUnlink(li, provider) : linkTo(li, provider)));
  actions.append(b);
  li.append(icon, text, actions);
  return li;
}

async function linkTo(li, provider) {
  try {
    const way = (await offer())[provider];
    if (!way || !way.link) throw new Error(NAMES[provider] + ": привязка сейчас недоступна. Обновите страницу.");
    if (provider === "esia") {
      status("Переход на Госуслуги…", "notice");
      location.assign(way.link);
      return;
    }
    let box = li.querySelector(".tg-widget");
    if (!box) {
      box = el("div", "tg-widget");
      box.append(el("p", "muted small", "Нажмите кнопку и подтвердите вход в Telegram: он будет привязан к этой учётной записи."), el("div", "tg-slot"));
      li.append(box);
    }
    mountWidget(box.querySelector(".tg-slot"), way, "link");
  } catch (err) {
    status(err.message, true);
  }
}

// askLinkUnlink asks once more in place, as for a certificate.
function askLinkUnlink(li, provider) {
  askUnlink(li, "Отвязать? Вход через " + NAMES[provider] + " станет невозможен.", () => renderLinks(currentAccount()), async () => {
    await call(`/api/account/links/${provider}/unlink`);
    await refreshAccount();
    status(NAMES[provider] + (provider === "esia" ? " отвязаны" : " отвязан"), "notice");
    $("ext-title").focus();
  });
}

export function initSSO() {
  $("by-esia").addEventListener("click", () => loginBy("esia"));
  $("by-telegram").addEventListener("click", () => loginBy("telegram"));
  // Another way of logging in hides an old refusal.
  for (const id of ["login-form", "by-cert"]) {
    $(id).addEventListener(id === "login-form" ? "submit" : "click", () => ($("sso-refused").hidden = true), true);
  }
}
