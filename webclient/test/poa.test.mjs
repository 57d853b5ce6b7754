// «Доверенность» end to end in headless Chromium: the head of an
// organisation logs in to the demo by certificate, fills in a power of
// attorney, the agent (bin/podpis, soft token) signs the EMCHD_1 XML the
// server (bin/podpis-demo, packages poa and verify) built, the server
// checks the pair, and the files the page offers pass `podpis verify`
// and the FNS's schema. A signature by a certificate that is not the
// principal's head is refused. Run after `make build`; screenshots go to
// $ARTIFACTS (default test/screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { root, bin, shots, CHROMIUM, procs, freePort, start } from "../testing/harness.mjs";

let browser, data, demo, prompts;
const schema = path.join(root, "poa", "testdata", "ON_EMCHD_1_928_00_01_01_01.xsd");

// nextPrompt: the agent "opens" each question by running record.sh,
// which writes down the file that forwards to it.
async function nextPrompt() {
  for (let i = 0; i < 300; i++) {
    const lines = existsSync(prompts) ? readFileSync(prompts, "utf8").trim().split("\n").filter(Boolean) : [];
    if (lines.length > nextPrompt.seen) return pathToFileURL(lines[nextPrompt.seen++]).href;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the agent opened no prompt page");
}
nextPrompt.seen = 0;

async function openPrompt(context) {
  const page = await context.newPage();
  await page.goto(await nextPrompt());
  await page.waitForSelector("main form");
  return page;
}

// settle: the agent refuses an answer posted within a second of its page
// loading; a person reads first.
const settle = () => new Promise((r) => setTimeout(r, 1200));

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

async function loginAs(context, page, who) {
  await page.goto(demo);
  await page.click("#by-cert");
  await page.waitForSelector("#choose:not([hidden])");
  await page.click(`.cert:has-text('${who}')`);
  await answerPIN(context);
  await page.waitForSelector("#done:not([hidden])");
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
  mkdirSync(path.join(data, "agent"));
  prompts = path.join(data, "prompts.txt");
  writeFileSync(path.join(data, "record.sh"), `#!/bin/sh\necho "$1" >> '${prompts}'\n`);
  chmodSync(path.join(data, "record.sh"), 0o755);
  const agentPort = await freePort();
  const port = await freePort();
  demo = `http://127.0.0.1:${port}`;
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${port}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(agentPort)], {}, /Откройте/);
  await start(bin("podpis"), ["run", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", demo],
    { DISPLAY: "", WAYLAND_DISPLAY: "", PODPIS_SOFTTOKEN_DIR: path.join(data, "softtoken"), PODPIS_DATA_DIR: path.join(data, "agent"),
      PODPIS_CONFIG: path.join(data, "agent", "config.json"), PODPIS_BROWSER: path.join(data, "record.sh") }, /listening on/);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--lang=ru-RU", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs) p.kill("SIGINT");
  if (data) rmSync(data, { recursive: true, force: true });
});

test("without a session the page asks to log in", async () => {
  const { context, page } = await newPage();
  await page.goto(demo + "/poa/");
  await page.waitForSelector("#need-login:not([hidden])");
  assert.equal(await page.getAttribute("#login-link", "href"), "/");
  await context.close();
});

test("the head issues a power of attorney; the pair passes podpis verify and the FNS schema", async () => {
  const { context, page } = await newPage();
  await loginAs(context, page, "Петрова");
  await page.click("a[href='/poa/']");
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
  await page.screenshot({ path: path.join(shots, "poa-01-form-errors.png"), fullPage: true });

  await page.fill('input[name="representative.snils"]', "112-233-445 95");
  await page.fill('input[name="issued"]', await page.getAttribute('input[name="issued"]', "min"));
  await page.screenshot({ path: path.join(shots, "poa-02-form.png"), fullPage: true });
  await page.click("#sign");
  await page.waitForSelector("#working:not([hidden])");
  await approveDocument(context, "ON_EMCHD_", "poa-03-agent-document.png");
  await answerPIN(context);
  await page.waitForSelector("#signed:not([hidden])");
  const summary = await page.textContent("#summary");
  assert.match(summary, /Соколова Марина Андреевна/);
  assert.match(summary, /Петрова Мария Сергеевна/);
  await page.screenshot({ path: path.join(shots, "poa-04-signed.png"), fullPage: true });

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
  await page.screenshot({ path: path.join(shots, "poa-05-mismatch-refused.png"), fullPage: true });
  await context.close();
});

test("a person's certificate cannot grant an organisation's power of attorney", async () => {
  const { context, page } = await newPage(360);
  await loginAs(context, page, "Иванов");
  await page.goto(demo + "/poa/");
  await page.waitForSelector("#not-principal:not([hidden])");
  assert.match(await page.textContent("#not-principal-text"), /нет ИНН ЮЛ и ОГРН/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "horizontal scrolling at 360 px");
  await page.screenshot({ path: path.join(shots, "poa-06-not-principal-360px.png"), fullPage: true });
  await context.close();
});
