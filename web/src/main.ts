// The xiot console: login, then the fleet, a device, commands and alarms,
// all over the operator's own XMPP session. Routes: #/ (fleet) and
// #/device/<bare jid>.
import "uplot/dist/uPlot.min.css";
import "./app.css";
import {
  bareOf, checkJid, IqError, checkServiceUrl, defaultServiceUrl, kids, login, NS, parsePresence, xml,
  type Element, type Session,
} from "./conn";
import { h } from "./dom";
import { parsePayload } from "./senml";
import { applyDescription, applyPresence, applyReadings, Store, type Device } from "./store";
import { FleetView } from "./fleet";
import { DeviceView } from "./device";
import { AlarmPanel } from "./alarms";

export class App {
  readonly store = new Store();
  session: Session | null = null;
  private main!: HTMLElement;
  private banner!: HTMLElement;
  private fleet: FleetView | null = null;
  private deviceView: DeviceView | null = null;
  alarms: AlarmPanel | null = null;
  private rosterHandlerInstalled = false;

  constructor(private readonly root: HTMLElement) {}

  start(): void {
    this.showLogin();
  }

  // --- login ---------------------------------------------------------------------

  private showLogin(error = ""): void {
    const remembered = localStorage.getItem("xiot.console.jid") ?? "";
    const jid = h("input", { testid: "login-jid", name: "jid", type: "text", autocomplete: "username", placeholder: "ops@example.org", value: remembered, required: true });
    const pw = h("input", { testid: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const ws = h("input", { testid: "login-websocket", name: "service", type: "text", placeholder: defaultServiceUrl(location), value: localStorage.getItem("xiot.console.ws") ?? "" });
    const err = h("p", { testid: "login-error", class: "error", role: "alert", hidden: !error }, error);
    const submit = h("button", { testid: "login-submit", type: "submit" }, "Log in");
    const form = h("form", { class: "login", autocomplete: "on" },
      h("h1", null, "xiot console"),
      h("label", null, "JID", jid),
      h("label", null, "Password", pw),
      h("details", null, h("summary", null, "Server"),
        h("label", null, "WebSocket URL", ws),
        h("p", { class: "hint" }, "Default: this page's server, /xmpp-websocket. ws:// only to this machine; anything else needs wss://.")),
      submit, err);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const j = jid.value.trim();
      const service = ws.value.trim() || defaultServiceUrl(location);
      const why = checkJid(j) || checkServiceUrl(service) || (pw.value ? "" : "the password is empty");
      if (why) {
        err.textContent = why;
        err.hidden = false;
        return;
      }
      submit.disabled = true;
      err.hidden = true;
      submit.textContent = "Logging in…";
      try {
        const s = await login({
          jid: j, password: pw.value, service,
          stanza: (el) => this.onStanza(el),
          online: (s) => this.onOnline(s),
          lost: (why) => this.setBanner(why),
        });
        localStorage.setItem("xiot.console.jid", j);
        if (ws.value.trim()) localStorage.setItem("xiot.console.ws", ws.value.trim());
        else localStorage.removeItem("xiot.console.ws");
        pw.value = "";
        this.session = s;
        this.showShell();
      } catch (e) {
        err.textContent = (e as Error).message;
        err.hidden = false;
        submit.disabled = false;
        submit.textContent = "Log in";
      }
    });
    this.root.replaceChildren(form);
    (remembered ? pw : jid).focus();
  }

  private showShell(): void {
    const s = this.session!;
    this.main = h("main", { class: "view" });
    this.banner = h("div", { class: "banner", hidden: true, role: "status" });
    const logout = h("button", { class: "link", type: "button" }, "Log out");
    logout.addEventListener("click", async () => {
      await s.stop();
      location.hash = "";
      location.reload();
    });
    const header = h("header", null,
      h("a", { href: "#/", class: "brand" }, "xiot console"),
      h("span", { class: "grow" }),
      h("span", { testid: "session-jid", class: "session" }, s.bare),
      logout);
    const aside = h("aside", { class: "side" });
    this.alarms = new AlarmPanel(this, aside);
    this.root.replaceChildren(header, this.banner, h("div", { class: "body" }, this.main, aside));
    this.store.subscribe((changed, membership) => {
      this.fleet?.render(changed, membership);
      this.deviceView?.render(changed);
    });
    window.addEventListener("hashchange", () => this.route());
    this.route();
    setInterval(() => {
      this.fleet?.tick();
      this.deviceView?.tick();
    }, 1000);
  }

