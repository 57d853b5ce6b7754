// «Доверенность» end to end in headless Chromium, as its own service
// (podpis-demo poa) behind the account's single sign-on: the head of an
// organisation logs in to the service through the provider of the demo
// site (podpis-demo serve) by password, steps up to a certificate login to
// sign (the service asks acr_values certificate; the account screens ask
// for a certificate linked to the account, the agent asks the PIN), fills
// in a power of attorney, the agent (bin/podpis, soft token) signs the
// EMCHD_1 XML the service built, the service checks the pair, and the
// files the page offers pass `podpis verify` and the FNS's schema. A
// signature by a certificate that is not the principal's head is refused.
// «Выйти на всех устройствах» ends the service's session and the
// account's. Run after `make build`; screenshots go to $ARTIFACTS
// (default test/screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root, bin, shots, procs, freePort, start, launchChromium, agentPrompts, settle } from "../testing/harness.mjs";

let browser, data, demo, poa, prompts, account;
const schema = path.join(root, "poa", "testdata", "ON_EMCHD_1_928_00_01_01_01.xsd");
const SECRET = "poa-client-secret-0123456789";

const openPrompt = (context) => prompts.open(context);

async function answerPIN(context) {
  const page = await openPrompt(context);
  await page.fill("#pin", "1234");
  await settle();
  await page.click('button[value="sign"]');
  await page.waitForSelector("text=Готово");
  await page.close();
}

// approveDocument: the agent shows the document and its name first.
async function approveDocument(context, name, shot) {
  const page = await openPrompt(context);
  const text = await page.textContent("main");
  assert.match(text, /просит подписать документ/);
  assert.ok(text.includes(name), `the agent's window names the file: ${text}`);
  if (shot) await page.screenshot({ path: path.join(shots, shot) });
  await settle();
  await page.click('button[value="sign"]');
  await page.waitForSelector("text=Готово");
  await page.close();
}

async function newPage(width = 1024) {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width, height: 900 }, acceptDownloads: true });
  return { context, page: await context.newPage() };
}

// loginByPassword: from the service, through the provider to the
// account's login screen (which names the service), by the demo
// account's phone and password, and back.
async function loginByPassword(page) {
  await page.goto(poa);
  await page.click("#login");
  await page.waitForSelector("text=Вход в «Доверенность»");
  assert.ok(page.url().startsWith(demo + "/?oidc="), page.url());
  await page.click("#login-phone");
  await page.keyboard.type(account.phone);
  await page.fill("#login-password", account.password);
  await page.click("#login-go");
  await page.waitForURL(poa + "/");
  await page.waitForSelector("#who");
}

// stepUp: «Подписать» — the account screens ask for a certificate linked
// to the account; who's is chosen and its PIN given; back at /poa/.
async function stepUp(context, page, who, shot) {
  await page.click("#sign");
  await page.waitForSelector("#choose:not([hidden])");
  assert.ok(page.url().startsWith(demo + "/?oidc="), page.url());
  assert.match(await page.textContent("#choose-title"), /привязанный к вашей учётной записи/);
  await page.waitForSelector(`.cert:has-text('${who}')`);
  if (shot) await page.screenshot({ path: path.join(shots, shot) });
  await page.click(`.cert:has-text('${who}')`);
  await answerPIN(context);
  await page.waitForURL(poa + "/poa/");
}

