// The XMPP session of the console: login over WebSocket (RFC 7395) with
// SCRAM-SHA-1 only, IQ requests with a deadline, our XEP-0115 caps and the
// disco#info answer behind them (which makes the server send us the devices'
// PEP items: "<node>+notify", XEP-0163 §4), roster and presence routing.
import { client, xml, type Client, type Jid } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { ScramSha1, useScramSha1 } from "./scram";

export type { Element };
export { xml };

export const NS = {
  roster: "jabber:iq:roster",
  discoInfo: "http://jabber.org/protocol/disco#info",
  discoItems: "http://jabber.org/protocol/disco#items",
  caps: "http://jabber.org/protocol/caps",
  ping: "urn:xmpp:ping",
  pubsub: "http://jabber.org/protocol/pubsub",
  pubsubEvent: "http://jabber.org/protocol/pubsub#event",
  commands: "http://jabber.org/protocol/commands",
  data: "jabber:x:data",
  stanzas: "urn:ietf:params:xml:ns:xmpp-stanzas",
  muc: "http://jabber.org/protocol/muc",
  mucUser: "http://jabber.org/protocol/muc#user",
  mucOwner: "http://jabber.org/protocol/muc#owner",
  delay: "urn:xmpp:delay",
  device: "urn:xiot:device:0",
  telemetry: "urn:xiot:telemetry:0",
  alert: "urn:xiot:alert:0",
} as const;

const CAPS_NODE = "urn:xiot:console";
const IDENTITY = { category: "client", type: "web", name: "xiot console" };
const FEATURES = [
  NS.caps, NS.discoInfo, NS.ping,
  NS.telemetry + "+notify", NS.device + "+notify",
];

/// A failed IQ, as the user should read it.
export class IqError extends Error {
  constructor(
    readonly condition: string,
    readonly text: string,
    readonly app: string,
    readonly type: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
  }
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/// Checks the WebSocket URL; returns the reason it is refused, or "".
export function checkServiceUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `not a URL: ${url}`;
  }
  if (u.protocol === "wss:") return "";
  if (u.protocol !== "ws:") return `the WebSocket URL must start with wss:// (or ws:// on this machine), got ${u.protocol}//`;
  if (!isLoopbackHost(u.hostname)) {
    return `ws:// is not encrypted: refused for ${u.hostname} (use wss://; ws:// only to 127.0.0.1, ::1 or localhost)`;
  }
  return "";
}

export function defaultServiceUrl(loc: Location): string {
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${loc.host}/xmpp-websocket`;
}

export function bareOf(jid: string): string {
  const slash = jid.indexOf("/");
  return (slash < 0 ? jid : jid.slice(0, slash)).toLowerCase();
}

/// "user@domain" checked loosely (the server has the last word).
export function checkJid(jid: string): string {
  if (!/^[^@/\s]+@[^@/\s]+$/.test(jid)) return "the JID must look like user@domain";
  return "";
}

function b64(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

/// XEP-0115 §5.1 verification string, SHA-1, base64.
export async function capsVer(): Promise<string> {
  let s = `${IDENTITY.category}/${IDENTITY.type}//${IDENTITY.name}<`;
  for (const f of [...new Set(FEATURES)].sort()) s += f + "<";
  return b64(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(s)));
}

/// A login failure whose message is already what the user should read.
export class LoginError extends Error {
  override name = "LoginError";
}

/// How long a login may take in all (WebSocket, stream, SCRAM, resource
/// binding). xmpp.js waits only 2 s for each stream header by default, which a
/// server busy with a few hundred devices misses now and then (the login then
/// failed with an empty TimeoutError); a login is one deadline instead.
export const LOGIN_DEADLINE_MS = 60000;

