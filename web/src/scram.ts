// SASL SCRAM-SHA-1 (RFC 5802) for xmpp.js's mechanism factory, on WebCrypto.
// Hi() is PBKDF2-HMAC-SHA-1 (RFC 5802 §2.2), so it is one deriveBits call:
// the npm sasl-scram-sha-1 package loops over 10 000 async HMAC calls, which
// costs seconds in a browser; this costs milliseconds.
const enc = new TextEncoder();

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
function unb64(s: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
function saslname(s: string): string {
  return s.replace(/=/g, "=3D").replace(/,/g, "=2C");
}
async function hmac(key: BufferSource, msg: BufferSource): Promise<Uint8Array<ArrayBuffer>> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, msg));
}

export class ScramSha1 {
  readonly name = "SCRAM-SHA-1";
  readonly clientFirst = true;
  private stage: "initial" | "challenge" | "final" = "initial";
  private cnonce = "";
  private firstBare = "";
  private challengeText = "";
  private serverSignature = "";
  private serverFinal: string | null = null;

  /// `cnonce`: only for test vectors; empty = 18 random bytes, base64.
  constructor(private readonly fixedNonce = "") {}

  async response(cred: { username?: string; password?: string }): Promise<string> {
    if (this.stage === "initial") {
      const raw = new Uint8Array(18);
      crypto.getRandomValues(raw);
      this.cnonce = this.fixedNonce || b64(raw);
      this.firstBare = `n=${saslname(cred.username ?? "")},r=${this.cnonce}`;
      this.stage = "challenge";
      return "n,," + this.firstBare;
    }
    if (this.stage !== "challenge") return "";
    const attrs = new Map<string, string>();
    for (const part of this.challengeText.split(",")) {
      const eq = part.indexOf("=");
      if (eq > 0) attrs.set(part.slice(0, eq), part.slice(eq + 1));
    }
    const nonce = attrs.get("r") ?? "";
    const salt = unb64(attrs.get("s") ?? "");
    const iterations = Number(attrs.get("i"));
    if (!nonce.startsWith(this.cnonce) || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error("SCRAM-SHA-1: the server's challenge is malformed");
    }
    const pw = await crypto.subtle.importKey("raw", enc.encode(cred.password ?? ""), "PBKDF2", false, ["deriveBits"]);
    const salted = new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt, iterations }, pw, 160));
    const clientKey = await hmac(salted, enc.encode("Client Key"));
    const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-1", clientKey));
    const without = `c=biws,r=${nonce}`;
    const authMessage = `${this.firstBare},${this.challengeText},${without}`;
    const sig = await hmac(storedKey, enc.encode(authMessage));
    const proof = clientKey.map((b, i) => b ^ sig[i]!);
    // RFC 5802 §3: ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage),
    // checked against the server-final-message's v= in verifyServer().
    const serverKey = await hmac(salted, enc.encode("Server Key"));
    this.serverSignature = b64(await hmac(serverKey, enc.encode(authMessage)));
    this.stage = "final";
    return `${without},p=${b64(proof)}`;
  }

  challenge(chal: string): this {
    // RFC 6120 §6.3.10 lets the server send its final message as one more
    // challenge (then an empty <success/>) instead of inside <success/>.
    if (this.stage === "final") this.serverFinal = chal;
    else this.challengeText = chal;
    return this;
  }

  /// RFC 5802 §3/§5.1: the server-final-message ("v=<ServerSignature>" or
  /// "e=<error>") proves the server knows the password too. `successData` is
  /// the decoded text of <success/> (empty if it carried none). Returns "" when
  /// the signature matches, else why the login must fail.
  verifyServer(successData: string): string {
    if (this.stage !== "final") return "SCRAM-SHA-1: the server said success before the exchange was complete";
    const text = successData || this.serverFinal || "";
    const attrs = new Map<string, string>();
    for (const part of text.split(",")) {
      const eq = part.indexOf("=");
      if (eq > 0) attrs.set(part.slice(0, eq), part.slice(eq + 1));
    }
    if (attrs.has("e")) return `SCRAM-SHA-1: the server's final message is an error: ${attrs.get("e")}`;
    const v = attrs.get("v");
    if (!v) return "SCRAM-SHA-1: the server sent no signature (v=) with its success, so it did not prove it knows the password";
    if (v !== this.serverSignature) return "SCRAM-SHA-1: the server's signature (v=) does not match: this is not the server that holds the account's password";
    return "";
  }
}

/// Registers the mechanism with an xmpp.js SASL factory (saslmechanisms);
/// `created` gets each instance the factory makes (to check the server's
/// signature after <success/>, which xmpp.js does not hand to the mechanism).
export function useScramSha1(factory: unknown, created?: (m: ScramSha1) => void): void {
  class Tracked extends ScramSha1 {
    constructor() {
      super();
      created?.(this);
    }
  }
  (factory as { use(name: string, mech: unknown): void }).use("SCRAM-SHA-1", Tracked);
}
