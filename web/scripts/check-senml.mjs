// node scripts/check-senml.mjs: decodes the examples of docs/wire-format.md
// with src/senml.ts (bundled on the fly) and exits 1 on a mismatch.
import * as esbuild from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const r = await esbuild.build({ entryPoints: [join(here, "../src/senml.ts")], bundle: true, format: "esm", write: false, platform: "neutral" });
const m = await import("data:text/javascript;base64," + Buffer.from(r.outputFiles[0].text).toString("base64"));
const rows = "CjgKD2RldjFfbG9jYWxob3N0OhCgovmOv5CiBhoQZW52MC50ZW1wZXJhdHVyZSIDQ2VsKgUI1CEQAwobGg1lbnYwLmh1bWlkaXR5IgMlUkgqBQiiBhABChAaDHJlbGF5MC5zdGF0ZTAB";
const cols = "Eg9kZXYxX2xvY2FsaG9zdDoYoKL5jr+QogYiCIDaxAmA2sQJKh8KEGVudjAudGVtcGVyYXR1cmUSA0NlbBgDIgTUIQwAKhMKDHJlbGF5MC5zdGF0ZSoDAQEA";
const fmt = (rs) => rs.map((x) => `${x.name}=${x.text}${x.unit ? " " + x.unit : ""}@${x.timeMs}`).join(" ");
const got1 = fmt(m.parsePack(m.base64Bytes(rows), 0));
const got2 = fmt(m.parsePack(m.base64Bytes(cols), 0));
const want1 = "env0.temperature=21.54 Cel@1763900000250 env0.humidity=40.1 %RH@1763900000250 relay0.state=true@1763900000250";
const want2 = "env0.temperature=21.54 Cel@1763900000250 relay0.state=true@1763900000250 env0.temperature=21.60 Cel@1763900010250 relay0.state=true@1763900010250 env0.temperature=21.60 Cel@1763900020250 relay0.state=false@1763900020250";
let bad = 0;
for (const [g, w, what] of [[got1, want1, "rows"], [got2, want2, "columnar"]]) {
  if (g !== w) { console.error(`${what}: got  ${g}\n${what}: want ${w}`); bad++; } else console.log(`${what}: ok`);
}
for (const [mm, e, w] of [[2154n, -2, "21.54"], [250n, -2, "2.50"], [0n, -2, "0.00"], [12n, 2, "1200"], [-5n, -3, "-0.005"], [2154n, -30, "2154e-30"]]) {
  const g = m.decimalText(mm, e);
  if (g !== w) { console.error(`decimal ${mm}e${e}: got ${g} want ${w}`); bad++; }
}
process.exit(bad ? 1 : 0);
