// Documents in headless Chromium (issue 24): a page signs a 100 MB
// document it generated (sent by podpis.js as one upload to the agent's
// port, with progress; in 512 KiB WebSocket chunks when that request is
// stopped), and a batch of documents with one question and one PIN,
// against the real agent (bin/podpis, soft token) and its prompt pages.
// Every CMS is checked by `openssl cms -verify -engine gost` with the
// document. Run after `make build`; screenshots docs-*.png go to
// $ARTIFACTS (default test/screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { bin, root, shots, CHROMIUM, procs, freePort, start } from "../testing/harness.mjs";

let browser, data, demo, agentPort, prompts, agentPid;
let agentLog = "";
let seen = 0;

// nextPrompt: the forwarding file the agent "opened" for its next question.
async function nextPrompt() {
  for (let i = 0; i < 1200; i++) {
    const lines = existsSync(prompts) ? readFileSync(prompts, "utf8").trim().split("\n").filter(Boolean) : [];
    if (lines.length > seen) return pathToFileURL(lines[seen++]).href;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the agent opened no prompt page");
}

async function openPrompt(context) {
  const page = await context.newPage();
  await page.goto(await nextPrompt());
  await page.waitForSelector("main form");
  return page;
}

const settle = () => new Promise((r) => setTimeout(r, 1200));

// The same bytes in the page and here: xorshift32 from a seed.
function generate(n, seed) {
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, n >> 2);
  let x = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  for (let i = words.length * 4; i < n; i++) out[i] = i & 0xff;
  return out;
}
const GENERATE = generate.toString();

// engineVerify checks a detached CMS (base64) over doc with the engine.
function engineVerify(cms, doc, name) {
  const dir = mkdtempSync(path.join(tmpdir(), "podpis-docs-"));
  try {
    writeFileSync(path.join(dir, "sig.der"), Buffer.from(cms, "base64"));
    writeFileSync(path.join(dir, "doc"), doc);
    // The demo's root and its issuing CA (openssl cms builds the chain
    // from -CAfile only).
    writeFileSync(path.join(dir, "chain.pem"), readFileSync(path.join(data, "roots.pem"), "utf8") + readFileSync(path.join(data, "intermediates.pem"), "utf8"));
    execFileSync("openssl", ["cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", path.join(dir, "sig.der"),
      "-content", path.join(dir, "doc"), "-CAfile", path.join(dir, "chain.pem"),
      "-purpose", "any", "-out", "/dev/null"], { stdio: "pipe" });
  } catch (e) {
    throw new Error(`${name}: openssl cms -verify refused: ${e.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// cpuSeconds: the process's user and system time so far.
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function rssMB(pid) {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(s)[1]) / 1024;
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-docs-e2e-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  mkdirSync(path.join(data, "agent"));
  prompts = path.join(data, "prompts.txt");
  writeFileSync(path.join(data, "record.sh"), `#!/bin/sh\necho "$1" >> '${prompts}'\n`);
  chmodSync(path.join(data, "record.sh"), 0o755);
  agentPort = await freePort();
  const port = await freePort();
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${port}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(agentPort)], {}, /Откройте/);
  demo = `http://127.0.0.1:${port}`;
  const env = { DISPLAY: "", WAYLAND_DISPLAY: "", PODPIS_SOFTTOKEN_DIR: path.join(data, "softtoken"),
    PODPIS_DATA_DIR: path.join(data, "agent"), PODPIS_CONFIG: path.join(data, "agent", "config.json"),
    PODPIS_BROWSER: path.join(data, "record.sh") };
  const agent = await start(bin("podpis"), ["run", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", demo], env, /listening on/);
  agentPid = agent.pid;
  agent.stderr.on("data", (d) => { agentLog += d; });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs) p.kill("SIGINT");
  if (data) rmSync(data, { recursive: true, force: true });
});

async function signingPage() {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  // The generator goes in as the browser's own script (the demo's CSP
  // allows no eval).
  await page.addInitScript({ content: `window.generate = ${GENERATE};` });
  await page.goto(demo);
  const id = await page.evaluate(async ({ port }) => {
    const { connect } = await import("/podpis.js");
    window.client = await connect({ ports: [port] });
    const certs = await window.client.certificates({ onlyValid: true });
    return certs.find((c) => c.identity.commonName.startsWith("Петрова")).id;
  }, { port: agentPort });
  return { context, page, id };
}

