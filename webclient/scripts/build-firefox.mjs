// Builds the Firefox extension from the same code as Chromium's:
// dist/firefox with the manifest Firefox needs — background scripts instead
// of a service worker, the pinned add-on id agent@podpis.ru (what the host
// manifest of `podpis install` allows) and no Chromium "key".
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, "..", "extension");
const out = process.argv[2] || path.join(here, "..", "dist", "firefox");

const manifest = JSON.parse(readFileSync(path.join(src, "manifest.json"), "utf8"));
delete manifest.key;
manifest.background = { scripts: [manifest.background.service_worker] };
manifest.browser_specific_settings = {
  gecko: {
    id: "agent@podpis.ru",
    strict_min_version: "142.0",
    data_collection_permissions: { required: ["none"] },
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
for (const f of ["background.js", "content.js"]) copyFileSync(path.join(src, f), path.join(out, f));
console.log(out);
