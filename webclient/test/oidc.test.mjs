// A service logging people in through the demo's OpenID Connect provider
// (idp at /oidc/), in headless Chromium: the browser goes to the
// provider, the demo's page says which service it is logging in to, the
// person logs in by certificate through the real agent, and the browser
// lands back at the service with a code the service exchanges (PKCE S256)
// for an ID token with the certificate's claims. A second visit is single
// sign-on. Run after `make build`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { bin, shots, procs, freePort, start, launchChromium, agentPrompts } from "../testing/harness.mjs";

const SECRET = "dover-secret-0123456789";
let browser, data, demo, service, server, prompts;

// The service «Доверенность» reduced to its OpenID Connect client: /cb
// exchanges the code and shows whose session it is.
function startService(port, verifiers) {
  server = http.createServer(async (req, res) => {
    const u = new URL(req.url, `http://127.0.0.1:${port}`);
    if (u.pathname !== "/cb") return res.writeHead(404).end();
    const state = u.searchParams.get("state");
    const token = await fetch(`${demo}/oidc/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Basic " + Buffer.from(`dover:${SECRET}`).toString("base64") },
      body: new URLSearchParams({ grant_type: "authorization_code", code: u.searchParams.get("code") || "",
        redirect_uri: `${service}/cb`, code_verifier: verifiers.get(state) || "" }),
    }).then((r) => r.json());
    if (!token.id_token) {
      res.writeHead(401, { "Content-Type": "text/plain; charset=utf-8" }).end(`refused: ${JSON.stringify(token)}`);
      return;
    }
    // The signature is the provider's test's business (idp, with go-oidc
    // and zitadel's rp); here the page shows what the token says.
    const claims = JSON.parse(Buffer.from(token.id_token.split(".")[1], "base64url").toString());
    const rows = [["СНИЛС", claims.snils], ["Организация", claims.organization], ["Должность", claims.title],
      ["ИНН ЮЛ", claims.inn_le], ["Вход", claims.acr === "urn:podpis:acr:certificate" ? "по сертификату" : claims.acr]].map(([k, v]) => `<dt>${k}</dt><dd>${v ?? "—"}</dd>`).join("");
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(`<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>Доверенность</title><link rel="stylesheet" href="${demo}/demo/style.css"></head><body>
<header><span class="logo">◆</span> Доверенность</header><main><section>
<h1 id="who">Вы вошли как ${claims.name}</h1><p class="lead">через Личный кабинет</p>
<dl class="details">${rows}</dl></section></main></body></html>`);
  });
  return new Promise((r) => server.listen(port, "127.0.0.1", r));
}

// authorizeURL is the service's authorization request; the verifier is
// kept by state.
function authorizeURL(verifiers, extra = {}) {
  const state = randomBytes(12).toString("base64url");
  const verifier = randomBytes(32).toString("base64url");
  verifiers.set(state, verifier);
  const q = new URLSearchParams({ response_type: "code", client_id: "dover", redirect_uri: `${service}/cb`,
    scope: "openid profile certificate", state, nonce: randomBytes(12).toString("base64url"),
    code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256", ...extra });
  return `${demo}/oidc/authorize?${q}`;
}

const verifiers = new Map();

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-oidc-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  mkdirSync(path.join(data, "agent"));
  prompts = agentPrompts(data);
  const [demoPort, agentPort, servicePort] = [await freePort(), await freePort(), await freePort()];
  demo = `http://127.0.0.1:${demoPort}`;
  service = `http://127.0.0.1:${servicePort}`;
  writeFileSync(path.join(data, "clients.json"), JSON.stringify([{ id: "dover", name: "Доверенность", secret: SECRET,
    redirect_uris: [`${service}/cb`], post_logout_redirect_uris: [`${service}/`] }]));
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${demoPort}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(agentPort),
    "--oidc-clients", path.join(data, "clients.json")], {}, /Откройте/);
  await start(bin("podpis"), ["run", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", demo],
  prompts.env, /listening on/);
  await startService(servicePort, verifiers);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
  for (const p of procs) p.kill("SIGINT");
  if (data) rmSync(data, { recursive: true, force: true });
});

test("a service logs in through the provider by certificate, then by single sign-on", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  await page.goto(authorizeURL(verifiers, { acr_values: "urn:podpis:acr:certificate" }));
  // The provider sent the browser to the demo's page, which names the service.
  await page.waitForSelector("text=Вход в «Доверенность»");
  assert.match(page.url(), /\/\?oidc=/);
  assert.match(await page.textContent("#login .lead"), /вернётесь в «Доверенность»/);
  await page.screenshot({ path: path.join(shots, "oidc-01-login-for-service.png") });

  await page.click("#by-cert");
  await page.waitForSelector("#choose:not([hidden])");
  await page.click(".cert:has-text('Петрова')");
  const pin = await context.newPage();
  await pin.goto(await prompts.next());
  await pin.waitForSelector("main form");
  await pin.fill("#pin", "1234");
  await new Promise((r) => setTimeout(r, 1200)); // the agent refuses an approval within a second of loading
  await pin.click('button[value="sign"]');
  await pin.waitForSelector("text=Готово");
  await pin.close();

  // Back at the service, which got the certificate's claims.
  await page.waitForURL(`${service}/cb?**`);
  await page.waitForSelector("#who");
  assert.match(await page.textContent("#who"), /Вы вошли как Петрова Мария Сергеевна/);
  const details = await page.textContent("dl");
  assert.match(details, /98765432082/);
  assert.match(details, /ООО «Ромашка»/);
  assert.match(details, /по сертификату/); // acr: a certificate login
  await page.screenshot({ path: path.join(shots, "oidc-02-service-logged-in.png") });

  // Single sign-on: the next request goes straight back to the service.
  await page.goto(authorizeURL(verifiers));
  await page.waitForURL(`${service}/cb?**`);
  assert.match(await page.textContent("#who"), /Петрова Мария Сергеевна/);
  await context.close();
});

test("an unknown or expired request says so on the demo's page", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${demo}/?oidc=no-such-request`);
  await page.waitForSelector(".status.error");
  assert.match(await page.textContent("#status"), /Запрос входа не найден или устарел/);
  await page.screenshot({ path: path.join(shots, "oidc-03-request-expired.png") });
  await context.close();
});
