// Device view (#/device/<jid>): description, one live chart per numeric
// channel (in-page ring buffer, seeded from the telemetry node's stored
// items), boolean actuator toggles (the `set` command), the diagnostics
// command's output and the command list (disco#items, filtered by the agent
// for our role), with the generic command runner.
import uPlot from "uplot";
import type { App } from "./main";
import { kids, NS, xml, type Element } from "./conn";
import { ago, h, isoTime } from "./dom";
import { CommandRunner, describeError, renderResult, sendCommand } from "./forms";
import { bestResource, Ring, RING_CAPACITY, type Channel, type Device } from "./store";

interface Chart {
  channel: string;
  box: HTMLElement;
  plot: uPlot | null;
  shown: number; // ring pushes shown
  lastT: number;
}

export class DeviceView {
  private view: HTMLElement;
  private desc: HTMLElement;
  private chartsBox: HTMLElement;
  private actuatorsBox: HTMLElement;
  private diagBox: HTMLElement;
  private commandsBox: HTMLElement;
  private runnerBox: HTMLElement;
  private lastEl: HTMLElement;
  private charts = new Map<string, Chart>();
  private descKey = "";
  private commandsFor = "";
  private destroyed = false;
  private resize: ResizeObserver;

  constructor(private readonly app: App, host: HTMLElement, private readonly jid: string) {
    const back = h("a", { testid: "device-back", href: "#/", class: "back" }, "‹ Fleet");
    this.desc = h("section", { testid: "device-description", class: "card desc" });
    this.lastEl = h("p", { class: "hint" });
    this.chartsBox = h("div", { class: "charts" });
    this.actuatorsBox = h("div", { class: "actuators" });
    this.diagBox = h("div", { class: "diag" });
    this.commandsBox = h("div", { class: "commands" });
    this.runnerBox = h("div", { class: "runner" });
    this.view = h("section", { testid: "device-view", class: "device", "data-jid": jid, "data-health": "offline" },
      h("div", { class: "toolbar" }, back, h("h2", null, jid)),
      this.desc,
      h("section", { class: "card" }, h("h3", null, "Actuators"), this.actuatorsBox),
      h("section", { class: "card" }, h("h3", null, "Commands"), this.commandsBox, this.runnerBox),
      h("section", { class: "card" }, h("h3", null, "Telemetry"), this.lastEl, this.chartsBox),
      h("section", { class: "card" }, h("h3", null, "Diagnostics"), this.diagBox));
    host.replaceChildren(this.view);
    this.resize = new ResizeObserver(() => {
      for (const c of this.charts.values()) c.plot?.setSize(this.chartSize(c.box));
    });
    this.resize.observe(this.chartsBox);

    this.render(new Set([jid]));
  }

  /// Starts the device's ring buffers (first open in this page): the last
  /// readings, then the node's stored items.
  private ensureHistory(d: Device): void {
    if (d.history) return;
    d.history = new Map();
    for (const r of d.last.values()) {
      if (r.kind === "number" && Number.isFinite(r.num)) {
        const ring = new Ring(RING_CAPACITY);
        ring.push(r.timeMs, r.num);
        d.history.set(r.name, ring);
      }
    }
    // Seed from the node's stored items (as many as the server keeps, up to 50).
    void this.app.fetchDevice(d, 50);
  }

  destroy(): void {
    this.destroyed = true;
    this.resize.disconnect();
    for (const c of this.charts.values()) c.plot?.destroy();
  }

  private chartSize(box: HTMLElement): { width: number; height: number } {
    return { width: Math.max(240, (box.clientWidth || 420) - 8), height: 160 };
  }

