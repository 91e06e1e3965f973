// Alarms panel: joins the XEP-0045 room the devices send alarms to (default
// alarms@conference.<our domain>, changeable in the page) and lists the
// <alert xmlns='urn:xiot:alert:0'/> messages, the room's history included,
// newest first. Rows link to the device.
import type { App } from "./main";
import { bareOf, NS, xml, type Element } from "./conn";
import { h, isoTime } from "./dom";

const MAX_ALARMS = 500;

export interface Alarm {
  device: string;
  channel: string;
  state: string; // alarm | clear
  comparison: string;
  threshold: string;
  value: string;
  unit: string;
  at: number; // ms
  atText: string;
  body: string;
  key: string;
}

export function parseAlert(msg: Element): Alarm | null {
  const a = msg.getChild("alert", NS.alert);
  if (!a) return null;
  const at = Date.parse(a.attrs.at ?? "");
  const delay = msg.getChild("delay", NS.delay)?.attrs.stamp;
  const when = Number.isFinite(at) ? at : delay ? Date.parse(delay) : Date.now();
  const alarm: Alarm = {
    device: bareOf(a.attrs.device ?? ""),
    channel: a.attrs.channel ?? "",
    state: a.attrs.state === "clear" ? "clear" : "alarm",
    comparison: a.attrs.comparison ?? "",
    threshold: a.attrs.threshold ?? "",
    value: a.attrs.value ?? "",
    unit: a.attrs.unit ?? "",
    at: when,
    atText: a.attrs.at ?? isoTime(when),
    body: msg.getChildText("body") ?? "",
    key: "",
  };
  alarm.key = [alarm.device, alarm.channel, alarm.state, alarm.atText, alarm.value].join("\n");
  return alarm;
}

export class AlarmPanel {
  private room = "";
  private nick = "";
  private list: HTMLElement;
  private status: HTMLElement;
  private input: HTMLInputElement;
  private alarms: Alarm[] = [];
  private keys = new Set<string>();
  private frame = 0;

  constructor(private readonly app: App, host: HTMLElement) {
    const s = app.session!;
    this.input = h("input", { testid: "alarm-room", type: "text", "aria-label": "alarm room",
      value: localStorage.getItem("xiot.console.room") || `alarms@conference.${s.domain}` });
    this.status = h("p", { class: "hint", testid: "alarm-status" });
    this.list = h("ol", { class: "alarms" });
    const form = h("form", { class: "room" }, this.input, h("button", { type: "submit" }, "Join"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const v = this.input.value.trim();
      if (v === `alarms@conference.${s.domain}`) localStorage.removeItem("xiot.console.room");
      else localStorage.setItem("xiot.console.room", v);
      this.join();
    });
    host.replaceChildren(h("section", { testid: "alarm-panel", class: "alarm-panel" },
      h("h3", null, "Alarms"), form, this.status, this.list));
    this.list.addEventListener("click", (ev) => {
      const li = (ev.target as HTMLElement).closest<HTMLElement>("[data-testid=alarm-item]");
      if (li?.dataset.device && !(ev.target as HTMLElement).closest("a")) location.hash = `#/device/${li.dataset.device}`;
    });
  }

  /// (Re)joins the configured room, asking for its history.
  join(): void {
    const s = this.app.session;
    if (!s) return;
    const room = this.input.value.trim().toLowerCase();
    if (!/^[^@/\s]+@[^@/\s]+$/.test(room)) {
      this.setStatus(`not a room JID: ${room}`, true);
      return;
    }
    if (this.room && this.room !== room) s.send(xml("presence", { to: `${this.room}/${this.nick}`, type: "unavailable" }));
    if (this.room !== room) {
      this.alarms = [];
      this.keys.clear();
      this.schedule();
    }
    this.room = room;
    this.nick = `${s.jid.local}-console-${Math.random().toString(36).slice(2, 6)}`;
    this.setStatus(`joining ${room}…`, false);
    s.send(xml("presence", { to: `${room}/${this.nick}` },
      xml("x", { xmlns: NS.muc }, xml("history", { maxstanzas: "100" }))));
  }

  private setStatus(text: string, error: boolean): void {
    this.status.textContent = text;
    this.status.className = error ? "error" : "hint";
  }

  /// True when the presence was the room's.
  onPresence(el: Element): boolean {
    const from = el.attrs.from ?? "";
    if (!this.room || bareOf(from) !== this.room) return false;
    const s = this.app.session!;
    if (el.attrs.type === "error") {
      const err = el.getChild("error");
      const cond = err?.getChildElements().find((c) => c.name !== "text")?.name ?? "error";
      const text = err?.getChildText("text", NS.stanzas) ?? "";
      this.setStatus(`cannot join ${this.room}: ${cond}${text ? " — " + text : ""}`, true);
      return true;
    }
    const x = el.getChild("x", NS.mucUser);
    const codes = x ? x.getChildren("status").map((c) => c.attrs.code) : [];
    if (codes.includes("110") && el.attrs.type !== "unavailable") {
      this.setStatus(`in ${this.room}`, false);
      if (codes.includes("201")) {
        // We created the room: make it an instant room (XEP-0045 §10.1.2) so devices can join.
        void s.iq(this.room, "set", xml("query", { xmlns: NS.mucOwner }, xml("x", { xmlns: NS.data, type: "submit" })))
          .catch((e) => this.setStatus(`created ${this.room} but could not unlock it: ${(e as Error).message}`, true));
      }
    }
    return true;
  }

  /// True when the message was the room's.
  onMessage(el: Element): boolean {
    const from = el.attrs.from ?? "";
    if (!this.room || bareOf(from) !== this.room) return false;
    if (el.attrs.type === "error") {
      this.setStatus(`room error: ${el.getChild("error")?.getChildElements()[0]?.name ?? "?"}`, true);
      return true;
    }
    const a = parseAlert(el);
    if (!a || this.keys.has(a.key)) return true;
    this.keys.add(a.key);
    this.alarms.push(a);
    this.schedule();
    return true;
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  private render(): void {
    this.frame = 0;
    this.alarms.sort((x, y) => y.at - x.at);
    if (this.alarms.length > MAX_ALARMS) {
      for (const a of this.alarms.splice(MAX_ALARMS)) this.keys.delete(a.key);
    }
    this.list.replaceChildren(...this.alarms.map((a) => h("li", {
      testid: "alarm-item", class: `alarm ${a.state}`, "data-device": a.device, "data-channel": a.channel,
      "data-state": a.state, title: a.body,
    },
    h("span", { class: "state" }, a.state === "alarm" ? "ALARM" : "clear"), " ",
    h("a", { href: `#/device/${a.device}` }, a.device), " ",
    h("span", { class: "channel" }, a.channel), " ",
    h("b", null, `${a.value}${a.unit ? " " + a.unit : ""}`),
    a.comparison ? h("span", { class: "hint" }, ` ${a.comparison} ${a.threshold}`) : "",
    h("time", { datetime: a.atText }, a.atText))));
    if (!this.alarms.length) this.list.append(h("li", { class: "hint" }, "No alarms."));
  }
}
