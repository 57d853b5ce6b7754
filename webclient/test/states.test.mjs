// Every state of the demo page a person may meet, each with a screenshot
// in $ARTIFACTS (default test/screenshots), in headless Chromium against
// the real agent (bin/podpis) and demo server (bin/podpis-demo): the
// install page for Linux and Windows and with nothing built, «Отсутствует
// соединение» leading to it, a prompt that nothing could show, a locked
// token, no crypto provider and no certificates. Run after `make build`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, cpSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bin, shots, procs, freePort, start, launchChromium } from "../testing/harness.mjs";

const LINUX_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";
const WINDOWS_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";

let browser, data, dist;

// startDemo starts the demo site for an agent on agentPort, offering
// the packages in distDir on its install page.
async function startDemo(agentPort, distDir) {
  const port = await freePort();
  const args = ["serve", "--listen", `127.0.0.1:${port}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(agentPort)];
  if (distDir !== undefined) args.push("--dist", distDir);
  await start(bin("podpis-demo"), args, {}, /Откройте/);
  return `http://127.0.0.1:${port}`;
}

// startAgent runs podpis on a soft token folder for site; extra env and
// args on top. It resolves to the process and a function returning all it
// has printed so far.
async function startAgent(port, site, tokenDir, env = {}, args = []) {
  const dir = mkdtempSync(path.join(data, "agent-"));
  const p = await start(bin("podpis"), ["run", ...args, "--listen", `127.0.0.1:${port}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", site],
    { PODPIS_SOFTTOKEN_DIR: tokenDir, PODPIS_DATA_DIR: dir, PODPIS_CONFIG: path.join(dir, "config.json"), ...env }, /listening on/);
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  p.stderr.on("data", (d) => (out += d));
  return { p, output: () => out };
}

async function newPage(userAgent = LINUX_UA, width = 1024) {
  const context = await browser.newContext({ locale: "ru-RU", userAgent, viewport: { width, height: 900 } });
  return { context, page: await context.newPage() };
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-states-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  // dist/ as make package leaves it (stand-ins of the right names).
  dist = path.join(data, "dist");
  mkdirSync(dist);
  writeFileSync(path.join(dist, "podpis_1.4.0-1_amd64.deb"), Buffer.alloc(6_512_345, 7));
  writeFileSync(path.join(dist, "podpis-setup-1.4.0.exe"), Buffer.alloc(9_876_543, 9));
  writeFileSync(path.join(dist, "podpis-softtoken_1.4.0-1_amd64.deb"), Buffer.alloc(1000, 1));
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs) p.kill("SIGINT");
  if (data) rmSync(data, { recursive: true, force: true });
});

test("no agent: «Отсутствует соединение» leads to the install page, which offers the visitor's package", async () => {
  const site = await startDemo(await freePort(), dist);
  const { context, page } = await newPage();
  await page.goto(site);
  await page.click("#by-cert");
  await page.waitForSelector("#no-agent:not([hidden])");
  assert.match(await page.textContent("#no-agent h1"), /Отсутствует соединение с podpis/);
  await page.screenshot({ path: path.join(shots, "states-01-no-agent.png") });

  await page.click("#install-link");
  await page.waitForSelector("#install-title");
  assert.equal(new URL(page.url()).pathname, "/install");
  assert.equal(await page.getAttribute("#recommended", "data-system"), "linux");
  assert.match(await page.textContent("#recommended"), /podpis_1\.4\.0-1_amd64\.deb · 6,2 МБ/);
  const listed = await page.$$eval(".package", (ps) => ps.map((p) => p.dataset.system));
  assert.deepEqual(listed, ["linux", "windows"], "both packages, and not the demo's soft token");
  assert.doesNotMatch(await page.textContent("main"), /softtoken/);
  await page.screenshot({ path: path.join(shots, "states-02-install-linux.png"), fullPage: true });

  // The package downloads as a file of the right size.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  assert.equal(download.suggestedFilename(), "podpis_1.4.0-1_amd64.deb");
  const saved = path.join(data, "downloaded.deb");
  await download.saveAs(saved);
  assert.equal(readFileSync(saved).length, 6_512_345);
  await context.close();

  const win = await newPage(WINDOWS_UA);
  await win.page.goto(site + "/install");
  assert.equal(await win.page.getAttribute("#recommended", "data-system"), "windows");
  assert.match(await win.page.textContent("#recommended"), /podpis-setup-1\.4\.0\.exe/);
  await win.page.screenshot({ path: path.join(shots, "states-03-install-windows.png"), fullPage: true });
  await win.context.close();

  const narrow = await newPage(LINUX_UA, 360);
  await narrow.page.goto(site + "/install");
  const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "horizontal scrolling at 360 px");
  await narrow.page.screenshot({ path: path.join(shots, "states-04-install-360px.png"), fullPage: true });
  await narrow.context.close();
});

test("install page with nothing built says so", async () => {
  const empty = path.join(data, "empty-dist");
  mkdirSync(empty);
  const site = await startDemo(await freePort(), empty);
  const { context, page } = await newPage();
  await page.goto(site + "/install");
  assert.match(await page.textContent("#no-packages"), /Пакеты не собраны: выполните make package/);
  assert.match(await page.textContent("main"), /podpis установлен, но не запущен/);
  await page.screenshot({ path: path.join(shots, "states-05-install-no-packages.png"), fullPage: true });
  await context.close();
});

test("a prompt nothing could show: the page says to open the address podpis printed, and the login goes on from there", async () => {
  const port = await freePort();
  const site = await startDemo(port, dist);
  // No desktop, no PODPIS_BROWSER, no xdg-open on PATH.
  const agent = await startAgent(port, site, path.join(data, "softtoken"),
    { DISPLAY: "", WAYLAND_DISPLAY: "", PODPIS_BROWSER: "", PATH: mkdtempSync(path.join(data, "empty-path-")),
      XDG_RUNTIME_DIR: mkdtempSync(path.join(data, "runtime-")) });
  const { context, page } = await newPage();
  await page.goto(site);
  await page.click("#by-cert");
  await page.waitForSelector("#choose:not([hidden])");
  await page.click(".cert:has-text('Иванов')");
  await page.waitForSelector("#notice:not([hidden])");
  assert.match(await page.textContent("#notice"), /Откройте адрес из окна podpis/);
  assert.match(await page.textContent("#notice"), /Откройте адрес, который podpis напечатал/);
  assert.doesNotMatch(await page.content(), /\/prompt\/|file:\/\/\//, "the page learnt where the question is");
  await page.screenshot({ path: path.join(shots, "states-06-prompt-not-shown.png") });

  // The person copies the address from the agent's terminal.
  let file;
  for (let i = 0; i < 100 && !file; i++) {
    const m = agent.output().match(/Откройте в браузере этого компьютера адрес (file:\/\/\S+)/);
    if (m) file = m[1];
    else await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(file, `the agent printed no address:\n${agent.output()}`);
  const prompt = await context.newPage();
  await prompt.goto(file);
  await prompt.waitForSelector("main form");
  assert.match(prompt.url(), /^http:\/\/127\.0\.0\.1:\d+\/prompt\//, "the question is on plain http: no certificate warning");
  await prompt.fill("#pin", "1234");
  await new Promise((r) => setTimeout(r, 1200)); // the page refuses approvals in its first second
  await prompt.click('button[value="sign"]');
  await page.waitForSelector("#done:not([hidden])");
  assert.equal(await page.isHidden("#notice"), true, "the notice stays after the question was answered");
  await context.close();
  agent.p.kill("SIGINT");
});

test("a locked token: its certificates are greyed out, say why and cannot be chosen", async () => {
  const port = await freePort();
  const site = await startDemo(port, dist);
  const token = path.join(data, "locked-token");
  cpSync(path.join(data, "softtoken"), token, { recursive: true });
  writeFileSync(path.join(token, ".pin-state"), JSON.stringify({ failures: 3 })); // three wrong PINs
  await startAgent(port, site, token, {}, ["--headless"]);
  const { context, page } = await newPage();
  await page.goto(site);
  await page.click("#by-cert");
  await page.waitForSelector("#choose:not([hidden])");
  const cards = await page.$$eval(".cert", (bs) => bs.map((b) => ({ text: b.textContent, disabled: b.disabled })));
  assert.ok(cards.length >= 2);
  for (const c of cards) {
    assert.ok(c.disabled, `a locked token's certificate can be chosen: ${c.text}`);
    assert.match(c.text, /Токен заблокирован: PIN-код введён неверно слишком много раз\. Разблокируйте его PIN-кодом администратора \(PUK\)\./);
  }
  await page.click(".cert:has-text('Иванов')", { force: true });
  assert.equal(await page.isHidden("#working"), true, "a click on a locked certificate started a login");
  await page.screenshot({ path: path.join(shots, "states-07-locked-token.png"), fullPage: true });
  await context.close();
});

test("no crypto provider, and a token without certificates: the page shows what the agent says", async () => {
  for (const [name, args, tokenDir, expect] of [
    ["states-08-no-provider.png", ["--headless", "--no-known-modules"], null, /Не установлен криптопровайдер/],
    ["states-09-no-certificates.png", ["--headless"], mkdtempSync(path.join(data, "empty-token-")), /нет сертификатов/],
  ]) {
    const port = await freePort();
    const site = await startDemo(port, dist);
    const dir = mkdtempSync(path.join(data, "agent-"));
    const env = { PODPIS_DATA_DIR: dir, PODPIS_CONFIG: path.join(dir, "config.json") };
    const moduleArgs = tokenDir ? ["--module", bin("libpodpis-softtoken.so")] : [];
    if (tokenDir) env.PODPIS_SOFTTOKEN_DIR = tokenDir;
    await start(bin("podpis"), ["run", ...args, "--no-known-modules", ...moduleArgs, "--listen", `127.0.0.1:${port}`,
      "--trust-origin", site], env, /listening on/);
    const { context, page } = await newPage();
    await page.goto(site);
    await page.click("#by-cert");
    // The status line, or (where the agent's finding says the same) the
    // finding alone: NO_PROVIDER is said once.
    await page.waitForFunction(() => ["#status", "#diagnosis"].some((s) => document.querySelector(s)?.textContent.trim()));
    await page.waitForTimeout(300); // the findings arrive just after
    const shown = `${await page.textContent("#status")} ${await page.textContent("#diagnosis")}`;
    assert.match(shown, expect);
    await page.screenshot({ path: path.join(shots, name), fullPage: true });
    console.log(`${name}: ${shown.trim()}`);
    await context.close();
  }
});
