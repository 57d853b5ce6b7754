// The demo login page in Linux Chromium against podpis.exe, the Windows
// agent, run under Wine (internal/testwine) with the GOST soft token built
// as a Windows DLL and loaded over PKCS#11 as Rutoken's module would be.
// The demo server (bin/podpis-demo, package verify) runs on Linux.
//
// The agent serves only processes of its own Windows account
// (internal/peercred). Wine's TCP table gives a Linux process's socket no
// owner, so Chromium reaches the agent through tcprelay.exe, a Windows
// program under Wine that stands for the browser's network side; the
// page's Origin and Host pass through it unchanged. Run after `make
// build`; needs Wine and mingw (scripts/test-deps.sh), skipped without
// them unless PODPIS_REQUIRE_DEPS is set. Screenshots: $ARTIFACTS
// (default test/screenshots), windows-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root, bin, shots, procs, freePort, start, launchChromium } from "../testing/harness.mjs";

const have = (cmd) => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const missing = ["wine", "wineserver", "x86_64-w64-mingw32-gcc", "go"].filter((c) => !have(c));
if (missing.length && process.env.PODPIS_REQUIRE_DEPS) {
  throw new Error(`${missing.join(", ")} missing (scripts/test-deps.sh installs them)`);
}

let browser, data, work, wine, demo;

// winPath is a Linux path as Windows programs under Wine see it.
const winPath = (p) => "Z:" + p.replaceAll("/", "\\");

before(async () => {
  if (missing.length) return;
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-windows-"));
  work = path.join(data, "wine");
  // The prefix and the Windows programs (a minute on a cold build cache).
  wine = JSON.parse(execFileSync("go", ["run", "./internal/wineagent/testdata/winprep", work], { cwd: root, timeout: 300000 }));
  // A wineserver started here with no pipes of ours: one started by the
  // first wine command would inherit its output pipe and hold it open.
  spawn("wineserver", ["-p"], { env: { ...process.env, ...wine.env }, stdio: "ignore" }).unref();
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  mkdirSync(path.join(data, "agent"));
  const agentPort = await freePort();
  const relayPort = await freePort();
  const demoPort = await freePort();
  demo = `http://127.0.0.1:${demoPort}`;
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${demoPort}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(relayPort)], {}, /Откройте/);
  const env = { ...wine.env, PODPIS_SOFTTOKEN_DIR: winPath(path.join(data, "softtoken")), PODPIS_PIN: "1234",
    PODPIS_DATA_DIR: winPath(path.join(data, "agent")), PODPIS_CONFIG: winPath(path.join(data, "agent", "config.json")),
    PODPIS_SYSTEM_CONFIG: "" };
  await start("wine", [wine.podpis, "run", "--headless", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
    "--module", winPath(wine.softtoken), "--trust-origin", demo], env, /listening on/);
  await start("wine", [wine.relay, `127.0.0.1:${relayPort}`, `127.0.0.1:${agentPort}`], wine.env, /relaying on/);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs) p.kill("SIGINT");
  if (wine) {
    try {
      execFileSync("wineserver", ["-k"], { env: { ...process.env, ...wine.env }, timeout: 30000 });
    } catch {}
    rmSync(wine.prefix, { recursive: true, force: true });
  }
  if (data) rmSync(data, { recursive: true, force: true });
});

test("login by certificate through podpis.exe under Wine", { skip: missing.length ? `${missing.join(", ")} missing` : false, timeout: 180000 }, async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  await page.goto(demo);
  await page.click("#by-cert");
  await page.waitForSelector("#choose:not([hidden])", { timeout: 60000 });
  const cards = await page.$$eval(".cert", (bs) => bs.map((b) => b.textContent));
  assert.equal(cards.length, 3, "the soft token DLL's three certificates");
  await page.screenshot({ path: path.join(shots, "windows-01-choose.png") });
  await page.click(".cert:has-text('Иванов')");
  await page.waitForSelector("#done:not([hidden])", { timeout: 60000 });
  // The demo server checked the CMS with package verify: the name comes
  // from the certificate the Windows agent signed with.
  assert.match(await page.textContent("#done h1"), /Вы вошли как Иванов Иван Иванович/);
  assert.match(await page.textContent("#who-details"), /771234567890/);
  await page.screenshot({ path: path.join(shots, "windows-02-logged-in.png") });
  // The PIN came from PODPIS_PIN, right the first time: the token's
  // counter (written on a wrong PIN only) shows none.
  const pinState = path.join(data, "softtoken", ".pin-state");
  assert.equal(existsSync(pinState) ? JSON.parse(readFileSync(pinState, "utf8")).failures : 0, 0);
  await context.close();
});
