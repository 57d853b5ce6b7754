// What the browser tests under test/ share: where the binaries and the
// screenshots are, and processes started for a test file and stopped after
// it. (Kept out of test/, where node --test would run it as a test file.)
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const bin = (n) => path.join(root, "bin", n);
export const shots = process.env.ARTIFACTS || path.join(root, "webclient", "test", "screenshots");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// launchChromium starts headless Chromium as the tests run it: no QUIC,
// no background traffic, no first-run pages; extra adds flags.
export function launchChromium(...extra) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", ...extra],
  });
}

// agentPrompts: the agent's questions as a test sees them. With DISPLAY
// unset the agent asks through its own pages, which it "opens" with
// $PODPIS_BROWSER: here a script that writes what it was given to a file.
// env runs bin/podpis so, on the soft token and data folders under data.
export function agentPrompts(data) {
  const file = path.join(data, "prompts.txt");
  const script = path.join(data, "record.sh");
  writeFileSync(script, `#!/bin/sh\necho "$1" >> '${file}'\n`);
  chmodSync(script, 0o755);
  const opened = () => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : []);
  return {
    file,
    seen: 0,
    env: { DISPLAY: "", WAYLAND_DISPLAY: "", PODPIS_SOFTTOKEN_DIR: path.join(data, "softtoken"),
      PODPIS_DATA_DIR: path.join(data, "agent"), PODPIS_CONFIG: path.join(data, "agent", "config.json"),
      PODPIS_BROWSER: script },
    // poll: the next page the agent opened, as a file: URL, or null.
    poll() {
      const lines = opened();
      return lines.length > this.seen ? pathToFileURL(lines[this.seen++]).href : null;
    },
    // next waits for the next page the agent opens.
    async next(ms = 60000) {
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        const url = this.poll();
        if (url) return url;
      }
      throw new Error("the agent opened no prompt page");
    },
    // open opens the next page in context, as the person's browser would.
    async open(context) {
      const page = await context.newPage();
      await page.goto(await this.next());
      await page.waitForSelector("main form");
      return page;
    },
  };
}

// settle: the agent refuses an answer posted within a second of its page
// loading; a person reads first.
export const settle = () => new Promise((r) => setTimeout(r, 1200));

// procs are the processes start started; the test file stops them.
export const procs = [];

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// start runs a command and resolves when its output (stdout or stderr)
// matches ready; it fails when the command exits first or takes 20 s.
export function start(cmd, args, env, ready) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    procs.push(p);
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${out}`)), 20000);
    const onData = (d) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(p);
      }
    };
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    p.on("exit", (code) => {
      clearTimeout(timer);
      if (!ready.test(out)) reject(new Error(`${cmd} exited ${code}:\n${out}`));
    });
  });
}

// signThenCancel asks the page's client (window.client) to sign a short
// document and cancels the request 300 ms later, while its prompt is open;
// it resolves to the error code the page got ("signed" if none).
export function signThenCancel(page, id) {
  return page.evaluate(async (id) => {
    const p = window.client.sign({ certificate: id, data: new TextEncoder().encode("договор"), description: "Договор" });
    setTimeout(() => window.client.cancel(p), 300);
    try {
      await p;
      return "signed";
    } catch (e) {
      return e.code;
    }
  }, id);
}