  setBanner(text: string): void {
    if (!this.banner) return;
    this.banner.textContent = text;
    this.banner.hidden = !text;
  }

  private route(): void {
    const hash = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
    this.fleet?.destroy();
    this.deviceView?.destroy();
    this.fleet = null;
    this.deviceView = null;
    const m = /^\/device\/(.+)$/.exec(hash);
    if (m) {
      this.deviceView = new DeviceView(this, this.main, bareOf(m[1]!));
    } else {
      this.fleet = new FleetView(this, this.main);
    }
  }

  // --- session events -----------------------------------------------------------

  private async onOnline(s: Session): Promise<void> {
    this.session = s;
    this.setBanner("");
    if (!this.rosterHandlerInstalled) {
      this.rosterHandlerInstalled = true;
      s.client.iqCallee.set(NS.roster, "query", (ctx) => {
        const from = ctx.stanza.attrs.from;
        if (from && bareOf(from) !== s.bare) return xml("error", { type: "cancel" }, xml("forbidden", { xmlns: NS.stanzas }));
        this.applyRosterItems(ctx.element, false);
        return true;
      });
    }
    // A new session: nobody's presence is known until the server sends it again.
    for (const d of this.store.devices.values()) {
      if (d.resources.size === 0) continue;
      d.resources.clear();
      d.health = "offline";
      this.store.touch(d.jid, true);
    }
    try {
      const r = await s.iq("", "get", xml("query", { xmlns: NS.roster }));
      const q = r.getChild("query", NS.roster);
      if (q) this.applyRosterItems(q, true);
    } catch (e) {
      this.setBanner(`cannot read the roster: ${(e as Error).message}`);
    }
    s.sendPresence();
    this.alarms?.join();
    // Prosody sends the last item of every node we +notify for as soon as it
    // knows our caps; ask only for what has not come by then (ejabberd, or an
    // empty node), so a login does not cost the server every item twice.
    setTimeout(() => void this.fetchAll(true), 2500);
  }

  private applyRosterItems(q: Element, full: boolean): void {
    const s = this.session!;
    const seen = new Set<string>();
    for (const it of kids(q, "item")) {
      const jid = bareOf(it.attrs.jid ?? "");
      if (!jid || jid === s.bare) continue;
      if (it.attrs.subscription === "remove") {
        this.store.remove(jid);
        continue;
      }
      seen.add(jid);
      const d = this.store.ensure(jid);
      d.name = it.attrs.name ?? "";
      d.subscription = it.attrs.subscription ?? "none";
      this.store.touch(jid, true);
      if (!full) void this.fetchDevice(d);
    }
    if (full) for (const jid of [...this.store.devices.keys()]) if (!seen.has(jid)) this.store.remove(jid);
  }

  /// The newest device description and telemetry item of every device (with
  /// `missingOnly`, of those not received yet), 32 devices at a time (the
  /// +notify route brings later ones).
  private async fetchAll(missingOnly: boolean): Promise<void> {
    const queue = [...this.store.devices.values()].filter((d) => !missingOnly || !d.described || d.lastTime === undefined);
    const worker = async () => {
      for (let d = queue.shift(); d; d = queue.shift()) await this.fetchDevice(d, 1, missingOnly);
    };
    await Promise.all(Array.from({ length: 32 }, worker));
  }

