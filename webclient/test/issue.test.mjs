// End to end in headless Chromium: the demo's «Выпуск сертификата». The
// person fills the form (the page checks СНИЛС and ИНН), the agent
// (bin/podpis, soft token) makes the key and the request after the person
// agreed on its page and typed the PIN there, the demo CA (bin/podpis-demo)
// issues the certificate, the agent installs it after asking again, and
// the page links it to the person's account (the account service takes
// only linked certificates for a login) with a signature made by it. Run
// after `make build`;
// screenshots go to $ARTIFACTS (issue-*.png).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bin, shots, procs, freePort, start, launchChromium, agentPrompts, settle } from "../testing/harness.mjs";

let browser, data, demo, prompts;

const openPrompt = (context) => prompts.open(context);

async function answer(context, { expect, button, pin, shot }) {
  const page = await openPrompt(context);
  assert.match(await page.textContent("main"), expect);
  if (pin) await page.fill("#pin", pin);
  await page.screenshot({ path: path.join(shots, shot), fullPage: true });
  if (button !== "cancel") await settle();
  await page.click(`button[value="${button}"]`);
  await page.waitForSelector("text=Готово");
  await page.close();
}

const keyFiles = () => readdirSync(path.join(data, "softtoken")).filter((f) => f.endsWith(".key")).length;

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-issue-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  mkdirSync(path.join(data, "agent"));
  prompts = agentPrompts(data);
  const agentPort = await freePort();
  const port = await freePort();
  demo = `http://127.0.0.1:${port}`;
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${port}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(agentPort)], {}, /Откройте/);
  // DISPLAY unset: the agent asks through its own pages. The demo site is
  // trusted — and still asked before a key is made.
  await start(bin("podpis"), ["run", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", demo],
    prompts.env, /listening on/);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs) p.kill("SIGINT");
  if (data) rmSync(data, { recursive: true, force: true });
});

test("«Выпуск сертификата»: form, key on the token, CA, installation, link to the account", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1024, height: 900 } });
  const page = await context.newPage();
  // The certificate is issued from the account page: the demo account
  // (podpis-demo init) logs in by its password.
  const account = JSON.parse(readFileSync(path.join(data, "demo-account.json"), "utf8"));
  await page.goto(demo);
  await page.click("#login-form .by-switch");
  await page.fill("#login-email", account.email);
  await page.fill("#login-password", account.password);
  await page.click("#login-go");
  await page.waitForSelector("#done:not([hidden])");
  await page.click("#to-issue-account");
  await page.waitForSelector("#issue:not([hidden])");
  await page.fill('input[name="SN"]', "Кузнецова");
  await page.fill('input[name="G"]', "Анна Павловна");
  await page.fill('input[name="SNILS"]', "112-233-445 96"); // a typo: wrong check number
  await page.fill('input[name="INN"]', "500100732259");
  await page.fill('input[name="E"]', "kuznetsova@example.ru");
  await page.screenshot({ path: path.join(shots, "issue-01-form.png"), fullPage: true });

  // The page catches the typo at its field; nothing reaches the agent.
  await page.click("#issue-go");
  await page.waitForSelector('input[name="SNILS"][aria-invalid="true"]');
  assert.match(await page.textContent("#issue-form"), /СНИЛС: 11 цифр с верным контрольным числом/);
  await page.screenshot({ path: path.join(shots, "issue-02-invalid-snils.png"), fullPage: true });
  assert.equal(existsSync(prompts.file), false, "the agent was asked about a form the page refused");
  const keysBefore = keyFiles();

  // The person declines the key in the agent's window: nothing is made.
  await page.fill('input[name="SNILS"]', "112-233-445 95");
  await page.click("#issue-go");
  await page.waitForSelector("#working:not([hidden])");
  await answer(context, { expect: /просит создать ключ электронной подписи на токене/, button: "cancel", shot: "issue-03-agent-newkey-declined.png" });
  await page.waitForSelector(".status.error");
  assert.match(await page.textContent("#status"), /Операция отменена/);
  assert.equal(keyFiles(), keysBefore, "a key was made after «Отмена»");

  // Again, and agreed: consent, PIN, the CA, the installation's consent and PIN.
  await page.click("#issue-go");
  await page.waitForSelector("#working:not([hidden])");
  await page.screenshot({ path: path.join(shots, "issue-04-waiting.png"), fullPage: true });
  await answer(context, { expect: /Кузнецова Анна Павловна[\s\S]*11223344595/, button: "approve", shot: "issue-05-agent-newkey.png" });
  await answer(context, { expect: /создание нового ключа/, button: "sign", pin: "1234", shot: "issue-06-agent-newkey-pin.png" });
  await answer(context, { expect: /просит установить сертификат на токен[\s\S]*Демонстрационный УЦ podpis/, button: "approve", shot: "issue-07-agent-install.png" });
  await answer(context, { expect: /установка сертификата/, button: "sign", pin: "1234", shot: "issue-08-agent-install-pin.png" });
  // And the link of the new certificate: a login signature made by it, its PIN.
  await answer(context, { expect: /вход на сайт/, button: "sign", pin: "1234", shot: "issue-09-agent-login-pin.png" });
  await page.waitForSelector("#linked .linked-cert:has-text('Кузнецова Анна Павловна')");
  const card = await page.textContent("#linked .linked-cert:has-text('Кузнецова')");
  assert.match(card, /500100732259/);
  assert.match(card, /112-?233-?445 ?95/);
  await page.screenshot({ path: path.join(shots, "issue-10-logged-in.png"), fullPage: true });
  assert.equal(keyFiles(), keysBefore + 1, "one key made");
  await context.close();
});