test("a 100 MB document generated by the page is streamed and signed", async () => {
  const { context, page, id } = await signingPage();
  const SIZE = 100 * 1024 * 1024;
  const SEED = 20261130;
  const logFrom = agentLog.length;
  const started = Date.now();
  const cpu0 = cpuSeconds(agentPid);
  const signing = page.evaluate(async ({ id, SIZE, SEED }) => {
    // A File, as an <input type="file"> gives it: its bytes are in the
    // browser's store before the person presses «Подписать».
    const file = new File([window.generate(SIZE, SEED)], "Отчёт за 2026 год.bin");
    window.progress = [];
    const t0 = performance.now();
    let t1 = 0;
    const r = await window.client.sign({ certificate: id, file, name: "Отчёт за 2026 год.bin", description: "Годовой отчёт",
      onProgress: (p) => {
        window.progress.push(p.sent);
        if (p.sent === p.total) t1 = performance.now();
      } });
    return { cms: r.cms, progress: window.progress.length, last: window.progress[window.progress.length - 1], upload: (t1 - t0) / 1000 };
  }, { id, SIZE, SEED });

  // The whole document arrives before the person is asked: its digest is
  // known only then.
  const doc = await openPrompt(context);
  const text = await doc.textContent("main");
  assert.match(text, /Отчёт за 2026 год\.bin/);
  assert.match(text, /104857600 байт/);
  await doc.screenshot({ path: path.join(shots, "docs-01-document-100mb.png") });
  const uploadSeconds = (Date.now() - started) / 1000;
  const agentCPU = cpuSeconds(agentPid) - cpu0;
  await settle();
  await doc.click('button[value="sign"]');
  const pin = await openPrompt(context);
  await pin.fill("#pin", "1234");
  await pin.screenshot({ path: path.join(shots, "docs-02-pin-100mb.png") });
  await settle();
  await pin.click('button[value="sign"]');
  const r = await signing;
  // One body, not 200 chunks (the agent's log says how each came); its
  // progress as the browser reports it. (Not page.on("request"): Playwright
  // would carry the 100 MB body to this process.)
  const log = agentLog.slice(logFrom);
  const uploaded = /msg=upload .*bytes=104857600 ms=(\d+) code=OK/.exec(log);
  assert.ok(uploaded, `the agent's log of the upload:\n${log}`);
  assert.ok(r.progress >= 1, `progress events: ${r.progress}`);
  assert.equal(r.last, SIZE);
  const peak = rssMB(agentPid);
  console.log(`# 100 MB: the page's document sent, hashed and acknowledged in ${r.upload.toFixed(2)} s (${(100 / r.upload).toFixed(1)} MB/s), ` +
    `the body in ${(uploaded[1] / 1000).toFixed(2)} s of it; ` +
    `generated, streamed and shown in ${uploadSeconds.toFixed(1)} s, agent CPU ${agentCPU.toFixed(2)} s; agent peak RSS ${peak.toFixed(1)} MB`);
  assert.ok(peak <= 64, `agent peak RSS ${peak} MB`);
  const bytes = generate(SIZE, SEED);
  // The bar (issue 24): `podpis hash` of the same bytes from a file, in
  // the same run — printed, not asserted (a figure, not a timed test).
  const file = path.join(data, "doc-100mb.bin");
  writeFileSync(file, bytes);
  const h0 = performance.now();
  execFileSync(bin("podpis"), ["hash", file], { stdio: "pipe" });
  const hashSeconds = (performance.now() - h0) / 1000;
  rmSync(file);
  const ceiling = await browserCeiling(page, SIZE, SEED);
  console.log(`# 100 MB: podpis hash of the same bytes ${hashSeconds.toFixed(2)} s (${(100 / hashSeconds).toFixed(1)} MB/s); ` +
    `page upload / podpis hash = ${(hashSeconds / r.upload).toFixed(2)}`);
  console.log(`# 100 MB: Chromium alone, to a server that only counts the bytes (internal/nullagent): one upload ${ceiling.upload.toFixed(2)} s ` +
    `(${(100 / ceiling.upload).toFixed(1)} MB/s), WebSocket chunks ${ceiling.chunks.toFixed(2)} s (${(100 / ceiling.chunks).toFixed(1)} MB/s); ` +
    `page upload through the agent / Chromium's upload alone = ${(ceiling.upload / r.upload).toFixed(2)}`);
  engineVerify(r.cms, bytes, "100 MB");
  bytes[12345] ^= 1;
  assert.throws(() => engineVerify(r.cms, bytes, "changed"), /refused/);
  await context.close();
});

