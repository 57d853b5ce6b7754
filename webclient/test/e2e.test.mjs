// End to end in headless Chromium (Debian's, driven by playwright-core):
// the demo login page against the real agent (bin/podpis, soft token) and
// the real demo server (bin/podpis-demo, package verify). Run after
// `make build`; screenshots of each state go to $ARTIFACTS (default
// test/screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bin, shots, procs, freePort, start, signThenCancel, launchChromium, agentPrompts, settle } from "../testing/harness.mjs";


let browser, data, demo, other, agentPort, prompts;

async function startDemo(agentPort) {
  const port = await freePort();
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${port}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(agentPort)], {}, /Откройте/);
  return `http://127.0.0.1:${port}`;
}

let agentProc;
async function startAgent() {
  // DISPLAY unset: no dialogs, so the agent asks through its own page,
  // which it "opens" by running the recorder script.
  agentProc = await start(bin("podpis"), ["run", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", demo], prompts.env, /listening on/);
  return agentProc;
}

// nextPrompt waits for the agent to open a prompt and returns the URL of
// what it opened: a file of the person's that forwards to the question
// (the question's own address never appears in the opener's argv).
async function nextPrompt() {
  const url = await prompts.next();
  assert.ok(!url.includes("/prompt/"), `the opener was given the question's address: ${url}`);
  return url;
}

// openPrompt opens the next prompt as the person's browser would: the
// forwarding file, then the question it leads to.
async function openPrompt(context) {
  const url = await nextPrompt();
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector("main form");
  return page;
}

async function answerPIN(context, pin) {
  const page = await openPrompt(context);
  await page.screenshot({ path: path.join(shots, "05-agent-pin-page.png") });
  await page.fill("#pin", pin);
  await settle();
  await page.click('button[value="sign"]');
  await page.waitForSelector("text=Готово");
  await page.close();
}

async function approveDocument(context) {
  const page = await openPrompt(context);
  assert.match(await page.textContent("main"), /просит подписать документ/);
  await settle();
  await page.click('button[value="sign"]');
  await page.waitForSelector("text=Готово");
  await page.close();
}

async function newPage(width = 1024) {
  const context = await browser.newContext({ locale: "ru-RU", ignoreHTTPSErrors: true, viewport: { width, height: 800 } });
  return { context, page: await context.newPage() };
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-e2e-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  mkdirSync(path.join(data, "agent"));
  prompts = agentPrompts(data);
  agentPort = await freePort();
  demo = await startDemo(agentPort);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs) p.kill("SIGINT");
  if (data) rmSync(data, { recursive: true, force: true });
});

