// The Firefox build of the extension: the same code as Chromium's with
// Firefox's manifest, checked by Mozilla's own validator (web-ext lint,
// addons-linter), the check addons.mozilla.org runs on upload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

test("the Firefox build passes web-ext lint and is pinned to agent@podpis.ru", (t) => {
  const out = mkdtempSync(path.join(tmpdir(), "podpis-firefox-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  execFileSync(process.execPath, [path.join(here, "scripts", "build-firefox.mjs"), out]);

  const manifest = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8"));
  // The id the host manifest of `podpis install` allows (installer/nativemsg).
  const nativemsg = readFileSync(path.join(here, "..", "installer", "nativemsg", "nativemsg.go"), "utf8");
  assert.ok(nativemsg.includes(`"${manifest.browser_specific_settings.gecko.id}"`), "gecko id is the one podpis install allows");
  assert.equal(manifest.browser_specific_settings.gecko.id, "agent@podpis.ru");
  assert.deepEqual(manifest.background, { scripts: ["background.js"] }, "Firefox runs background scripts, not a service worker");
  assert.equal(manifest.key, undefined, "Chromium's key is not Firefox's business");
  for (const f of ["background.js", "content.js"]) {
    assert.equal(readFileSync(path.join(out, f), "utf8"), readFileSync(path.join(here, "extension", f), "utf8"), `${f} is the Chromium extension's`);
  }

  let report;
  try {
    report = execFileSync(path.join(here, "node_modules", ".bin", "web-ext"),
      ["lint", "--output=json", "--no-config-discovery", "--source-dir", out], { encoding: "utf8" });
  } catch (e) {
    report = e.stdout; // web-ext exits non-zero on errors; the report says which
  }
  const { errors, warnings, summary } = JSON.parse(report);
  assert.deepEqual(errors, [], JSON.stringify(errors, null, 2));
  assert.deepEqual(warnings, [], JSON.stringify(warnings, null, 2));
  assert.equal(summary.errors, 0);
});