  render(changed: Set<string>): void {
    if (!changed.has(this.jid)) return;
    const d = this.app.store.get(this.jid);
    if (!d) {
      this.desc.replaceChildren(h("p", { class: "error" }, `${this.jid} is not in your roster.`));
      return;
    }
    this.ensureHistory(d);
    this.view.dataset.health = d.health;
    const key = JSON.stringify([d.descAttrs, d.channels, d.problems, d.extra.map(String), d.health, d.status, d.descError]);
    if (key !== this.descKey) {
      this.descKey = key;
      this.renderDescription(d);
      this.renderActuators(d);
    } else {
      this.updateActuatorValues(d);
    }
    this.renderCharts(d);
    this.tick();
    const target = bestResource(d)?.from ?? "";
    if (target !== this.commandsFor) {
      this.commandsFor = target;
      void this.loadCommands(target);
    }
  }

  tick(): void {
    const d = this.app.store.get(this.jid);
    if (!d) return;
    this.lastEl.textContent = d.lastTime !== undefined
      ? `last item ${d.lastItem} at ${isoTime(d.lastTime)} (${ago(d.lastTime, Date.now())})`
      : d.telemetryError || "no telemetry yet";
  }

  private renderDescription(d: Device): void {
    const rows: [string, string | Node][] = [
      ["presence", d.health + (d.status ? ` — ${d.status}` : "")],
      ["board", d.board || "–"],
      ["firmware", d.firmware || "–"],
      ["health (device node)", d.descHealth || "–"],
    ];
    for (const [k, v] of Object.entries(d.descAttrs)) {
      if (!["board", "firmware", "health"].includes(k) && v !== undefined) rows.push([k, v]);
    }
    const kv = h("table", { class: "kv" }, h("tbody", null, ...rows.map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v)))));
    const parts: (Node | string)[] = [h("h3", null, "Description"), kv];
    if (d.descError && !d.described) parts.push(h("p", { class: "error" }, `device node: ${d.descError}`));
    if (d.problems.length) parts.push(h("ul", { class: "problems" }, ...d.problems.map((p) => h("li", null, p))));
    if (d.channels.length) {
      parts.push(h("details", { class: "channels" }, h("summary", null, `${d.channels.length} channels`), h("table", { class: "grid channels" },
        h("thead", null, h("tr", null, ...["channel", "kind", "type", "unit", "report", "value"].map((c) => h("th", null, c)))),
        h("tbody", null, ...d.channels.map((c) => h("tr", { "data-channel": c.name },
          h("td", null, c.name), h("td", null, c.kind), h("td", null, c.type), h("td", null, c.unit),
          h("td", null, c.report + (c.attrs.deadband ? ` ${c.attrs.deadband}` : "")),
          h("td", { class: "value" }, c.value ?? "")))))));
    }
    for (const el of d.extra) parts.push(renderExtra(el));
    this.desc.replaceChildren(...parts);
  }

  private actuatorValue(d: Device, c: Channel): string {
    const r = d.last.get(c.name);
    const v = r && r.kind === "boolean" ? r.text : c.value ?? "";
    return v === "1" || v === "true" ? "true" : v === "0" || v === "false" ? "false" : v;
  }

  private renderActuators(d: Device): void {
    const acts = d.channels.filter((c) => c.kind === "actuator");
    if (!acts.length) {
      this.actuatorsBox.replaceChildren(h("p", { class: "hint" }, d.described ? "No actuators." : "No device description yet."));
      return;
    }
    const err = h("p", { testid: "actuator-error", class: "error", hidden: true, role: "alert" });
    const items = acts.map((c) => {
      if (c.type !== "boolean") {
        return h("div", { class: "actuator" }, h("span", null, c.name), h("span", { class: "value" }, c.value ?? ""),
          h("small", { class: "hint" }, " (use the set command)"));
      }
      const v = this.actuatorValue(d, c);
      const btn = h("button", { testid: "actuator-toggle", type: "button", class: `toggle ${v === "true" ? "on" : "off"}`,
        "data-channel": c.name, "data-value": v, role: "switch", "aria-checked": v === "true" ? "true" : "false" },
        h("span", { class: "knob" }), ` ${c.name}: `, h("b", { class: "state" }, v === "true" ? "on" : v === "false" ? "off" : "?"));
      btn.addEventListener("click", () => void this.toggle(d, btn, err));
      return btn;
    });
    this.actuatorsBox.replaceChildren(...items, err);
  }

  private updateActuatorValues(d: Device): void {
    for (const btn of this.actuatorsBox.querySelectorAll<HTMLElement>("[data-testid=actuator-toggle]")) {
      const c = d.channels.find((x) => x.name === btn.dataset.channel);
      if (!c) continue;
      const v = this.actuatorValue(d, c);
      if (btn.dataset.value === v) continue;
      btn.dataset.value = v;
      btn.setAttribute("aria-checked", v === "true" ? "true" : "false");
      btn.className = `toggle ${v === "true" ? "on" : "off"}`;
      btn.querySelector(".state")!.textContent = v === "true" ? "on" : v === "false" ? "off" : "?";
    }
  }

  private async toggle(d: Device, btn: HTMLElement, err: HTMLElement): Promise<void> {
    const s = this.app.session;
    const to = bestResource(d)?.from;
    err.hidden = true;
    if (!s || !to) {
      err.textContent = `${d.jid} is offline`;
      err.hidden = false;
      return;
    }
    const want = btn.dataset.value === "true" ? "false" : "true";
    btn.classList.add("pending");
    btn.setAttribute("aria-busy", "true");
    try {
      // One round trip: execute with the submit form (docs/commands.md).
      const r = await sendCommand(s, to, "set", "execute", "", [
        { var: "channel", values: [btn.dataset.channel!] }, { var: "value", values: [want] }]);
      if (r.status !== "completed") throw new Error(`set answered ${r.status}`);
    } catch (e) {
      err.textContent = `${btn.dataset.channel}: ${describeError(e)}`;
      err.hidden = false;
    } finally {
      btn.classList.remove("pending");
      btn.removeAttribute("aria-busy");
    }
  }

  private numericChannels(d: Device): { name: string; unit: string }[] {
    const out = d.channels.filter((c) => c.type === "numeric").map((c) => ({ name: c.name, unit: c.unit }));
    if (!d.described) {
      for (const r of d.last.values()) if (r.kind === "number") out.push({ name: r.name, unit: r.unit });
    }
    return out;
  }

  private renderCharts(d: Device): void {
    const chans = this.numericChannels(d);
    const names = new Set(chans.map((c) => c.name));
    for (const [name, c] of this.charts) {
      if (!names.has(name)) {
        c.plot?.destroy();
        c.box.remove();
        this.charts.delete(name);
      }
    }
    if (!chans.length && !this.chartsBox.childElementCount) {
      this.chartsBox.replaceChildren(h("p", { class: "hint" }, "No numeric channels."));
    }
    for (const ch of chans) {
      let c = this.charts.get(ch.name);
      if (!c) {
        if (this.chartsBox.querySelector("p.hint")) this.chartsBox.replaceChildren();
        const box = h("div", { testid: "channel-chart", class: "chart", "data-channel": ch.name, "data-points": "0" },
          h("div", { class: "chart-title" }, h("b", null, ch.name), ch.unit ? ` (${ch.unit})` : "", h("span", { class: "now" })));
        this.chartsBox.append(box);
        c = { channel: ch.name, box, plot: null, shown: -1, lastT: NaN };
        this.charts.set(ch.name, c);
      }
      const ring = d.history?.get(ch.name);
      const size = ring?.size ?? 0;
      const lastT = ring ? ring.lastTime() : NaN;
      const r = d.last.get(ch.name);
      const now = c.box.querySelector<HTMLElement>(".now")!;
      const nowText = r ? ` ${r.text}${r.unit ? " " + r.unit : ""}` : "";
      if (now.textContent !== nowText) now.textContent = nowText;
      if (size === c.shown && lastT === c.lastT) continue;
      c.shown = size;
      c.lastT = lastT;
      c.box.dataset.points = String(size);
      const data = ring ? ring.arrays() : [[], []];
      if (!c.plot) {
        c.plot = new uPlot({
          ...this.chartSize(c.box),
          legend: { show: false },
          cursor: { show: true, drag: { x: false, y: false } },
          scales: { x: { time: true }, y: { range: (_u: uPlot, min: number, max: number) => yRange(min, max) } },
          series: [{}, { label: ch.name, stroke: "#2a7ab0", width: 1.5, points: { show: size < 40 } }],
          axes: [{}, { size: (_u: uPlot, values: string[] | null) => 20 + 7 * Math.max(3, ...(values ?? []).map((v) => v.length)) }],
        }, data as uPlot.AlignedData, c.box);
      } else {
        c.plot.setData(data as uPlot.AlignedData);
      }
    }
  }

  private async loadCommands(target: string): Promise<void> {
    const s = this.app.session;
    if (!s) return;
    if (!target) {
      this.commandsBox.replaceChildren(h("p", { class: "hint" }, "The device is offline: commands need it online."));
      this.diagBox.replaceChildren(h("p", { class: "hint" }, "offline"));
      return;
    }
    this.commandsBox.replaceChildren(h("p", { class: "hint" }, "Asking for commands…"));
    let items: Element[];
    try {
      const r = await s.iq(target, "get", xml("query", { xmlns: NS.discoItems, node: NS.commands }), 15000);
      items = kids(r.getChild("query", NS.discoItems)!, "item");
    } catch (e) {
      if (this.destroyed || target !== this.commandsFor) return;
      this.commandsBox.replaceChildren(h("p", { class: "error" }, `commands: ${describeError(e)}`));
      return;
    }
    if (this.destroyed || target !== this.commandsFor) return;
    if (!items.length) {
      this.commandsBox.replaceChildren(h("p", { class: "hint" }, "This account may run no command on this device."));
    } else {
      this.commandsBox.replaceChildren(...items.map((it) => {
        const node = it.attrs.node ?? "";
        const name = it.attrs.name ?? node;
        const b = h("button", { testid: "command-button", type: "button", "data-node": node, title: node }, name);
        b.addEventListener("click", () => {
          this.runnerBox.querySelectorAll("button").forEach((x) => (x.disabled = true));
          void new CommandRunner(s, this.runnerBox, it.attrs.jid || target, node, name, (r) => {
            if (node === "diagnostics") this.diagBox.replaceChildren(renderResult(r, "device-diagnostics"));
          }).start();
        });
        return b;
      }));
    }
    if (items.some((it) => it.attrs.node === "diagnostics")) {
      try {
        const r = await sendCommand(s, target, "diagnostics", "execute", "", null);
        if (!this.destroyed) this.diagBox.replaceChildren(renderResult(r, "device-diagnostics"));
      } catch (e) {
        if (!this.destroyed) this.diagBox.replaceChildren(h("p", { class: "error" }, describeError(e)));
      }
    } else {
      this.diagBox.replaceChildren(h("p", { class: "hint" }, "This account may not run diagnostics here."));
    }
  }
}

/// The y range: the data with 10 % margin, ±1 around a flat line (uPlot's
/// default would stretch a flat 18.17 down to 0).
function yRange(min: number, max: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const pad = Math.abs(min) > 10 ? Math.abs(min) * 0.001 + 0.5 : 1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.1;
  return [min - pad, max + pad];
}

/// An unknown child of <device/> (e.g. the desired-state report): its name,
/// attributes and children, generically.
function renderExtra(el: Element): HTMLElement {
  const attrs = Object.entries(el.attrs).filter(([k]) => k !== "xmlns");
  const children = kids(el);
  const text = children.length ? "" : el.text();
  return h("div", { class: "extra", "data-element": el.name },
    h("h4", null, `<${el.name}>`),
    attrs.length ? h("table", { class: "kv" }, h("tbody", null, ...attrs.map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v ?? ""))))) : "",
    text ? h("p", null, text) : "",
    ...children.map(renderExtra));
}
