// The podpis browser extension in headless Chromium (Debian's, new
// headless mode, which loads unpacked extensions): the demo login page
// reaches the real agent through the extension and `podpis native-host`
// (native messaging), with the page kept away from the agent's TCP port —
// the site is told to probe a port where nothing listens. Run after
// `make build`; screenshots go to $ARTIFACTS (default test/screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { root, bin, shots, CHROMIUM, procs, freePort, start, signThenCancel, agentPrompts, settle } from "../testing/harness.mjs";

const extDir = path.join(root, "webclient", "extension");

let context, data, demo, other, agentPort, prompts, extensionID;

// startDemo: the demo site, told that the agent listens on closedPort,
// where nothing does: only the extension can reach the agent from it.
async function startDemo(closedPort) {
  const port = await freePort();
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${port}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(closedPort)], {}, /Откройте/);
  return `http://127.0.0.1:${port}`;
}

// The environment of the agent and of the native host the browser starts:
// the same per-user runtime folder, so the host finds this agent's socket.
const agentEnv = () => ({ ...prompts.env, XDG_RUNTIME_DIR: path.join(data, "run") });

// Chromium's extension ID: the first 16 bytes of SHA-256 of the key's DER,
// in hex with the digits 0–f written a–p.
function chromeID(keyB64) {
  const hex = createHash("sha256").update(Buffer.from(keyB64, "base64")).digest("hex").slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
}

const nextPrompt = () => prompts.next();

async function openPrompt() {
  const page = await context.newPage();
  const url = await nextPrompt();
  await page.goto(url);
  await page.waitForSelector("main form", { timeout: 5000 }).catch(async (e) => {
    throw new Error(`${url}: ${page.url()}: ${await page.content()}`);
  });
  return page;
}


async function answer(page, choice, pin) {
  if (pin) await page.fill("#pin", pin);
  await settle();
  await page.click(`button[value="${choice}"]`);
  await page.waitForSelector("text=Готово");
  await page.close();
}

let agentProc;
const startAgent = () => start(bin("podpis"), ["run", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
  "--module", bin("libpodpis-softtoken.so"), "--trust-origin", demo], agentEnv(), /listening on/);

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-ext-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  mkdirSync(path.join(data, "agent"));
  mkdirSync(path.join(data, "run"), { mode: 0o700 });
  prompts = agentPrompts(data);

  agentPort = await freePort();
  const closedPort = await freePort();
  demo = await startDemo(closedPort);
  other = await startDemo(closedPort);
  agentProc = await startAgent();

  // The host the browser starts: bin/podpis native-host in this test's
  // environment (the browser passes its own argv: the extension's origin).
  // It must not start an agent of its own.
  const host = path.join(data, "native-host.sh");
  const env = { ...agentEnv(), PODPIS_NATIVE_NO_START: "1" };
  writeFileSync(host, "#!/bin/sh\n" + Object.entries(env).map(([k, v]) => `export ${k}='${v}'\n`).join("") +
    `exec '${bin("podpis")}' native-host "$@"\n`);
  chmodSync(host, 0o755);

  const key = JSON.parse(readFileSync(path.join(extDir, "manifest.json"), "utf8")).key;
  extensionID = chromeID(key);
  // Chromium on Linux reads per-user hosts from <user-data-dir>/NativeMessagingHosts.
  const profile = path.join(data, "profile");
  mkdirSync(path.join(profile, "NativeMessagingHosts"), { recursive: true });
  writeFileSync(path.join(profile, "NativeMessagingHosts", "ru.podpis.agent.json"), JSON.stringify({
    name: "ru.podpis.agent", description: "podpis", path: host, type: "stdio",
    allowed_origins: [`chrome-extension://${extensionID}/`],
  }));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, locale: "ru-RU", ignoreHTTPSErrors: true, viewport: { width: 1024, height: 800 },
    ignoreDefaultArgs: ["--disable-extensions"],
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", `--disable-extensions-except=${extDir}`, `--load-extension=${extDir}`],
  });
});

after(async () => {
  if (context) await context.close();
  for (const p of procs) p.kill("SIGINT");
  if (data) rmSync(data, { recursive: true, force: true });
});

