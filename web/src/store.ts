// The fleet as the page knows it: roster contacts, their presence, device
// description and latest telemetry, plus per-channel ring buffers for the
// devices that were opened. Views read it; changes are batched per
// animation frame (Store.changed → one render per frame).
import type { Element } from "@xmpp/xml";
import { kids, type PresenceInfo } from "./conn";
import type { Reading } from "./senml";

export type Health = "healthy" | "degraded" | "dnd" | "offline";
export const HEALTHS: Health[] = ["healthy", "degraded", "dnd", "offline"];

export interface Channel {
  name: string;
  kind: string; // sensor | actuator
  unit: string;
  type: string; // numeric | boolean | string
  report: string;
  value?: string;
  attrs: Record<string, string | undefined>;
}

/// Fixed-capacity ring of (time, value) points, oldest overwritten.
export class Ring {
  readonly t: Float64Array;
  readonly v: Float64Array;
  start = 0;
  size = 0;
  constructor(readonly capacity: number) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }
  lastTime(): number {
    return this.size ? this.t[(this.start + this.size - 1) % this.capacity]! : -Infinity;
  }
  push(t: number, v: number): void {
    if (this.size && t <= this.lastTime()) {
      if (t === this.lastTime()) return; // duplicate
      this.insertSorted(t, v);
      return;
    }
    const i = (this.start + this.size) % this.capacity;
    this.t[i] = t;
    this.v[i] = v;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
  }
  private insertSorted(t: number, v: number): void {
    const [ts, vs] = this.arrays(false);
    let k = ts.findIndex((x) => x >= t);
    if (k < 0) k = ts.length;
    if (ts[k] === t) return;
    if (k === 0 && this.size === this.capacity) return; // older than everything kept
    ts.splice(k, 0, t);
    vs.splice(k, 0, v);
    const drop = Math.max(0, ts.length - this.capacity);
    this.start = 0;
    this.size = 0;
    for (let j = drop; j < ts.length; j++) this.push(ts[j]!, vs[j]!);
  }
  /// Seconds (uPlot's x) and values, oldest first.
  arrays(seconds = true): [number[], number[]] {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let j = 0; j < this.size; j++) {
      const i = (this.start + j) % this.capacity;
      ts.push(seconds ? this.t[i]! / 1000 : this.t[i]!);
      vs.push(this.v[i]!);
    }
    return [ts, vs];
  }
}

export const RING_CAPACITY = 600;

export interface Device {
  jid: string;
  name: string;
  subscription: string;
  inRoster: boolean;
  resources: Map<string, PresenceInfo>;
  health: Health;
  status: string;
  // device node
  described: boolean;
  board: string;
  firmware: string;
  bootId: string;
  descHealth: string;
  channels: Channel[];
  problems: string[];
  descAttrs: Record<string, string | undefined>;
  extra: Element[]; // other children of <device/> (e.g. a desired-state report)
  descError: string;
  // telemetry
  last: Map<string, Reading>;
  lastTime: number | undefined;
  lastItem: string;
  telemetryError: string;
  history: Map<string, Ring> | null; // only for devices opened in this page
}

export function newDevice(jid: string): Device {
  return {
    jid, name: "", subscription: "", inRoster: true, resources: new Map(), health: "offline", status: "",
    described: false, board: "", firmware: "", bootId: "", descHealth: "", channels: [], problems: [],
    descAttrs: {}, extra: [], descError: "", last: new Map(), lastTime: undefined, lastItem: "",
    telemetryError: "", history: null,
  };
}

function healthOfShow(show: string): Health {
  if (show === "away" || show === "xa") return "degraded";
  if (show === "dnd") return "dnd";
  return "healthy";
}
const HEALTH_RANK: Record<Health, number> = { healthy: 0, degraded: 1, dnd: 2, offline: 3 };

/// The available resource commands go to: highest priority, then healthiest.
export function bestResource(d: Device): PresenceInfo | undefined {
  let best: PresenceInfo | undefined;
  for (const p of d.resources.values()) {
    if (!best || p.priority > best.priority ||
        (p.priority === best.priority && HEALTH_RANK[healthOfShow(p.show)] < HEALTH_RANK[healthOfShow(best.show)])) {
      best = p;
    }
  }
  return best;
}

