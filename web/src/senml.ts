// Telemetry payloads (docs/wire-format.md) into readings: SenML XML
// (<sensml xmlns='urn:ietf:params:xml:ns:senml'/>) and <senml-pb/> (base64
// protobuf xiot.senml.Pack of agent/proto/senml.proto, rows or columnar
// form). A port of fleet/client/src/senml.cpp, with a hand-written protobuf
// reader (no protobuf library in the page).
import type { Element } from "@xmpp/xml";

export const NS_SENML = "urn:ietf:params:xml:ns:senml";
export const NS_SENML_PB = "urn:xiot:senml-pb:0";

export interface Reading {
  name: string; // channel name without the device's base name
  unit: string;
  timeMs: number; // UTC ms since the epoch (fractional: µs kept)
  kind: "number" | "boolean" | "string";
  text: string; // exact decimal text / "true" / "false" / the string
  num: number; // numeric value (NaN unless kind is number)
}

/// Exact decimal text of mantissa × 10^exponent (wire-format.md "Numbers").
export function decimalText(mantissa: bigint, exponent: number): string {
  const neg = mantissa < 0n;
  let digits = (neg ? -mantissa : mantissa).toString();
  if (exponent < -18 || exponent > 18) return `${neg ? "-" : ""}${digits}e${exponent}`;
  if (exponent >= 0) {
    digits += "0".repeat(exponent);
  } else {
    const frac = -exponent;
    if (digits.length <= frac) digits = "0".repeat(frac - digits.length + 1) + digits;
    digits = digits.slice(0, digits.length - frac) + "." + digits.slice(digits.length - frac);
  }
  return (neg ? "-" : "") + digits;
}

function channelName(bn: string, n: string): string {
  // The agent's base name is "<bare jid, escaped>:"; names are relative to it.
  return bn.endsWith(":") || bn === "" ? n : bn + n;
}

/// RFC 8428 §4.6 resolution of a <sensml/> element. Throws on a bad record.
export function parseSenmlXml(sensml: Element, nowMs: number): Reading[] {
  const out: Reading[] = [];
  let bn = "";
  let bt = 0;
  let bu = "";
  let i = 0;
  for (const rec of sensml.children) {
    if (typeof rec === "string" || rec.name !== "senml") continue;
    i++;
    const a = rec.attrs;
    if (a.bn !== undefined) bn = a.bn;
    if (a.bt !== undefined) bt = Number(a.bt);
    if (a.bu !== undefined) bu = a.bu;
    const n = a.n ?? "";
    if (!n && !bn) throw new Error(`record ${i}: no name`);
    let t = bt + (a.t !== undefined ? Number(a.t) : 0);
    if (!Number.isFinite(t)) throw new Error(`record ${i}: bad time`);
    if (t < 2 ** 28) t = nowMs / 1000 + t; // relative time (RFC 8428 §4.5.3)
    const base = { name: channelName(bn, n), unit: a.u ?? bu, timeMs: t * 1000 };
    if (a.v !== undefined) {
      out.push({ ...base, kind: "number", text: a.v, num: Number(a.v) });
    } else if (a.vb !== undefined) {
      out.push({ ...base, kind: "boolean", text: a.vb === "true" ? "true" : "false", num: NaN });
    } else if (a.vs !== undefined) {
      out.push({ ...base, kind: "string", text: a.vs, num: NaN });
    } else {
      throw new Error(`record ${i}: no value`);
    }
  }
  return out;
}

// --- protobuf ------------------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}
  done(): boolean {
    return this.pos >= this.end;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
    return BigInt.asUintN(64, result);
  }
  sint(): bigint {
    const u = this.varint();
    return (u >> 1n) ^ -(u & 1n);
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw new Error("truncated field");
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  string(): string {
    return new TextDecoder().decode(this.bytes());
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error("truncated field");
  }
  /// Repeated varint-based field: packed (wire 2) or one value (wire 0).
  repeated(wire: number, read: (r: Reader) => bigint, into: bigint[]): void {
    if (wire === 2) {
      const b = this.bytes();
      const sub = new Reader(b);
      while (!sub.done()) into.push(read(sub));
    } else {
      into.push(read(this));
    }
  }
}

interface Decimal { mantissa: bigint; exponent: number }

function readDecimal(b: Uint8Array): Decimal {
  const r = new Reader(b);
  const d: Decimal = { mantissa: 0n, exponent: 0 };
  while (!r.done()) {
    const key = Number(r.varint());
    if (key === (1 << 3)) d.mantissa = BigInt.asIntN(64, r.sint());
    else if (key === (2 << 3)) d.exponent = Number(r.sint());
    else r.skip(key & 7);
  }
  return d;
}

interface Column { n: string; u: string; exponent: number; mantissa: bigint[]; vb: bigint[] }