test("the extension's ID is the one the host manifests allow", async () => {
  const src = readFileSync(path.join(root, "installer", "nativemsg", "nativemsg.go"), "utf8");
  const pinned = src.match(/ChromeExtensionKey = "([^"]+)"/)[1];
  const key = JSON.parse(readFileSync(path.join(extDir, "manifest.json"), "utf8")).key;
  assert.equal(key, pinned, "manifest.json's key is installer/nativemsg.ChromeExtensionKey");
  const sw = context.serviceWorkers()[0] || (await context.waitForEvent("serviceworker"));
  assert.equal(new URL(sw.url()).host, extensionID, "Chromium gave the unpacked extension the pinned ID");
  assert.equal(extensionID, "jnfmeplofalcnccnbgibmmeaiiflcgnk");
});

test("login by certificate through the extension, the agent's port out of the page's reach", async () => {
  const page = await context.newPage();
  await page.goto(demo);
  await page.click("#by-cert");
  await page.waitForSelector("#choose:not([hidden])");
  assert.equal(await page.getAttribute("#transport", "data-transport"), "extension");
  assert.match(await page.textContent("#transport"), /через расширение браузера/);
  await page.screenshot({ path: path.join(shots, "20-extension-choose.png") });

  await page.click(".cert:has-text('Иванов')");
  await page.waitForSelector("#working:not([hidden])");
  await answer(await openPrompt(), "sign", "1234");
  await page.waitForSelector("#done:not([hidden])");
  assert.match(await page.textContent("#done h1"), /Вы вошли как Иванов Иван Иванович/);
  await page.screenshot({ path: path.join(shots, "21-extension-logged-in.png") });
  await page.close();
});

test("a document signature and cancel through the extension", async () => {
  const page = await context.newPage();
  await page.goto(demo);
  await page.evaluate(async () => {
    const { connect } = await import("/podpis.js");
    window.client = await connect();
  });
  assert.equal(await page.evaluate(() => window.client.transport), "extension");
  const certs = await page.evaluate(() => window.client.certificates({ onlyValid: true }));
  const id = certs.find((c) => c.identity.commonName.startsWith("Петрова")).id;

  const cancelled = signThenCancel(page, id);
  await nextPrompt(); // opened, never answered: the page cancels it
  assert.equal(await cancelled, "USER_CANCELLED");

  const signed = page.evaluate(
    (id) => window.client.sign({ certificate: id, data: new TextEncoder().encode("договор"), detached: true }).then((r) => r.cms),
    id,
  );
  const approve = await openPrompt();
  assert.match(await approve.textContent("main"), /просит подписать документ/);
  assert.ok((await approve.textContent("main")).includes(demo), "the document prompt names the page's origin");
  await approve.screenshot({ path: path.join(shots, "22-extension-document-prompt.png") });
  await answer(approve, "sign");
  const pin = await openPrompt();
  await answer(pin, "sign", "1234");
  assert.ok((await signed).length > 1000, "a CMS came back");
  await page.close();
});

