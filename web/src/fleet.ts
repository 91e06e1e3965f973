// Fleet view (#/): the summary, search + health filter and a virtualised list
// (fixed row height; only the rows in view, plus a few, are in the DOM, and
// they are reused). Store changes arrive at most once per animation frame;
// ages tick once per second.
import type { App } from "./main";
import { ago, h } from "./dom";
import { HEALTHS, lastSummary, type Device, type Health } from "./store";

const ROW_H = 36;
const OVERSCAN = 4;

interface Row {
  el: HTMLElement;
  jid: string;
  health: HTMLElement;
  name: HTMLElement;
  firmware: HTMLElement;
  board: HTMLElement;
  last: HTMLElement;
  age: HTMLElement;
}

export class FleetView {
  private summary: HTMLElement;
  private search: HTMLInputElement;
  private filter: HTMLSelectElement;
  private list: HTMLElement;
  private spacer: HTMLElement;
  private empty: HTMLElement;
  private rows: Row[] = [];
  private visible: string[] = [];
  private first = -1;
  private count = 0;
  private scrollFrame = 0;

  constructor(private readonly app: App, host: HTMLElement) {
    const saved = sessionStorage.getItem("xiot.console.filter") ?? "";
    this.summary = h("div", { testid: "fleet-summary", class: "summary" });
    this.search = h("input", { testid: "fleet-search", type: "search", placeholder: "Search JID, board, firmware", "aria-label": "search" });
    this.search.value = sessionStorage.getItem("xiot.console.search") ?? "";
    this.filter = h("select", { testid: "fleet-filter", "aria-label": "health filter" },
      ...["all", ...HEALTHS].map((v) => h("option", { value: v }, v)));
    this.filter.value = saved && (saved === "all" || (HEALTHS as string[]).includes(saved)) ? saved : "all";
    this.spacer = h("div", { class: "spacer" });
    this.list = h("div", { testid: "fleet-list", class: "fleet-list", role: "list" }, this.spacer);
    this.empty = h("p", { class: "hint", hidden: true });
    const head = h("div", { class: "row head" },
      h("span", { class: "c-health" }, "health"), h("span", { class: "c-jid" }, "device"),
      h("span", { class: "c-fw" }, "firmware"), h("span", { class: "c-board" }, "board"),
      h("span", { class: "c-last" }, "last telemetry"), h("span", { class: "c-age" }, "age"));
    host.replaceChildren(h("section", { class: "fleet" },
      h("div", { class: "toolbar" }, this.summary, this.search, this.filter), head, this.list, this.empty));
    this.search.addEventListener("input", () => {
      sessionStorage.setItem("xiot.console.search", this.search.value);
      this.refilter();
    });
    this.filter.addEventListener("change", () => {
      sessionStorage.setItem("xiot.console.filter", this.filter.value);
      this.refilter();
    });
    this.list.addEventListener("scroll", () => {
      if (!this.scrollFrame) this.scrollFrame = requestAnimationFrame(() => {
        this.scrollFrame = 0;
        this.layout(false);
      });
    });
    this.list.addEventListener("click", (ev) => {
      const row = (ev.target as HTMLElement).closest<HTMLElement>("[data-testid=device-row]");
      if (row?.dataset.jid) location.hash = `#/device/${row.dataset.jid}`;
    });
    this.list.addEventListener("keydown", (ev) => {
      const row = (ev.target as HTMLElement).closest<HTMLElement>("[data-testid=device-row]");
      if (row?.dataset.jid && (ev.key === "Enter" || ev.key === " ")) location.hash = `#/device/${row.dataset.jid}`;
    });
    new ResizeObserver(() => this.layout(false)).observe(this.list);
    this.refilter();
  }

  destroy(): void {
    cancelAnimationFrame(this.scrollFrame);
  }

