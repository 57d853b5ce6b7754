// Госуслуги and Telegram in the account service, end to end in headless
// Chromium: the demo page against bin/podpis-demo, whose ESIA and
// Telegram are sso/ssodemo's stand-ins (the ESIA stand-in checks the
// CMS client_secret with OpenSSL's GOST engine, not with podpis's code).
// A person links both from the account page, logs out, logs in by each,
// unlinks, and is told how to link when the unlinked identity is used;
// then the refusals: a callback with a wrong state, a replayed callback,
// stale widget data, a tampered client_secret. Run after `make build`;
// screenshots go to $ARTIFACTS as sso-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { bin, shots, procs, freePort, start, launchChromium } from "../testing/harness.mjs";

let browser, data, demo, seeded, service, server;

// A service logging in through the demo's OpenID Connect provider: /cb
// exchanges the code (PKCE) and shows the ID token's name and amr.
const SECRET = "sso-service-secret-0123456789";
const verifiers = new Map();
function startService(port) {
  server = http.createServer(async (req, res) => {
    const u = new URL(req.url, service);
    if (u.pathname !== "/cb") return res.writeHead(404).end();
    const token = await fetch(`${demo}/oidc/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Basic " + Buffer.from(`svc:${SECRET}`).toString("base64") },
      body: new URLSearchParams({ grant_type: "authorization_code", code: u.searchParams.get("code") || "", redirect_uri: `${service}/cb`,
        code_verifier: verifiers.get(u.searchParams.get("state")) || "" }),
    }).then((r) => r.json());
    if (!token.id_token) return res.writeHead(401, { "Content-Type": "text/plain; charset=utf-8" }).end(`refused: ${JSON.stringify(token)}`);
    const claims = JSON.parse(Buffer.from(token.id_token.split(".")[1], "base64url").toString());
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(`<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>Сервис</title><link rel="stylesheet" href="${demo}/demo/style.css"></head><body>
<header><span class="logo">◆</span> Сервис</header><main><section>
<h1 id="who">Вы вошли: ${claims.sub}</h1><p class="lead">через Личный кабинет</p>
<dl class="details"><dt>amr</dt><dd id="amr">${(claims.amr || []).join(" ")}</dd></dl></section></main></body></html>`);
  });
  return new Promise((r) => server.listen(port, "127.0.0.1", r));
}

function authorizeURL() {
  const state = randomUUID();
  const verifier = randomUUID() + randomUUID();
  verifiers.set(state, verifier);
  const q = new URLSearchParams({ response_type: "code", client_id: "svc", redirect_uri: `${service}/cb`, scope: "openid profile",
    state, nonce: randomUUID(), code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256" });
  return `${demo}/oidc/authorize?${q}`;
}

// The stand-in bot's token, given to podpis-demo so that the test can sign
// widget data itself (stale data, which the stand-in never sends).
const BOT_TOKEN = "100200300:" + "sso-test-" + "x".repeat(30);

// The person the stand-ins log in (sso/esia/esiastand's and
// telegramstand's made-up people).
const TG_NAME = "Анна Смирнова";

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-sso-e2e-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  seeded = JSON.parse(readFileSync(path.join(data, "demo-account.json"), "utf8"));
  writeFileSync(path.join(data, "bot-token"), BOT_TOKEN + "\n", { mode: 0o600 });
  const [port, servicePort] = [await freePort(), await freePort()];
  demo = `http://127.0.0.1:${port}`;
  service = `http://127.0.0.1:${servicePort}`;
  writeFileSync(path.join(data, "clients.json"), JSON.stringify([{ id: "svc", name: "Сервис", secret: SECRET,
    redirect_uris: [`${service}/cb`], post_logout_redirect_uris: [`${service}/`] }]));
  await startService(servicePort);
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${port}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--telegram-token-file", path.join(data, "bot-token"), "--oidc-clients", path.join(data, "clients.json")], {}, /Откройте/);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
  const exits = procs.filter((p) => p.exitCode === null).map((p) => new Promise((r) => p.once("exit", r)));
  for (const p of procs) p.kill("SIGINT");
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000))]);
  if (data) rmSync(data, { recursive: true, force: true });
});

// --- Helpers ---------------------------------------------------------------------