test("a page cannot speak for another origin through the extension", async () => {
  // A page on `other` (not trusted by the agent) writes the trusted demo's
  // origin wherever a page can write: into the envelope it would like the
  // extension to send, and beside the protocol's members.
  const page = await context.newPage();
  await page.goto(other);
  const forged = page.evaluate(async ({ trusted }) => {
    const { extension, PodpisError } = await import("/podpis.js");
    const ext = await extension();
    const conn = 1000;
    const post = (m) => window.postMessage({ ...m, nonce: ext.nonce, conn }, location.origin);
    const replies = [];
    window.addEventListener("message", (ev) => {
      if (ev.data && ev.data.podpis === "message" && ev.data.conn === conn) replies.push(JSON.parse(ev.data.data));
    });
    post({ podpis: "open" });
    post({ podpis: "send", data: JSON.stringify({ origin: trusted, message: { id: 1, method: "certificates", params: {} } }) });
    post({ podpis: "send", data: JSON.stringify({ id: 2, origin: trusted, method: "authenticate", params: { certificate: "x", challenge: "c" } }) });
    for (let i = 0; i < 600 && replies.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    return { replies, PodpisError: typeof PodpisError };
  }, { trusted: demo });
  // The agent asks the person about the page's real origin, and only it.
  const consent = await openPrompt();
  const text = await consent.textContent("main");
  assert.match(text, /запрашивает доступ к сертификатам/);
  assert.ok(text.includes(other), `the consent names the real origin ${other}: ${text}`);
  assert.ok(!text.includes(demo), "the consent does not name the forged origin");
  await consent.screenshot({ path: path.join(shots, "23-extension-forged-origin-consent.png") });
  await answer(consent, "deny");
  const { replies } = await forged;
  const byId = Object.fromEntries(replies.map((r) => [r.id, r]));
  assert.equal(byId[2] && byId[2].error && byId[2].error.code, "ORIGIN_DENIED", JSON.stringify(replies));
  assert.ok(!byId[1] || byId[1].error, `the forged envelope got no certificates: ${JSON.stringify(byId[1])}`);
  await page.close();
});

// probeExtension speaks the page API by hand in a frame: the hello, then
// certificates on a connection of its own.
function probeExtension(frame) {
  return frame.evaluate(async () => {
    const replies = [];
    let nonce = null;
    window.addEventListener("message", (ev) => {
      if (!ev.data) return;
      if (ev.data.podpis === "hello") nonce = ev.data.nonce;
      if (ev.data.podpis === "message") replies.push(JSON.parse(ev.data.data));
    });
    window.postMessage({ podpis: "ping" }, "*");
    await new Promise((r) => setTimeout(r, 300));
    if (nonce) {
      window.postMessage({ podpis: "open", nonce, conn: 1 }, "*");
      window.postMessage({ podpis: "send", nonce, conn: 1, data: JSON.stringify({ id: 1, method: "certificates", params: {} }) }, "*");
      for (let i = 0; i < 100 && !replies.length; i++) await new Promise((r) => setTimeout(r, 50));
    }
    return { origin: self.origin, hello: !!nonce, certificates: replies.some((r) => r.result && r.result.certificates) };
  });
}

test("sandboxed content on a trusted site does not get the site's origin", async () => {
  // Sites serve content they do not trust from their own address in a
  // sandbox (CSP sandbox, or an iframe's sandbox attribute): its origin is
  // opaque, though its URL is the site's. It must not act as the site.
  // The same content without the sandbox reaches the agent: the way is there.
  const page = await context.newPage();
  const html = "<!doctype html><title>x</title><p>user content";
  await page.route(`${demo}/user-content/**`, (route) => route.fulfill({
    contentType: "text/html",
    headers: route.request().url().endsWith("/csp") ? { "Content-Security-Policy": "sandbox allow-scripts" } : {},
    body: html,
  }));
  await page.goto(`${demo}/user-content/plain`);
  const plain = await probeExtension(page.mainFrame());
  assert.deepEqual(plain, { origin: demo, hello: true, certificates: true }, "content of the site reaches the agent");

  await page.evaluate((src) => {
    const f = document.createElement("iframe");
    f.sandbox = "allow-scripts";
    f.name = "sandboxed";
    f.src = src;
    document.body.append(f);
    return new Promise((r) => (f.onload = r));
  }, `${demo}/user-content/frame`);
  const framed = await probeExtension(page.frame({ name: "sandboxed" }));
  assert.deepEqual(framed, { origin: "null", hello: false, certificates: false }, `a sandboxed frame acted as ${demo}`);

  await page.goto(`${demo}/user-content/csp`);
  const csp = await probeExtension(page.mainFrame());
  assert.deepEqual(csp, { origin: "null", hello: false, certificates: false }, `a CSP-sandboxed page acted as ${demo}`);
  await page.close();
});

test("a login from another site signs that site's origin, whatever the page writes", async () => {
  const page = await context.newPage();
  await page.goto(other);
  const cms = page.evaluate(async (trusted) => {
    const { connect } = await import("/podpis.js");
    const client = await connect();
    // The page adds the trusted site's origin to the request itself.
    const real = client.ws.send.bind(client.ws);
    client.ws.send = (s) => real(JSON.stringify({ ...JSON.parse(s), origin: trusted }));
    const certs = await client.certificates({ onlyValid: true });
    const id = certs.find((c) => c.identity.commonName.startsWith("Иванов")).id;
    return (await client.authenticate(id, "challenge-1")).cms;
  }, demo);
  await answer(await openPrompt(), "once");
  const next = await openPrompt(); // the PIN (or nothing more, with the PIN saved)
  if (await next.$("#pin")) await answer(next, "sign", "1234");
  else await answer(next, "sign");
  const der = Buffer.from(await cms, "base64").toString("latin1");
  assert.ok(der.includes(`"origin":"${other}"`), "the signed login names the page's real origin");
  assert.ok(!der.includes(`"origin":"${demo}"`), "and not the origin the page wrote");
  await page.close();
});

test("an extension without its native host: the page falls back to the WebSocket", async () => {
  // Another profile with the extension but no host manifest (the extension
  // installed, podpis not, or an older podpis): connect() finds the
  // extension, its port closes, and the page uses the agent's port.
  const bare = await chromium.launchPersistentContext(path.join(data, "bare-profile"), {
    executablePath: CHROMIUM, headless: true, ignoreDefaultArgs: ["--disable-extensions"],
    args: ["--no-sandbox", "--disable-gpu", `--disable-extensions-except=${extDir}`, `--load-extension=${extDir}`],
  });
  try {
    const page = await bare.newPage();
    await page.goto(demo);
    const got = await page.evaluate(async (port) => {
      const { connect, extension } = await import("/podpis.js");
      const ext = await extension();
      const client = await connect({ ports: [port], ask: true });
      return { extension: !!ext, transport: client.transport, protocol: (await client.info()).protocol };
    }, agentPort);
    assert.deepEqual(got, { extension: true, transport: "websocket", protocol: 2 });
  } finally {
    await bare.close();
  }
});

// percentiles of a list of milliseconds.
function percentiles(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { p50: at(0.5), p99: at(0.99), n: s.length };
}

test("the native path and the WebSocket give the same answers (with the added latency reported)", async (t) => {
  const page = await context.newPage();
  await page.goto(demo);
  await page.evaluate(async (port) => {
    const { connect } = await import("/podpis.js");
    window.ext = await connect();
    window.ws = await connect({ ports: [port], extension: false, ask: true });
  }, agentPort);
  assert.deepEqual(await page.evaluate(() => [window.ext.transport, window.ws.transport]), ["extension", "websocket"]);

  // The PIN saved once (the agent's cache serves both ways alike).
  const first = page.evaluate(async () => {
    const certs = await window.ext.certificates({ onlyValid: true });
    window.cert = certs.find((c) => c.identity.commonName.startsWith("Иванов")).id;
    return (await window.ext.authenticate(window.cert, "warm-up")).cms.length;
  });
  const pin = await openPrompt();
  await pin.check('input[name="save"]');
  await answer(pin, "sign", "1234");
  assert.ok((await first) > 1000);

  const runs = Number(process.env.PODPIS_BENCH_RUNS || 100);
  const got = await page.evaluate(async (runs) => {
    const time = async (f) => {
      const t0 = performance.now();
      const r = await f();
      return [performance.now() - t0, r];
    };
    const out = { info: { extension: [], websocket: [] }, login: { extension: [], websocket: [] }, same: [] };
    for (let i = 0; i < runs; i++) {
      for (const way of ["extension", "websocket"]) {
        const [ms, info] = await time(() => window[way === "extension" ? "ext" : "ws"].info());
        out.info[way].push(ms);
        if (i === 0) out.same.push(JSON.stringify(info));
      }
    }
    for (let i = 0; i < Math.max(5, runs / 5); i++) {
      for (const way of ["extension", "websocket"]) {
        const [ms, r] = await time(() => window[way === "extension" ? "ext" : "ws"].authenticate(window.cert, "c" + i));
        if (!r.cms) throw new Error("no CMS");
        out.login[way].push(ms);
      }
    }
    return out;
  }, runs);
  assert.equal(got.same[0], got.same[1], "info is the same both ways");
  const figures = {};
  for (const what of ["info", "login"]) {
    for (const way of ["extension", "websocket"]) figures[`${what} ${way}`] = percentiles(got[what][way]);
  }
  for (const [k, v] of Object.entries(figures)) t.diagnostic(`${k}: p50 ${v.p50.toFixed(2)} ms, p99 ${v.p99.toFixed(2)} ms (n=${v.n})`);
  await page.close();
});

test("the agent stops and starts again: the page hears of both, still through the extension", async () => {
  const page = await context.newPage();
  await page.goto(demo);
  await page.evaluate(async () => {
    const { connect } = await import("/podpis.js");
    window.events = [];
    window.client = await connect();
    window.client.addEventListener("disconnected", () => window.events.push("disconnected"));
    window.client.addEventListener("connected", () => window.events.push("connected"));
  });
  agentProc.kill("SIGINT");
  await page.waitForFunction(() => window.events.includes("disconnected"));
  agentProc = await startAgent();
  await page.waitForFunction(() => window.events.includes("connected"), null, { timeout: 20000 });
  const got = await page.evaluate(async () => ({ transport: window.client.transport, protocol: (await window.client.info()).protocol }));
  assert.deepEqual(got, { transport: "extension", protocol: 2 });
  await page.close();
});