/// Maps a login failure to one line for the login form; never empty.
/// `waiting`: what the login was waiting for when it failed.
export function describeLoginError(err: unknown, service: string, waiting = "the server"): string {
  const e = err as { name?: string; condition?: string; message?: string; code?: string; text?: string };
  if (err instanceof LoginError && err.message) return err.message;
  const msg = (e?.message ?? String(err)).trim();
  if (e?.name === "SASLError" && e.condition === "not-authorized") return "Wrong JID or password (the server said not-authorized)";
  if (e?.name === "SASLError" && e.condition) return `The server refused the login (SASL ${e.condition}${e.text ? `: ${e.text}` : ""})`;
  if (e?.name === "StreamError" && e.condition) return `The server closed the stream with condition ${e.condition}${e.text ? ` (${e.text})` : ""} while waiting for ${waiting}`;
  if (e?.condition) return `The server refused the login: ${e.condition}${msg && msg !== e.condition ? ` (${msg})` : ""}`;
  if (e?.code === "ECONNERROR" || /ECONNERROR|WebSocket/i.test(msg)) return `Cannot reach the server at ${service}`;
  if (/No compatible mechanism/i.test(msg)) return "The server offers no SCRAM-SHA-1 login (PLAIN is never used)";
  if (e?.name === "TimeoutError" || /timeout/i.test(msg)) return `Timed out waiting for ${waiting} (${service})`;
  return `Login failed while waiting for ${waiting}: ${msg || e?.name || "unknown error"}`;
}

const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";

/// xmpp.start() under one deadline, naming what it waits for: xmpp.js's own
/// waits are per step (the stream headers) or none at all (SASL, and a
/// WebSocket the server closes mid-login leaves start() pending forever).
/// `progress.waiting` follows the login's steps, for the error text.
function startWithDeadline(xmpp: Client, service: string, deadlineMs: number, progress: { waiting: string }): Promise<Jid> {
  return new Promise<Jid>((resolve, reject) => {
    let streamError = "";
    const onStatus = (status: string) => {
      if (status === "connect" || status === "opening") progress.waiting = "the server's stream header";
      else if (status === "open") progress.waiting = "the server's stream features";
    };
    const onSend = (el: Element) => {
      if (el.is("auth", NS_SASL)) progress.waiting = "the server's SCRAM-SHA-1 challenge";
      else if (el.is("response", NS_SASL)) progress.waiting = "the server's SASL success";
      else if (el.name === "iq" && el.getChild("bind", "urn:ietf:params:xml:ns:xmpp-bind")) progress.waiting = "the resource binding result";
    };
    const onNonza = (el: Element) => {
      if (el.is("success", NS_SASL)) progress.waiting = "the server's stream header after authentication";
      if (el.is("error", "http://etherx.jabber.org/streams")) {
        const c = el.getChildElements()[0];
        const text = el.getChildText("text", "urn:ietf:params:xml:ns:xmpp-streams");
        streamError = (c?.name ?? "undefined-condition") + (text ? ` (${text})` : "");
      }
    };
    const onClose = () => {
      finish(new LoginError(streamError
        ? `The server closed the stream with condition ${streamError} while the login waited for ${progress.waiting}`
        : `The server closed the stream while the login waited for ${progress.waiting}`));
    };
    const onDisconnect = (ev?: { clean?: boolean; reason?: { code?: number; reason?: string } }) => {
      const code = ev?.reason?.code;
      const why = ev?.reason?.reason;
      finish(new LoginError(
        (streamError ? `The server closed the stream with condition ${streamError}` : "The WebSocket connection was closed") +
        ` while the login waited for ${progress.waiting}` +
        (code !== undefined ? ` (WebSocket close code ${code}${why ? `: ${why}` : ""})` : "")));
    };
    const timer = setTimeout(() => {
      finish(new LoginError(`Timed out after ${Math.round(deadlineMs / 1000)} s waiting for ${progress.waiting} (${service})`));
    }, deadlineMs);
    let done = false;
    function finish(err: Error | null, jid?: Jid) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      xmpp.removeListener("status", onStatus);
      xmpp.removeListener("send", onSend);
      xmpp.removeListener("nonza", onNonza);
      xmpp.removeListener("close", onClose);
      xmpp.removeListener("disconnect", onDisconnect);
      if (err) reject(err);
      else resolve(jid!);
    }
    xmpp.on("status", onStatus);
    xmpp.on("send", onSend);
    xmpp.on("nonza", onNonza);
    xmpp.on("close", onClose);
    xmpp.on("disconnect", onDisconnect);
    xmpp.start().then((jid) => finish(null, jid), (e) => {
      // An error event that is a stream error: the server's word, with its condition.
      finish(e instanceof Error || e ? e : new Error(String(e)));
    });
  });
}