// browserCeiling is the peer of the page-signing figure: the seconds
// Chromium takes to send the same bytes to internal/nullagent, which does
// nothing with them — as one upload (what podpis.js sends), and in chunks
// framed and windowed as podpis.js sends them when it cannot upload.
async function browserCeiling(page, size, seed) {
  const sinkBin = path.join(data, "nullagent");
  execFileSync("go", ["build", "-o", sinkBin, "./internal/nullagent"], { cwd: root, stdio: "pipe" });
  const sink = spawn(sinkBin, [], { stdio: ["ignore", "pipe", "inherit"] });
  procs.push(sink);
  const addr = await new Promise((resolve) => sink.stdout.once("data", (d) => resolve(String(d).trim())));
  try {
    return await page.evaluate(async ({ addr, size, seed }) => {
      const blob = new Blob([window.generate(size, seed)]);
      let t0 = performance.now();
      await new Promise((resolve, reject) => {
        const x = new XMLHttpRequest();
        x.open("POST", `http://${addr}/upload`);
        x.upload.onprogress = () => {};
        x.onload = () => (x.status === 200 ? resolve() : reject(new Error(`status ${x.status}`)));
        x.onerror = () => reject(new Error("upload failed"));
        x.send(blob);
      });
      const upload = (performance.now() - t0) / 1000;
      const ws = new WebSocket(`ws://${addr}/`);
      const acks = new Map();
      ws.onmessage = (e) => {
        const id = JSON.parse(e.data).id;
        acks.get(id)();
        acks.delete(id);
      };
      await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
      t0 = performance.now();
      const inFlight = [];
      let id = 0;
      for (let off = 0; off < size; off += 512 * 1024) {
        const header = new Uint8Array(25);
        header[0] = 1;
        new DataView(header.buffer).setUint32(21, ++id);
        const frame = new Blob([header, blob.slice(off, off + 512 * 1024)]);
        inFlight.push(new Promise((resolve) => { acks.set(id, resolve); ws.send(frame); }));
        if (inFlight.length >= 16) await inFlight.shift();
      }
      await Promise.all(inFlight);
      const chunks = (performance.now() - t0) / 1000;
      ws.close();
      return { upload, chunks };
    }, { addr, size, seed });
  } finally {
    sink.kill();
  }
}

// When the upload request is stopped before it reaches the agent (an
// extension, a proxy setting, a browser that refuses it), podpis.js sends
// the same document again in WebSocket chunks, on a new stream: the
// signature is the same document's.
test("a document whose upload is stopped goes in chunks", async () => {
  const { context, page, id } = await signingPage();
  let stopped = 0;
  await context.route("**/v1/streams/**", (route) => { stopped++; return route.abort("blockedbyclient"); });
  const SIZE = 3 * 1024 * 1024 + 5;
  const signing = page.evaluate(async ({ id, SIZE }) => {
    const sent = [];
    const r = await window.client.sign({ certificate: id, file: new Blob([window.generate(SIZE, 77)]), name: "Акт.pdf",
      onProgress: (p) => sent.push(p.sent) });
    return { cms: r.cms, sent };
  }, { id, SIZE });
  const doc = await openPrompt(context);
  assert.match(await doc.textContent("main"), new RegExp(`${SIZE} байт`));
  await settle();
  await doc.click('button[value="sign"]');
  const pin = await openPrompt(context);
  await pin.fill("#pin", "1234");
  await settle();
  await pin.click('button[value="sign"]');
  const r = await signing;
  assert.ok(stopped >= 1, "the upload was never attempted");
  assert.equal(r.sent.length, Math.ceil(SIZE / (512 * 1024)), `progress: ${r.sent}`);
  assert.equal(r.sent[r.sent.length - 1], SIZE);
  engineVerify(r.cms, generate(SIZE, 77), "chunks after a stopped upload");
  await context.close();
});