export function base64Bytes(text: string): Uint8Array {
  const bin = atob(text.replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/// Decodes a xiot.senml.Pack (either form).
export function parsePack(bytes: Uint8Array, nowMs: number): Reading[] {
  const r = new Reader(bytes);
  const out: Reading[] = [];
  let bn = "";
  let btUs = 0n;
  // rows-form resolution state
  let rowBn = "";
  let rowBt = 0n;
  let colBn = "";
  let colBt = 0n;
  const dts: bigint[] = [];
  const cols: Column[] = [];
  while (!r.done()) {
    const key = Number(r.varint());
    const field = key >> 3;
    const wire = key & 7;
    if (field === 1 && wire === 2) {
      const rr = new Reader(r.bytes());
      let n = "";
      let u = "";
      let tUs = 0n;
      let value: Reading["kind"] | "" = "";
      let text = "";
      let num = NaN;
      while (!rr.done()) {
        const k = Number(rr.varint());
        switch (k >> 3) {
          case 1: rowBn = rr.string(); break;
          case 2: rowBt = BigInt.asIntN(64, rr.sint()); break;
          case 3: n = rr.string(); break;
          case 4: u = rr.string(); break;
          case 5: {
            const d = readDecimal(rr.bytes());
            value = "number";
            text = decimalText(d.mantissa, d.exponent);
            num = Number(text);
            break;
          }
          case 6: value = "boolean"; text = rr.varint() !== 0n ? "true" : "false"; break;
          case 7: value = "string"; text = rr.string(); break;
          case 8: tUs = BigInt.asIntN(64, rr.sint()); break;
          default: rr.skip(k & 7);
        }
      }
      if (!value) throw new Error(`record ${out.length + 1}: no value`);
      out.push({ name: channelName(rowBn, n), unit: u, timeMs: usToMs(rowBt + tUs, nowMs), kind: value, text, num });
    } else if (field === 2 && wire === 2) {
      colBn = r.string();
    } else if (field === 3 && wire === 0) {
      colBt = BigInt.asIntN(64, r.sint());
    } else if (field === 4) {
      r.repeated(wire, (x) => BigInt.asIntN(64, x.sint()), dts);
    } else if (field === 5 && wire === 2) {
      const cr = new Reader(r.bytes());
      const c: Column = { n: "", u: "", exponent: 0, mantissa: [], vb: [] };
      while (!cr.done()) {
        const k = Number(cr.varint());
        const f = k >> 3;
        const w = k & 7;
        if (f === 1 && w === 2) c.n = cr.string();
        else if (f === 2 && w === 2) c.u = cr.string();
        else if (f === 3 && w === 0) c.exponent = Number(cr.sint());
        else if (f === 4) cr.repeated(w, (x) => BigInt.asIntN(64, x.sint()), c.mantissa);
        else if (f === 5) cr.repeated(w, (x) => x.varint(), c.vb);
        else cr.skip(w);
      }
      cols.push(c);
    } else {
      r.skip(wire);
    }
  }
  bn = colBn;
  btUs = colBt;
  if (cols.length > 0) {
    const snapshots = dts.length + 1;
    const times: bigint[] = [btUs];
    for (const d of dts) times.push(times[times.length - 1]! + d);
    const sums = cols.map(() => 0n);
    for (let i = 0; i < snapshots; i++) {
      for (const [k, c] of cols.entries()) {
        const base = { name: channelName(bn, c.n), unit: c.u, timeMs: usToMs(times[i]!, nowMs) };
        if (c.mantissa.length > 0) {
          if (c.mantissa.length !== snapshots) throw new Error(`column ${c.n}: ${c.mantissa.length} values for ${snapshots} snapshots`);
          const m = (sums[k] = BigInt.asIntN(64, sums[k]! + c.mantissa[i]!));
          const text = decimalText(m, c.exponent);
          out.push({ ...base, kind: "number", text, num: Number(text) });
        } else if (c.vb.length > 0) {
          if (c.vb.length !== snapshots) throw new Error(`column ${c.n}: ${c.vb.length} values for ${snapshots} snapshots`);
          out.push({ ...base, kind: "boolean", text: c.vb[i] !== 0n ? "true" : "false", num: NaN });
        } else {
          throw new Error(`column ${c.n}: no values`);
        }
      }
    }
  }
  return out;
}

function usToMs(us: bigint, nowMs: number): number {
  const ms = Number(us) / 1000;
  return ms < 2 ** 28 * 1000 ? nowMs + ms : ms;
}

/// Dispatches on the payload's namespace.
export function parsePayload(payload: Element, nowMs: number): Reading[] {
  const ns = payload.attrs.xmlns;
  if (payload.name === "sensml" && ns === NS_SENML) return parseSenmlXml(payload, nowMs);
  if (payload.name === "senml-pb" && ns === NS_SENML_PB) return parsePack(base64Bytes(payload.text()), nowMs);
  throw new Error(`not SenML: <${payload.name} xmlns='${ns ?? ""}'>`);
}
