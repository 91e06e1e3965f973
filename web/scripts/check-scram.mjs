// node scripts/check-scram.mjs: src/scram.ts against the SCRAM-SHA-1 example
// exchange of RFC 5802 §5 (user "user", password "pencil"), including the server's
// signature (v=) check; exit 1 on a mismatch.
import * as esbuild from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const r = await esbuild.build({ entryPoints: [join(here, "../src/scram.ts")], bundle: true, format: "esm", write: false, platform: "neutral" });
const { ScramSha1 } = await import("data:text/javascript;base64," + Buffer.from(r.outputFiles[0].text).toString("base64"));
const m = new ScramSha1("fyko+d2lbbFgONRv9qkxdawL");
const cred = { username: "user", password: "pencil" };
const first = await m.response(cred);
m.challenge("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
const final = await m.response(cred);
const want = ["n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="];
let bad = 0;
for (const [g, w] of [[first, want[0]], [final, want[1]]]) {
  if (g !== w) { console.error(`got  ${g}\nwant ${w}`); bad++; }
}
// RFC 5802 §5: the server-final-message of the example; a wrong or missing one fails the login.
if (m.verifyServer("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=") !== "") { console.error("the RFC 5802 server signature was refused"); bad++; }
if (m.verifyServer("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=") === "") { console.error("a wrong server signature was accepted"); bad++; }
if (m.verifyServer("") === "") { console.error("a success without a server signature was accepted"); bad++; }
let refused = false;
try {
  const x = new ScramSha1("abc");
  await x.response(cred);
  x.challenge("r=zzz,s=QSXCR+Q6sek8bf92,i=4096");
  await x.response(cred);
} catch { refused = true; }
if (!refused) { console.error("a server nonce not extending ours was accepted"); bad++; }
console.log(bad ? "scram: FAILED" : "scram: ok (RFC 5802 example)");
process.exit(bad ? 1 : 0);