async function shot(page, name, narrow = true) {
  const size = page.viewportSize();
  await page.screenshot({ path: path.join(shots, `sso-${name}.png`), fullPage: true });
  if (!narrow) return;
  await page.setViewportSize({ width: 360, height: 780 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, `«${name}» scrolls sideways at 360 px`);
  await page.screenshot({ path: path.join(shots, `sso-${name}-360px.png`), fullPage: true });
  await page.setViewportSize(size);
}

async function loginByPassword(page) {
  await page.goto(demo);
  await page.waitForSelector("#login:not([hidden])");
  await page.click("#login-form .by-switch");
  await page.fill("#login-email", seeded.email);
  await page.fill("#login-password", seeded.password);
  await page.click("#login-go");
  await page.waitForSelector("#done:not([hidden])");
}

async function logout(page) {
  await page.click("#logout");
  await page.waitForSelector("#login:not([hidden])");
}

const row = (page, provider) => page.locator(`#ext-links li[data-provider="${provider}"]`);

// throughESIA presses «Войти» on the ESIA stand-in's page.
async function throughESIA(page, shotName) {
  await page.waitForSelector("form[action='/aas/oauth2/ac/confirm']");
  if (shotName) await shot(page, shotName, false);
  await page.click("button.allow");
}

// throughTelegram presses the widget's button, then «Подтвердить» on the
// Telegram stand-in's page.
async function throughTelegram(page, slot, shotName) {
  await page.click(`${slot} button.tg-login`);
  await page.waitForSelector("button.accept");
  if (shotName) await shot(page, shotName, false);
  await page.click("button.accept");
}

async function loginState(page) {
  return page.evaluate(async () => (await (await fetch("/api/account/state")).json()));
}

// signWidget signs fields as Telegram does: HMAC-SHA-256 of the sorted
// data-check-string, keyed by SHA-256 of the bot token.
function signWidget(fields) {
  const check = Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join("\n");
  const key = createHash("sha256").update(BOT_TOKEN).digest();
  return { ...fields, hash: createHmac("sha256", key).update(check).digest("hex") };
}

async function refusedWith(page, text, provider) {
  await page.waitForSelector("#sso-refused:not([hidden])");
  if (provider) assert.equal(await page.textContent("#sso-refused-title"), `Вход через ${provider} не выполнен`);
  const got = await page.textContent("#sso-refused");
  assert.ok(got.includes(text), `the refusal says «${got}», want «${text}»`);
  assert.equal(await page.isVisible("#done"), false, "logged in anyway");
}

// --- The tests -----------------------------------------------------------------------

test("link Госуслуги and Telegram from the account page", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(demo);
  await page.waitForSelector("#login:not([hidden])");
  assert.equal(await page.isEnabled("#by-esia"), true, "Госуслуги is off");
  assert.equal(await page.isEnabled("#by-telegram"), true, "Telegram is off");
  await shot(page, "01-login");

  await loginByPassword(page);
  assert.match(await row(page, "esia").textContent(), /Не привязано/);
  await shot(page, "02-account-unlinked");

  await row(page, "esia").getByRole("button", { name: "Привязать Госуслуги" }).click();
  await throughESIA(page, "03-esia-stand");
  await page.waitForSelector("#done:not([hidden])");
  assert.match(await page.textContent("#status"), /Госуслуги привязаны/);
  assert.match(await row(page, "esia").textContent(), /Иванов|привязано/);
  assert.match(await row(page, "esia").textContent(), /Отвязать/);

  await row(page, "telegram").getByRole("button", { name: "Привязать Telegram" }).click();
  await page.waitForSelector('#ext-links li[data-provider="telegram"] button.tg-login');
  await shot(page, "04-telegram-widget");
  await throughTelegram(page, '#ext-links li[data-provider="telegram"]', "05-telegram-stand");
  await page.waitForSelector("#done:not([hidden])");
  assert.match(await page.textContent("#status"), /Telegram привязан/);
  assert.ok((await row(page, "telegram").textContent()).includes(TG_NAME));
  await shot(page, "06-account-linked");
  await context.close();
});

test("log out, log in by Госуслуги and by Telegram: the account, «Вход через …»", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(demo);
  await page.waitForSelector("#login:not([hidden])");
  await page.click("#by-esia");
  await throughESIA(page);
  await page.waitForSelector("#done:not([hidden])");
  assert.match(await page.textContent("#who-how"), /Вход через Госуслуги/);
  assert.match(await page.textContent("#status"), /Вы вошли через Госуслуги/);
  assert.ok((await page.textContent("#contacts")).includes(seeded.email), "another account");
  await shot(page, "07-logged-in-esia");
  await logout(page);

  await page.click("#by-telegram");
  await page.waitForSelector("#tg-login:not([hidden]) button.tg-login");
  await shot(page, "08-login-telegram-widget");
  await throughTelegram(page, "#tg-login");
  await page.waitForSelector("#done:not([hidden])");
  assert.match(await page.textContent("#who-how"), /Вход через Telegram/);
  assert.match(await page.textContent("#sessions"), /Вход через Telegram/);
  await context.close();
});