export function applyPresence(d: Device, p: PresenceInfo): void {
  if (p.type === "unavailable") d.resources.delete(p.from);
  else if (p.type === "") d.resources.set(p.from, p);
  const best = bestResource(d);
  d.health = best ? healthOfShow(best.show) : "offline";
  d.status = best ? best.status : (p.type === "unavailable" ? p.status : d.status);
}

export function applyDescription(d: Device, el: Element): void {
  d.described = true;
  d.descError = "";
  d.descAttrs = { ...el.attrs };
  delete d.descAttrs.xmlns;
  d.board = el.attrs.board ?? "";
  d.firmware = el.attrs.firmware ?? "";
  d.bootId = el.attrs["boot-id"] ?? "";
  d.descHealth = el.attrs.health ?? "";
  d.channels = [];
  d.problems = [];
  d.extra = [];
  for (const c of kids(el)) {
    if (c.name === "channel") {
      d.channels.push({
        name: c.attrs.name ?? "", kind: c.attrs.kind ?? "", unit: c.attrs.unit ?? "", type: c.attrs.type ?? "",
        report: c.attrs.report ?? "interval", value: c.attrs.value, attrs: { ...c.attrs },
      });
    } else if (c.name === "problem") {
      d.problems.push(c.text());
    } else {
      d.extra.push(c);
    }
  }
}

/// Adds readings; returns true if anything newer than what was shown arrived.
export function applyReadings(d: Device, itemId: string, rs: Reading[]): boolean {
  let newer = false;
  for (const r of rs) {
    const cur = d.last.get(r.name);
    if (!cur || r.timeMs >= cur.timeMs) {
      d.last.set(r.name, r);
      newer = true;
    }
    if (d.lastTime === undefined || r.timeMs > d.lastTime) {
      d.lastTime = r.timeMs;
      d.lastItem = itemId;
    }
    if (d.history && r.kind === "number" && Number.isFinite(r.num)) {
      let ring = d.history.get(r.name);
      if (!ring) d.history.set(r.name, (ring = new Ring(RING_CAPACITY)));
      ring.push(r.timeMs, r.num);
    }
  }
  if (newer) d.telemetryError = "";
  return newer;
}

/// "env0.temperature 21.54 Cel · env0.humidity 40.1 %RH · …" (newest values).
export function lastSummary(d: Device, max = 3): string {
  const parts: string[] = [];
  for (const r of d.last.values()) {
    if (parts.length === max) {
      parts.push(`+${d.last.size - max}`);
      break;
    }
    parts.push(`${r.name} ${r.text}${r.unit ? " " + r.unit : ""}`);
  }
  return parts.join(" · ");
}

export class Store {
  readonly devices = new Map<string, Device>();
  /// Sorted JIDs of every device (roster order for the list).
  sorted: string[] = [];
  private dirtyDevices = new Set<string>();
  private membershipDirty = true;
  private frame = 0;
  private listeners: ((changed: Set<string>, membership: boolean) => void)[] = [];

  get(jid: string): Device | undefined {
    return this.devices.get(jid);
  }
  ensure(jid: string): Device {
    let d = this.devices.get(jid);
    if (!d) {
      d = newDevice(jid);
      this.devices.set(jid, d);
      this.membershipDirty = true;
      this.schedule();
    }
    return d;
  }
  remove(jid: string): void {
    if (this.devices.delete(jid)) {
      this.membershipDirty = true;
      this.schedule();
    }
  }
  /// Marks a device changed; `membership`: its health (or searchable text) changed,
  /// so filtered lists and counts must be recomputed.
  touch(jid: string, membership = false): void {
    this.dirtyDevices.add(jid);
    if (membership) this.membershipDirty = true;
    this.schedule();
  }
  subscribe(fn: (changed: Set<string>, membership: boolean) => void): void {
    this.listeners.push(fn);
  }
  counts(): Record<Health | "total", number> {
    const c = { total: 0, healthy: 0, degraded: 0, dnd: 0, offline: 0 };
    for (const d of this.devices.values()) {
      c.total++;
      c[d.health]++;
    }
    return c;
  }
  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
  }
  /// Runs the listeners now (also called by the frame).
  flush(): void {
    this.frame = 0;
    const membership = this.membershipDirty;
    if (membership) this.sorted = [...this.devices.keys()].sort();
    const changed = this.dirtyDevices;
    this.dirtyDevices = new Set();
    this.membershipDirty = false;
    for (const fn of this.listeners) fn(changed, membership);
  }
}