  async fetchDevice(d: Device, telemetryItems = 1, missingOnly = false): Promise<void> {
    const s = this.session;
    if (!s) return;
    const get = (node: string, max: number) =>
      s.iq(d.jid, "get", xml("pubsub", { xmlns: NS.pubsub }, xml("items", { node, max_items: String(max) })), 20000);
    await Promise.all([
      missingOnly && d.described ? null : get(NS.device, 1).then((r) => this.onItems(d.jid, r.getChild("pubsub", NS.pubsub)?.getChild("items")),
        (e) => { d.descError = nodeError(e, "no device description"); this.store.touch(d.jid); }),
      missingOnly && d.lastTime !== undefined ? null : get(NS.telemetry, telemetryItems).then((r) => this.onItems(d.jid, r.getChild("pubsub", NS.pubsub)?.getChild("items")),
        (e) => { d.telemetryError = nodeError(e, "no telemetry published"); this.store.touch(d.jid); }),
    ]);
  }

  private onItems(from: string, items: Element | undefined): void {
    if (!items) return;
    const node = items.attrs.node ?? "";
    for (const item of kids(items, "item")) {
      const payload = kids(item)[0];
      if (payload) this.onItem(from, node, item.attrs.id ?? "", payload);
    }
  }

  private onItem(from: string, node: string, id: string, payload: Element): void {
    const d = this.store.get(from);
    if (!d) return;
    if (node === NS.device) {
      if (payload.name !== "device") return;
      const before = `${d.board}\n${d.firmware}`;
      applyDescription(d, payload);
      this.store.touch(from, before !== `${d.board}\n${d.firmware}`);
    } else if (node === NS.telemetry) {
      try {
        if (applyReadings(d, id, parsePayload(payload, Date.now()))) this.store.touch(from);
      } catch (e) {
        d.telemetryError = `item ${id}: ${(e as Error).message}`;
        this.store.touch(from);
      }
    }
  }

  /// A stanza as if it had arrived (the debug hook).
  inject(el: Element): void {
    this.onStanza(el);
  }

  private onStanza(el: Element): void {
    const s = this.session;
    if (!s) return;
    if (el.name === "presence") {
      if (this.alarms?.onPresence(el)) return;
      const p = parsePresence(el);
      const bare = bareOf(p.from);
      if (!bare || bare === s.bare) return;
      if (p.type === "subscribe") {
        // Approve devices of our roster (the agent subscribes back to operators);
        // leave anyone else's request pending for a person to decide in another client.
        if (this.store.get(bare)) s.send(xml("presence", { to: bare, type: "subscribed" }));
        return;
      }
      if (p.type !== "" && p.type !== "unavailable") return;
      const d = this.store.get(bare);
      if (!d) return;
      const before = d.health;
      applyPresence(d, p);
      this.store.touch(bare, before !== d.health);
    } else if (el.name === "message") {
      if (this.alarms?.onMessage(el)) return;
      const ev = el.getChild("event", NS.pubsubEvent);
      if (!ev) return;
      const from = bareOf(el.attrs.from ?? "");
      for (const items of kids(ev, "items")) this.onItems(from, items);
    }
  }
}

function nodeError(e: unknown, missing: string): string {
  return e instanceof IqError && e.condition === "item-not-found" ? missing : (e as Error).message;
}

/// DOM (from DOMParser) → xmpp.js element, for the debug hook below.
function fromDom(n: globalThis.Element): Element {
  const attrs: Record<string, string> = {};
  for (const a of n.attributes) attrs[a.name] = a.value;
  const el = xml(n.localName, attrs);
  for (const c of n.childNodes) {
    if (c.nodeType === 1) el.append(fromDom(c as globalThis.Element));
    else if (c.nodeType === 3) el.append(c.textContent ?? "");
  }
  return el;
}

const root = document.getElementById("app");
if (root) {
  const app = new App(root);
  app.start();
  // For load measurements (web/scripts/load.mjs --synthetic): with
  // localStorage["xiot.console.debug"] set, stanzas can be fed in as if received.
  if (localStorage.getItem("xiot.console.debug")) {
    (window as unknown as Record<string, unknown>).xiotConsoleInject = (text: string) => {
      const doc = new DOMParser().parseFromString(text, "application/xml");
      app.inject(fromDom(doc.documentElement));
    };
  }
}
