// web/build.mjs - `npm run build`: bundles src/main.ts (+ uPlot's CSS and
// src/app.css) into dist/app.js + dist/app.css, minified, and copies
// index.html. Source maps go next to them (dist/*.map) but the files do not
// reference them (no sourceMappingURL), so a browser never downloads them.
//   node build.mjs [--sourcemap-url]   --sourcemap-url: reference the maps (debugging)
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist");
const linked = process.argv.includes("--sourcemap-url");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// @xmpp/resolve finds a server from a bare domain (DNS SRV, XEP-0156
// host-meta); the console always connects to an explicit WebSocket URL, so it
// is replaced by a no-op (its node:dns import cannot be bundled for browsers).
const stubResolve = {
  name: "stub-xmpp-resolve",
  setup(b) {
    b.onResolve({ filter: /^@xmpp\/resolve$/ }, () => ({ path: "xmpp-resolve-stub", namespace: "stub" }));
    b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: "export default function resolve() { return {}; }", loader: "js" }));
  },
};

await esbuild.build({
  plugins: [stubResolve],
  entryPoints: { app: join(here, "src/main.ts") },
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  sourcemap: linked ? "linked" : "external",
  legalComments: "none",
  outdir: out,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
});
copyFileSync(join(here, "index.html"), join(out, "index.html"));