export interface PresenceInfo {
  from: string; // full JID
  type: string; // "" = available
  show: string;
  status: string;
  priority: number;
}

export interface Session {
  client: Client;
  jid: Jid;
  bare: string;
  domain: string;
  iq(to: string, type: "get" | "set", payload: Element, timeoutMs?: number): Promise<Element>;
  send(el: Element): void;
  /// Our available presence with caps (send it after the roster, RFC 6121 §2.2).
  sendPresence(): void;
  stop(): Promise<void>;
}

/// Logs in; rejects with a user-readable Error for wrong credentials or an
/// unreachable server. After this, `online` runs again after every reconnection.
export async function login(opts: {
  jid: string;
  password: string;
  service: string;
  stanza: (el: Element) => void;
  online: (s: Session) => void;
  lost: (why: string) => void;
}): Promise<Session> {
  const at = opts.jid.indexOf("@");
  const username = opts.jid.slice(0, at);
  const domain = opts.jid.slice(at + 1);
  const resource = "console-" + Math.random().toString(36).slice(2, 8);
  const xmpp = client({
    service: opts.service,
    domain,
    resource,
    // Each stream header may take the whole login deadline (default 2 s).
    timeout: LOGIN_DEADLINE_MS,
    // SCRAM-SHA-1 only: never PLAIN, even if offered (and the xiot servers offer only SCRAM).
    credentials: async (authenticate, mechanisms) => {
      if (!mechanisms.includes("SCRAM-SHA-1")) throw new Error("No compatible mechanism: server offers " + mechanisms.join(", "));
      // xmpp.js does not hand the <success/> data (RFC 5802 server-final-message)
      // to the mechanism: take it from the stream and check the server's signature.
      let success: Element | null = null;
      const onNonza = (el: Element) => {
        if (el.is("success", NS_SASL)) success = el;
      };
      xmpp.on("nonza", onNonza);
      try {
        await authenticate({ username, password: opts.password }, "SCRAM-SHA-1");
      } finally {
        xmpp.removeListener("nonza", onNonza);
      }
      let data = "";
      try {
        data = atob((success as Element | null)?.text().trim() ?? "");
      } catch {
        throw new LoginError("SCRAM-SHA-1: the server's success data is not base64");
      }
      const why = scram?.verifyServer(data) ?? "SCRAM-SHA-1: no mechanism ran";
      if (why) throw new LoginError(why);
    },
  });
  // @xmpp/client leaves SCRAM-SHA-1 out of browser builds (its package.json
  // "browser" map): ours (src/scram.ts, PBKDF2 in WebCrypto) is registered here.
  let scram: ScramSha1 | null = null;
  useScramSha1(xmpp.saslFactory, (m) => (scram = m));

  const ver = await capsVer();
  const progress = { waiting: `the WebSocket connection to ${opts.service}` };
  let started = false;
  let session: Session | null = null;

  xmpp.iqCallee.get(NS.discoInfo, "query", (ctx) => {
    const node = ctx.element.attrs.node;
    return xml("query", { xmlns: NS.discoInfo, node },
      xml("identity", { category: IDENTITY.category, type: IDENTITY.type, name: IDENTITY.name }),
      ...[...new Set(FEATURES)].sort().map((f) => xml("feature", { var: f })));
  });
  xmpp.on("stanza", (el) => {
    if (!started) return;
    try {
      opts.stanza(el);
    } catch (e) {
      console.error("stanza handler failed", e, el.toString());
    }
  });
  xmpp.on("error", (err) => {
    if (started) console.warn("xmpp error", err);
  });
  xmpp.on("offline", () => {
    if (started) opts.lost("disconnected");
  });
  xmpp.on("disconnect", () => {
    if (started) opts.lost("connection lost, reconnecting…");
  });
  xmpp.on("online", () => {
    if (started && session) opts.online(session);
  });
  // Closing or reloading the tab: end the stream cleanly, synchronously. A
  // WebSocket that just drops leaves a stream-management session that the
  // server keeps "hibernating" for minutes, still receiving every device's
  // notifications.
  window.addEventListener("pagehide", () => {
    if (!started) return;
    started = false;
    const ws = (xmpp as unknown as { socket?: { socket?: WebSocket | null } }).socket?.socket;
    try {
      ws?.send("<presence xmlns='jabber:client' type='unavailable'/>");
      ws?.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
      ws?.close(1000);
    } catch {
      /* the socket is gone already */
    }
  });
  // A resumed stream (XEP-0198) keeps roster, presence and subscriptions: nothing to redo.
  (xmpp as unknown as { streamManagement?: { on(ev: string, fn: () => void): void } })
    .streamManagement?.on("resumed", () => {
      if (started) opts.lost("");
    });

  try {
    xmpp.reconnect.stop(); // no retry loop behind a wrong password
    const j = await startWithDeadline(xmpp, opts.service, LOGIN_DEADLINE_MS, progress);
    started = true;
    xmpp.reconnect.start();
    const s: Session = {
      client: xmpp,
      jid: j,
      bare: bareOf(j.toString()),
      domain: j.domain,
      iq: async (to, type, payload, timeoutMs = 30000) => {
        try {
          return await xmpp.iqCaller.request(xml("iq", { type, to: to || undefined }, payload), timeoutMs);
        } catch (e) {
          const se = e as { name?: string; condition?: string; text?: string; application?: Element; type?: string; message?: string };
          if (se.name === "StanzaError") {
            throw new IqError(se.condition ?? "error", se.text ?? "", se.application?.name ?? "", se.type ?? "");
          }
          if (se.name === "TimeoutError" || /timeout/i.test(se.message ?? "")) throw new IqError("timeout", `no answer from ${to || "the server"}`, "", "wait");
          throw e;
        }
      },
      send: (el) => void xmpp.send(el).catch((e) => console.warn("send failed", e)),
      sendPresence: () => void xmpp.send(xml("presence", null,
        xml("priority", null, "-1"),
        xml("c", { xmlns: NS.caps, hash: "sha-1", node: CAPS_NODE, ver }))),
      stop: async () => {
        started = false;
        xmpp.reconnect.stop();
        xmpp.timeout = 5000; // logging out waits at most this for the server's </close>
        try {
          await xmpp.send(xml("presence", { type: "unavailable" }));
          await xmpp.stop();
        } catch {
          /* already gone */
        }
      },
    };
    session = s;
    queueMicrotask(() => opts.online(s));
    return s;
  } catch (e) {
    xmpp.timeout = 5000; // the error is shown after at most this wait for </close>
    try {
      await xmpp.stop();
    } catch {
      /* ignore */
    }
    throw new LoginError(describeLoginError(e, opts.service, progress.waiting));
  }
}

export function parsePresence(el: Element): PresenceInfo {
  return {
    from: el.attrs.from ?? "",
    type: el.attrs.type ?? "",
    show: el.getChildText("show") ?? "",
    status: el.getChildText("status") ?? "",
    priority: Number(el.getChildText("priority") ?? "0") || 0,
  };
}

/// The child elements of `el` in document order.
export function kids(el: Element, name?: string, ns?: string): Element[] {
  const out: Element[] = [];
  for (const c of el.children) {
    if (typeof c === "string") continue;
    if (name && c.name !== name) continue;
    if (ns && c.attrs.xmlns !== ns) continue;
    out.push(c);
  }
  return out;
}