async function fillForm(page, { snils = "112-233-445 95" } = {}) {
  await page.fill('input[name="principal.kpp"]', "771201001");
  await page.fill('input[name="representative.surname"]', "Соколова");
  await page.fill('input[name="representative.name"]', "Марина");
  await page.fill('input[name="representative.patronymic"]', "Андреевна");
  await page.fill('input[name="representative.title"]', "Главный бухгалтер");
  await page.fill('input[name="representative.snils"]', snils);
  await page.fill('input[name="representative.inn"]', "165001234562");
  await page.check('input[value="2_FNS02"]');
  await page.check('input[value="2_FNS03"]');
  await page.fill('textarea[name="text"]', "Подписывать счета-фактуры и акты сверки");
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-poa-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  account = JSON.parse(readFileSync(path.join(data, "demo-account.json"), "utf8"));
  mkdirSync(path.join(data, "agent"));
  prompts = agentPrompts(data);
  const [agentPort, port, poaPort] = [await freePort(), await freePort(), await freePort()];
  demo = `http://127.0.0.1:${port}`;
  poa = `http://127.0.0.1:${poaPort}`;
  // The service registered at the provider, as make run does.
  writeFileSync(path.join(data, "clients.json"), JSON.stringify([{ id: "poa", name: "Доверенность", secret: SECRET,
    redirect_uris: [`${poa}/callback`], post_logout_redirect_uris: [`${poa}/`] }]));
  writeFileSync(path.join(data, "poa-secret"), SECRET, { mode: 0o600 });
  const roots = ["--roots", path.join(data, "roots.pem"), "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(agentPort)];
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${port}`, ...roots,
    "--oidc-clients", path.join(data, "clients.json"), "--poa-url", `${poa}/`], {}, /Откройте/);
  await start(bin("podpis-demo"), ["poa", "--listen", `127.0.0.1:${poaPort}`, "--issuer", `${demo}/oidc`, "--client-id", "poa",
    "--client-secret-file", path.join(data, "poa-secret"), ...roots], {}, /«Доверенность»: /);
  await start(bin("podpis"), ["run", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", demo, "--trust-origin", poa],
    prompts.env, /listening on/);
  browser = await launchChromium("--lang=ru-RU");
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs) p.kill("SIGINT");
  if (data) rmSync(data, { recursive: true, force: true });
});

test("without a session the service asks to log in through the account", async () => {
  const { context, page } = await newPage();
  await page.goto(poa);
  await page.waitForSelector("#welcome");
  assert.equal(await page.getAttribute("#login", "href"), "/login");
  await page.screenshot({ path: path.join(shots, "poa-00-service-welcome.png") });
  // The form's own page: a certificate login is what it asks for.
  await page.goto(poa + "/poa/");
  await page.waitForSelector("#need-login:not([hidden])");
  assert.equal(await page.getAttribute("#login-link", "href"), "/login?certificate=1&back=/poa/");
  await context.close();
});

test("by password through the provider, a step-up to sign, the power of attorney checked, logged out everywhere", async () => {
  const { context, page } = await newPage();
  await loginByPassword(page);
  // Whose session it is, and how it was made.
  // The demo account has two people's certificates: a password login
  // names the account by its phone, the step-up says who.
  assert.equal(await page.textContent("#who"), account.phone);
  assert.match(await page.textContent("#how"), /по паролю/);
  assert.match(await page.textContent("#session-details"), /urn:podpis:acr:basic/);
  assert.match(await page.textContent("#sign"), /войти по сертификату/);
  await page.screenshot({ path: path.join(shots, "poa-01-password-session.png"), fullPage: true });
  // A password session cannot sign: the server refuses, not only the page.
  for (const api of ["/poa/api/build", "/poa/api/check"]) {
    const r = await page.request.post(poa + api, { data: {} });
    assert.equal(r.status(), 401, api);
  }

  // «Подписать»: the step-up, with Петрова's certificate.
  await stepUp(context, page, "Петрова", "poa-02-step-up-choose.png");
  await page.waitForSelector("#form-section:not([hidden])");
  assert.match(await page.textContent("#principal"), /7712345671/);
  await page.waitForSelector("#signer:not([disabled])");
  assert.match(await page.$eval("#signer", (s) => s.selectedOptions[0].textContent), /Петрова/, "the login's certificate is chosen");

  // A mistyped SNILS and a date in the past are shown beside their fields.
  await fillForm(page, { snils: "112-233-445 96" });
  await page.fill('input[name="issued"]', "2020-01-01");
  await page.click("#sign");
  const errors = await page.$$eval(".field-error", (es) => es.map((e) => e.textContent).filter(Boolean));
  assert.ok(errors.some((e) => /СНИЛС: 11 цифр с верным контрольным числом/.test(e)), errors.join("; "));
  assert.ok(errors.some((e) => /не раньше сегодняшнего дня/.test(e)), errors.join("; "));
  assert.ok(await page.isVisible("#form-section"), "nothing was sent");
  await page.screenshot({ path: path.join(shots, "poa-03-form-errors.png"), fullPage: true });

  await page.fill('input[name="representative.snils"]', "112-233-445 95");
  await page.fill('input[name="issued"]', await page.getAttribute('input[name="issued"]', "min"));
  await page.screenshot({ path: path.join(shots, "poa-04-form.png"), fullPage: true });
  await page.click("#sign");
  await page.waitForSelector("#working:not([hidden])");
  await approveDocument(context, "ON_EMCHD_", "poa-05-agent-document.png");
  await answerPIN(context);
  await page.waitForSelector("#signed:not([hidden])");
  const summary = await page.textContent("#summary");
  assert.match(summary, /Соколова Марина Андреевна/);
  assert.match(summary, /Петрова Мария Сергеевна/);
  await page.screenshot({ path: path.join(shots, "poa-06-signed.png"), fullPage: true });

  // The files as a recipient gets them: their names, then podpis verify
  // as the page words it (the CMS carries the signer's certificate, not
  // its CA's: the recipient gives the CA with --intermediates).
  assert.match(await page.textContent("#verify-command"), /^podpis verify --roots \S+ --intermediates \S+ --content ON_EMCHD_\S+\.xml ON_EMCHD_\S+\.xml\.sig$/);
  const save = async (sel) => {
    const [d] = await Promise.all([page.waitForEvent("download"), page.click(sel)]);
    const file = path.join(data, d.suggestedFilename());
    await d.saveAs(file);
    return file;
  };
  const xml = await save("#download-xml");
  const sig = await save("#download-sig");
  assert.match(path.basename(xml), /^ON_EMCHD_\d{8}_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.xml$/);
  assert.equal(path.basename(sig), path.basename(xml) + ".sig");
  const v = spawnSync(bin("podpis"), ["verify", "--roots", path.join(data, "roots.pem"), "--intermediates", path.join(data, "intermediates.pem"),
    "--content", xml, sig], { encoding: "utf8" });
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /^OK$/m);
  assert.match(v.stdout, /Петрова Мария Сергеевна/);
  // The same signature over a changed document is not.
  const changed = path.join(data, "changed.xml");
  writeFileSync(changed, readFileSync(xml, "utf8").replace("Соколова", "Соколов"));
  const bad = spawnSync(bin("podpis"), ["verify", "--roots", path.join(data, "roots.pem"), "--intermediates", path.join(data, "intermediates.pem"),
    "--content", changed, sig], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /CONTENT_MISMATCH/);
  // The XML as the FNS's schema has it (xmllint, when installed).
  const lint = spawnSync("xmllint", ["--noout", "--nonet", "--schema", schema, xml], { encoding: "utf8" });
  if (lint.error && process.env.PODPIS_REQUIRE_DEPS) assert.fail("xmllint is missing (scripts/test-deps.sh)");
  if (!lint.error) assert.equal(lint.status, 0, lint.stderr);

  // A second power of attorney, signed with another person's certificate:
  // a valid signature, but not by the head of the organisation named.
  await page.click("#again");
  await page.waitForSelector("#form-section:not([hidden])");
  await fillForm(page);
  const other = await page.$eval("#signer", (s) => [...s.options].find((o) => o.textContent.includes("Иванов")).value);
  await page.selectOption("#signer", other);
  await page.click("#sign");
  await approveDocument(context, "ON_EMCHD_");
  await answerPIN(context);
  await page.waitForSelector("#form-error:not([hidden])");
  assert.match(await page.textContent("#form-error"), /подписана не от имени организации-доверителя/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "form-error", "the refusal is where the person looks");
  assert.ok(await page.isVisible("#form-section"), "the form stays, filled in");
  assert.equal(await page.inputValue('input[name="representative.surname"]'), "Соколова");
  await page.screenshot({ path: path.join(shots, "poa-07-mismatch-refused.png"), fullPage: true });

  // The session after the step-up, then «Выйти на всех устройствах».
  await page.goto(poa);
  assert.match(await page.textContent("#how"), /по паролю, затем подтверждён сертификатом/);
  assert.match(await page.textContent("#session-details"), /ООО «Ромашка»/);
  assert.match(await page.textContent("#session-details"), /987-654-320 82/);
  assert.match(await page.textContent("#session-details"), /urn:podpis:acr:certificate/);
  await page.screenshot({ path: path.join(shots, "poa-08-certificate-session.png"), fullPage: true });
  await page.click("#logout-all");
  await page.waitForURL(poa + "/?state=all");
  assert.match(await page.textContent("#notice"), /Вы вышли на всех устройствах/);
  assert.ok(await page.isVisible("#login"), "the service asks to log in again");
  await page.screenshot({ path: path.join(shots, "poa-09-logged-out-everywhere.png") });
  // The account is logged out too: its page asks to log in, and a new
  // login to the service goes through the login screen again.
  await page.goto(demo);
  await page.waitForSelector("#login:not([hidden])");
  await page.goto(poa);
  await page.click("#login");
  await page.waitForSelector("text=Вход в «Доверенность»");
  await context.close();
});

test("a person's certificate cannot grant an organisation's power of attorney", async () => {
  const { context, page } = await newPage(360);
  await loginByPassword(page);
  await stepUp(context, page, "Иванов");
  await page.waitForSelector("#not-principal:not([hidden])");
  assert.match(await page.textContent("#not-principal-text"), /нет ИНН ЮЛ и ОГРН/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "horizontal scrolling at 360 px");
  await page.screenshot({ path: path.join(shots, "poa-10-not-principal-360px.png"), fullPage: true });
  await page.goto(poa);
  assert.match(await page.textContent("#not-principal-note"), /нет организации/);
  const overflowHome = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflowHome, false, "horizontal scrolling of the service's page at 360 px");
  await page.screenshot({ path: path.join(shots, "poa-11-session-360px.png"), fullPage: true });
  await context.close();
});