test("login by certificate, from «Отсутствует соединение» to «Вы вошли как»", async () => {
  const { context, page } = await newPage();
  await page.goto(demo);
  await assert.doesNotReject(page.waitForSelector("text=Вход в Личный кабинет"));
  await page.screenshot({ path: path.join(shots, "01-login.png") });

  // No agent yet.
  await page.click("#by-cert");
  await page.waitForSelector("#no-agent:not([hidden])");
  assert.match(await page.textContent("#no-agent h1"), /Отсутствует соединение с podpis/);
  await page.screenshot({ path: path.join(shots, "02-no-agent.png") });

  // The person starts podpis and presses «Обновить».
  await startAgent();
  await page.click("#retry");
  await page.waitForSelector("#choose:not([hidden])");
  assert.match(await page.textContent("#choose h1"), /Выберите необходимый сертификат/);
  const cards = await page.$$eval(".cert", (bs) => bs.map((b) => ({ text: b.textContent, disabled: b.disabled })));
  assert.equal(cards.length, 3);
  const expired = cards.find((c) => c.text.includes("Сидоров"));
  assert.ok(expired.disabled && expired.text.includes("Истёк срок действия"), "the expired certificate is offered");
  assert.ok(cards.find((c) => c.text.includes("ООО «Ромашка»") && c.text.includes("ИНН 500100732259")));
  await page.screenshot({ path: path.join(shots, "03-choose.png") });

  // A wrong PIN: the agent's page says so and asks again, on the same
  // question; the token counts one try, and nothing retries it.
  await page.click(".cert:has-text('Иванов')");
  await page.waitForSelector("#working:not([hidden])");
  await page.screenshot({ path: path.join(shots, "04-waiting-for-pin.png") });
  const pinPage = await openPrompt(context);
  await pinPage.screenshot({ path: path.join(shots, "05-agent-pin-page.png") });
  await pinPage.fill("#pin", "0000");
  await settle();
  await pinPage.click('button[value="sign"]');
  await pinPage.waitForSelector("text=Неверный PIN-код");
  assert.doesNotMatch(await pinPage.textContent("main"), /Готово/);
  await pinPage.screenshot({ path: path.join(shots, "06-wrong-pin.png") });
  const state = JSON.parse(readFileSync(path.join(data, "softtoken", ".pin-state"), "utf8"));
  assert.equal(state.failures, 1, "one wrong PIN moves the counter once");
  assert.ok(await page.isVisible("#working"), "the site still waits for the person");

  // The right PIN, typed into the same page, logs in with the right name and INN.
  await pinPage.fill("#pin", "1234");
  await settle();
  await pinPage.click('button[value="sign"]');
  await pinPage.waitForSelector("text=Готово");
  await pinPage.close();
  await page.waitForSelector("#done:not([hidden])");
  assert.match(await page.textContent("#done h1"), /Вы вошли как Иванов Иван Иванович/);
  assert.match(await page.textContent("#who-details"), /771234567890/);
  await page.screenshot({ path: path.join(shots, "07-logged-in.png") });
  await context.close();
});

test("a site the agent does not trust is refused", async () => {
  other = await startDemo(agentPort); // same page, another origin: not on the trusted list
  const { context, page } = await newPage();
  await page.goto(other);
  await page.click("#by-cert");
  // The agent asks the person; the person refuses.
  const prompt = await openPrompt(context);
  assert.match(await prompt.textContent("main"), /запрашивает доступ к сертификатам/);
  await prompt.screenshot({ path: path.join(shots, "08-agent-consent-page.png") });
  await prompt.click('button[value="deny"]');
  await page.waitForSelector(".status.error");
  assert.match(await page.textContent("#status"), /Доступ сайта к сертификатам запрещён/);
  await page.screenshot({ path: path.join(shots, "09-origin-denied.png") });
  await context.close();
});

test("works at 360 px and by keyboard", async () => {
  const { context, page } = await newPage(360);
  // The site's settings arrive late: a quick «Войти» still finds the agent.
  await page.route("**/api/config", async (route) => {
    await new Promise((r) => setTimeout(r, 500));
    await route.continue();
  });
  await page.goto(demo);
  // «Сертификат» is reached by Tab, past the phone and password form.
  let tabs = 0;
  do {
    await page.keyboard.press("Tab");
  } while ((await page.evaluate(() => document.activeElement.id)) !== "by-cert" && ++tabs < 20);
  assert.equal(await page.evaluate(() => document.activeElement.id), "by-cert");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#choose:not([hidden])");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "horizontal scrolling at 360 px");
  assert.equal(await page.evaluate(() => document.activeElement.id), "choose-title", "focus moves to the new step");
  await page.screenshot({ path: path.join(shots, "10-choose-360px.png"), fullPage: true });
  await context.close();
});