  private matches(d: Device, q: string, f: string): boolean {
    if (f !== "all" && d.health !== f) return false;
    if (!q) return true;
    return d.jid.includes(q) || d.board.toLowerCase().includes(q) || d.firmware.toLowerCase().includes(q) ||
      d.name.toLowerCase().includes(q);
  }

  private refilter(): void {
    const q = this.search.value.trim().toLowerCase();
    const f = this.filter.value;
    const store = this.app.store;
    this.visible = store.sorted.filter((jid) => this.matches(store.get(jid)!, q, f));
    this.spacer.style.height = `${this.visible.length * ROW_H}px`;
    const c = store.counts();
    const s = this.summary;
    s.dataset.total = String(c.total);
    for (const k of HEALTHS) s.dataset[k] = String(c[k]);
    s.replaceChildren(
      h("b", null, `${c.total} devices`),
      ...HEALTHS.map((k) => h("span", { class: `pill ${k}` }, `${c[k]} ${k}`)),
      this.visible.length !== c.total ? h("span", { class: "hint" }, `${this.visible.length} shown`) : "");
    this.empty.hidden = this.visible.length > 0;
    this.empty.textContent = c.total === 0
      ? "No devices in this account's roster yet (a device is any roster contact; see docs/xiotctl.md)."
      : "No device matches.";
    this.layout(true);
  }

  /// Places the rows for the current scroll position; `all` refills every row.
  private layout(all: boolean): void {
    const height = this.list.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.list.scrollTop / ROW_H) - OVERSCAN);
    const count = Math.min(this.visible.length - first, Math.ceil(height / ROW_H) + 2 * OVERSCAN);
    while (this.rows.length < count) this.rows.push(this.newRow());
    while (this.rows.length > Math.max(count, 0)) this.rows.pop()!.el.remove();
    const moved = first !== this.first || count !== this.count;
    this.first = first;
    this.count = count;
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const row = this.rows[i]!;
      const jid = this.visible[first + i]!;
      row.el.style.transform = `translateY(${(first + i) * ROW_H}px)`;
      if (all || moved || row.jid !== jid) this.fill(row, jid, now);
    }
  }

  private newRow(): Row {
    const r: Row = {
      el: h("div", { testid: "device-row", class: "row", role: "listitem", tabindex: 0 }),
      jid: "",
      health: h("span", { class: "c-health" }),
      name: h("span", { class: "c-jid" }),
      firmware: h("span", { testid: "device-firmware", class: "c-fw" }),
      board: h("span", { testid: "device-board", class: "c-board" }),
      last: h("span", { testid: "device-last", class: "c-last" }),
      age: h("span", { testid: "device-age", class: "c-age" }),
    };
    r.el.append(r.health, r.name, r.firmware, r.board, r.last, r.age);
    this.list.append(r.el);
    return r;
  }

  private fill(row: Row, jid: string, now: number): void {
    const d = this.app.store.get(jid);
    if (!d) return;
    row.jid = jid;
    row.el.dataset.jid = jid;
    setIf(row.el.dataset, "health", d.health);
    row.health.className = `c-health dot ${d.health}`;
    setText(row.health, d.health);
    setText(row.name, d.name ? `${d.jid} (${d.name})` : d.jid);
    row.name.title = d.status;
    setText(row.firmware, d.firmware || "–");
    setText(row.board, d.board || "–");
    setText(row.last, lastSummary(d) || d.telemetryError || "–");
    setText(row.age, ago(d.lastTime, now));
  }

  render(changed: Set<string>, membership: boolean): void {
    if (membership) {
      this.refilter();
      return;
    }
    const now = Date.now();
    for (const row of this.rows) if (changed.has(row.jid)) this.fill(row, row.jid, now);
  }

  tick(): void {
    const now = Date.now();
    for (const row of this.rows) {
      const d = this.app.store.get(row.jid);
      if (d) setText(row.age, ago(d.lastTime, now));
    }
  }
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
function setIf(ds: DOMStringMap, k: string, v: Health | string): void {
  if (ds[k] !== v) ds[k] = v;
}
