// What the browser tests under test/ share: where the binaries and the
// screenshots are, and processes started for a test file and stopped after
// it. (Kept out of test/, where node --test would run it as a test file.)
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const bin = (n) => path.join(root, "bin", n);
export const shots = process.env.ARTIFACTS || path.join(root, "webclient", "test", "screenshots");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

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