test("podpis.js: certificates, sign and cancel, connection lost and regained", async () => {
  const { context, page } = await newPage();
  await page.goto(demo);
  await page.evaluate(async (port) => {
    const { connect } = await import("/podpis.js");
    window.events = [];
    window.client = await connect({ ports: [port] });
    window.client.addEventListener("disconnected", () => window.events.push("disconnected"));
    window.client.addEventListener("connected", () => window.events.push("connected"));
  }, agentPort);
  const certs = await page.evaluate(() => window.client.certificates({ onlyValid: true }));
  assert.equal(certs.length, 2, "onlyValid hides the expired certificate");
  const id = certs.find((c) => c.identity.commonName.startsWith("Петрова")).id;

  // A request waiting for the PIN is cancelled by the page.
  const cancelled = signThenCancel(page, id);
  await nextPrompt(); // the prompt page the agent opened; nobody answers it
  assert.equal(await cancelled, "USER_CANCELLED");

  // Signing a document through the PIN page.
  const signed = page.evaluate(
    (id) => window.client.sign({ certificate: id, data: new TextEncoder().encode("договор"), detached: true }).then((r) => r.cms.length),
    id,
  );
  // Even from a trusted site a document is shown to the person first.
  await approveDocument(context);
  await answerPIN(context, "1234");
  assert.ok((await signed) > 1000, "a CMS came back");

  // The agent stops: the page hears of it, and of its return.
  agentProc.kill("SIGINT");
  await page.waitForFunction(() => window.events.includes("disconnected"));
  await startAgent();
  await page.waitForFunction(() => window.events.includes("connected"), null, { timeout: 15000 });
  const info = await page.evaluate(() => window.client.info());
  assert.equal(info.protocol, 2);
  await context.close();
});

test("no token: the page says why, as podpis doctor does", async () => {
  const dir = path.join(data, "no-token");
  mkdirSync(path.join(dir, "agent"), { recursive: true });
  mkdirSync(path.join(dir, "softtoken"));
  writeFileSync(path.join(dir, "softtoken", ".removed"), "");
  const port = await freePort();
  const site = await startDemo(port);
  await start(bin("podpis"), ["run", "--headless", "--listen", `127.0.0.1:${port}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", site],
    { PODPIS_SOFTTOKEN_DIR: path.join(dir, "softtoken"), PODPIS_DATA_DIR: path.join(dir, "agent"),
      PODPIS_CONFIG: path.join(dir, "agent", "config.json") }, /listening on/);
  const { context, page } = await newPage();
  await page.goto(site);
  await page.click("#by-cert");
  await page.waitForSelector("#diagnosis:not([hidden])");
  const text = await page.textContent("#diagnosis");
  // The only module is podpis's soft token: nothing to plug in.
  assert.match(text, /В программном токене нет сертификатов/);
  assert.doesNotMatch(text, /USB/);
  assert.match(await page.textContent("#status"), /Сертификаты не найдены/);
  await page.screenshot({ path: path.join(shots, "11-no-token.png") });
  await context.close();
});

test("no provider at all: «Не установлен криптопровайдер», not «Сертификаты не найдены»", async () => {
  const dir = path.join(data, "no-provider");
  mkdirSync(path.join(dir, "agent"), { recursive: true });
  const port = await freePort();
  const site = await startDemo(port);
  await start(bin("podpis"), ["run", "--headless", "--listen", `127.0.0.1:${port}`, "--no-known-modules",
    "--trust-origin", site],
    { PODPIS_DATA_DIR: path.join(dir, "agent"), PODPIS_CONFIG: path.join(dir, "agent", "config.json") }, /listening on/);
  const { context, page } = await newPage();
  await page.goto(site);
  await page.click("#by-cert");
  await page.waitForSelector("#diagnosis:not([hidden])");
  const text = await page.textContent("#diagnosis");
  assert.match(text, /Не установлен криптопровайдер/);
  assert.match(text, /КриптоПро CSP или ViPNet CSP/);
  // Said once, in the finding with its cause and fix.
  assert.equal((await page.innerText("body")).split("Не установлен криптопровайдер").length, 2);
  assert.doesNotMatch(await page.innerText("body"), /Сертификаты не найдены|не найдено сертификатов/);
  await page.screenshot({ path: path.join(shots, "11-no-provider.png") });
  await context.close();
});