test("a renewed certificate (the same СНИЛС as a linked one) logs in once the person confirms, and is linked", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1024, height: 900 } });
  const page = await context.newPage();
  // Logged out, Кузнецова gets a new certificate for a new key: not the
  // one linked by the test above, but her СНИЛС.
  await page.goto(demo);
  await page.click("#to-issue");
  await page.waitForSelector("#issue:not([hidden])");
  await page.fill('input[name="SN"]', "Кузнецова");
  await page.fill('input[name="G"]', "Анна Павловна");
  await page.fill('input[name="SNILS"]', "112-233-445 95");
  await page.fill('input[name="INN"]', "500100732259");
  await page.click("#issue-go");
  await answer(context, { expect: /Кузнецова Анна Павловна[\s\S]*11223344595/, button: "approve", shot: "issue-11-renew-newkey.png" });
  await answer(context, { expect: /создание нового ключа/, button: "sign", pin: "1234", shot: "issue-12-renew-newkey-pin.png" });
  await answer(context, { expect: /просит установить сертификат на токен/, button: "approve", shot: "issue-13-renew-install.png" });
  await answer(context, { expect: /установка сертификата/, button: "sign", pin: "1234", shot: "issue-14-renew-install-pin.png" });
  await answer(context, { expect: /вход на сайт/, button: "sign", pin: "1234", shot: "issue-15-renew-login-pin.png" });

  // Not let in yet: the page asks.
  await page.waitForSelector("#cert-refused:not([hidden])");
  assert.match(await page.textContent("#cert-refused-title"), /Новый сертификат взамен привязанного/);
  assert.ok(await page.isVisible("#renew-go"));
  assert.ok(!(await page.isVisible("#done")), "a renewed certificate logged in before the person confirmed");
  await page.screenshot({ path: path.join(shots, "issue-16-renewed-confirm.png"), fullPage: true });
  await page.click("#renew-go");
  await page.waitForSelector("#done:not([hidden])");
  assert.match(await page.textContent("#done-title"), /Вы вошли как Кузнецова Анна Павловна/);
  assert.equal(await page.$$eval("#linked .linked-cert", (l) => l.filter((li) => li.textContent.includes("Кузнецова")).length), 2,
    "the renewed certificate is linked beside the old one");
  await page.screenshot({ path: path.join(shots, "issue-17-renewed-logged-in.png"), fullPage: true });
  await context.close();
});