test("unlink Telegram; its login then says how to link it", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await loginByPassword(page);
  await row(page, "telegram").getByRole("button", { name: "Отвязать Telegram" }).click();
  await row(page, "telegram").getByRole("button", { name: "Отвязать", exact: true }).click();
  await page.waitForFunction(() => /Не привязано/.test(document.querySelector('#ext-links li[data-provider="telegram"]').textContent));
  assert.match(await page.textContent("#status"), /Telegram отвязан/);
  await logout(page);

  await page.click("#by-telegram");
  await throughTelegram(page, "#tg-login");
  await refusedWith(page, "Войдите по телефону или email и привяжите Telegram в Личном кабинете", "Telegram");
  await shot(page, "09-telegram-not-linked");
  await context.close();
});

test("refused: an ESIA callback with another state", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // The stand-in's answer to «Войти» is a redirect to the callback:
  // the redirect is rewritten to carry another state.
  await page.route((u) => u.pathname === "/aas/oauth2/ac/confirm", async (route) => {
    const res = await route.fetch({ maxRedirects: 0 });
    const u = new URL(res.headers().location);
    u.searchParams.set("state", randomUUID());
    await route.fulfill({ response: res, headers: { ...res.headers(), location: u.href } });
  });
  await page.goto(demo);
  await page.click("#by-esia");
  await throughESIA(page);
  await refusedWith(page, "Ответ Госуслуг относится к другому входу", "Госуслуги");
  await shot(page, "10-esia-wrong-state", false);
  await context.close();
});

test("refused: an ESIA callback replayed with its cookie", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  let callback, pending;
  await page.route((u) => u.pathname === "/aas/oauth2/ac/confirm", async (route) => {
    const res = await route.fetch({ maxRedirects: 0 });
    callback = res.headers().location;
    pending = (await context.cookies()).find((c) => c.name === "podpis_esia");
    await route.fulfill({ response: res });
  });
  await page.goto(demo);
  await page.click("#by-esia");
  await throughESIA(page);
  await page.waitForSelector("#done:not([hidden])");
  assert.ok(callback && pending, "the callback and its cookie were not seen");
  await logout(page);
  // The attacker's replay: the same callback, the login's cookie put back.
  await context.addCookies([pending]);
  await page.goto(callback);
  await refusedWith(page, "уже использован");
  await shot(page, "11-esia-replayed", false);
  await context.close();
});

test("refused: Telegram widget data older than five minutes", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(demo);
  await page.waitForSelector("#login:not([hidden])");
  const st = await loginState(page);
  const fields = signWidget({ id: "7001002003", first_name: "Анна", auth_date: String(Math.floor(Date.now() / 1000) - 3600) });
  await page.goto(st.sso.telegram.login + "?" + new URLSearchParams(fields));
  await refusedWith(page, "устарели", "Telegram");
  await shot(page, "12-telegram-expired", false);
  // The same data signed now is taken: the refusal was the age alone.
  const fresh = signWidget({ id: "7001002003", first_name: "Анна", auth_date: String(Math.floor(Date.now() / 1000)) });
  const st2 = await loginState(page);
  await page.goto(st2.sso.telegram.login + "?" + new URLSearchParams(fresh));
  await refusedWith(page, "Telegram не привязан");
  await context.close();
});

test("refused: a tampered client_secret, by the ESIA stand-in (OpenSSL)", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // Our start answers with a redirect to ESIA carrying client_secret:
  // one character of the signature is changed on the way.
  await page.route((u) => u.pathname.startsWith("/sso/esia/login/"), async (route) => {
    const res = await route.fetch({ maxRedirects: 0 });
    const u = new URL(res.headers().location);
    const secret = u.searchParams.get("client_secret");
    const i = secret.length - 12;
    u.searchParams.set("client_secret", secret.slice(0, i) + (secret[i] === "A" ? "B" : "A") + secret.slice(i + 1));
    await route.fulfill({ response: res, headers: { ...res.headers(), location: u.href } });
  });
  await page.goto(demo);
  await page.click("#by-esia");
  await page.waitForLoadState();
  await page.waitForFunction(() => /invalid_client/.test(document.body.textContent));
  const text = await page.textContent("body");
  assert.match(text, /Вход невозможен/);
  assert.match(text, /client_secret does not verify/);
  await shot(page, "13-esia-tampered-secret", false);
  await context.close();
});

test("a service logs in through the provider by Госуслуги: back at the service, amr esia", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(authorizeURL());
  await page.waitForSelector("#login:not([hidden])");
  assert.match(page.url(), /\/\?oidc=/);
  await page.click("#by-esia");
  await throughESIA(page);
  await page.waitForURL(`${service}/cb?**`);
  assert.equal(await page.textContent("#amr"), "esia");
  await shot(page, "14-service-by-esia", false);
  await context.close();
});