test("a batch of documents: one window listing each, one PIN", async () => {
  const { context, page, id } = await signingPage();
  const sizes = [1000, 250_000, 1_200_000, 77];
  const names = ["Договор № 17.pdf", "Спецификация.pdf", "Акт приёма-передачи.pdf", "Доверенность.txt"];
  const before = seen;
  const signing = page.evaluate(async ({ id, sizes, names }) => {
    const documents = sizes.map((n, i) => ({ file: new Blob([window.generate(n, 1000 + i)]), name: names[i] }));
    window.batchProgress = [];
    const results = await window.client.signBatch({ certificate: id, description: "Документы по договору № 17", documents,
      onProgress: (p) => window.batchProgress.push(`${p.phase}:${p.done}/${p.total}`) });
    return { results: results.map((r) => r.cms || r.error.code), progress: window.batchProgress };
  }, { id, sizes, names });
  const list = await openPrompt(context);
  const text = await list.textContent("main");
  for (const n of names) assert.ok(text.includes(n), `${n} is not listed`);
  assert.match(text, /документы \(4\)/);
  await list.screenshot({ path: path.join(shots, "docs-03-batch.png"), fullPage: true });
  await settle();
  await list.click('button[value="sign"]');
  const pin = await openPrompt(context);
  assert.match(await pin.textContent("main"), /подпись документов \(4\)/);
  await pin.fill("#pin", "1234");
  await pin.screenshot({ path: path.join(shots, "docs-04-batch-pin.png") });
  await settle();
  await pin.click('button[value="sign"]');
  const r = await signing;
  assert.equal(seen - before, 2, "one question and one PIN for the batch");
  assert.ok(r.progress.includes("upload:4/4") && r.progress.includes("sign:4/4"), r.progress.join(" "));
  r.results.forEach((cms, i) => engineVerify(cms, generate(sizes[i], 1000 + i), names[i]));
  assert.throws(() => engineVerify(r.results[0], generate(sizes[1], 1001), "swapped"), /refused/);
  await context.close();
});

test("the demo page: log in, choose files, sign them with one PIN, download the signatures", async () => {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width: 1024, height: 900 } });
  const page = await context.newPage();
  await page.goto(demo);
  await page.click("#by-cert");
  await page.click(".cert:has-text('Петрова')");
  const login = await openPrompt(context);
  await login.fill("#pin", "1234");
  await settle();
  await login.click('button[value="sign"]');
  await page.waitForSelector("#done:not([hidden])");

  const files = [
    { name: "Договор поставки.pdf", mimeType: "application/pdf", buffer: Buffer.from(generate(300_000, 7)) },
    { name: "Спецификация.pdf", mimeType: "application/pdf", buffer: Buffer.from(generate(2_000_000, 8)) },
    { name: "Сопроводительное письмо.txt", mimeType: "text/plain", buffer: Buffer.from("Направляем документы на подпись.\n") },
  ];
  await page.setInputFiles("#doc-files", files);
  await page.fill("#doc-desc", "Договор поставки № 17 с приложениями");
  await page.click("#doc-sign");
  const list = await openPrompt(context);
  await settle();
  await list.click('button[value="sign"]');
  const pin = await openPrompt(context);
  await pin.fill("#pin", "1234");
  await settle();
  await pin.click('button[value="sign"]');
  await page.waitForFunction(() => document.querySelectorAll("#doc-results li").length === 3);
  assert.match(await page.textContent("#doc-progress-text"), /Готово/);
  await page.screenshot({ path: path.join(shots, "docs-06-demo-signed.png"), fullPage: true });
  // The person downloads each signature.
  const sigs = [];
  for (const link of await page.$$("#doc-results a")) {
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    sigs.push({ name: download.suggestedFilename(), cms: readFileSync(await download.path()).toString("base64") });
  }
  assert.deepEqual(sigs.map((s) => s.name), files.map((f) => f.name + ".sig"));
  sigs.forEach((s, i) => engineVerify(s.cms, files[i].buffer, s.name));
  await context.close();
});
