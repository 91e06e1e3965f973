// Generic XEP-0050 ad-hoc command runner with XEP-0004 data forms: any
// field type, multi-stage (prev/next/complete per <actions/>), notes, result
// forms and reported tables, errors as a user wants them (the condition in
// words, the agent's text, the field a bad-payload names marked).
import { IqError, kids, NS, xml, type Element, type Session } from "./conn";
import { h } from "./dom";

export interface Field {
  var: string;
  type: string;
  label: string;
  desc: string;
  required: boolean;
  values: string[];
  options: { label: string; value: string }[];
}

export interface DataForm {
  type: string;
  title: string;
  instructions: string[];
  fields: Field[];
  reported: Field[] | null;
  items: Field[][];
}

export interface CommandResponse {
  node: string;
  sessionid: string;
  status: string; // executing | completed | canceled
  actions: string[] | null; // null = no <actions/> element
  execute: string; // the default action
  notes: { type: string; text: string }[];
  form: DataForm | null;
}

function parseField(f: Element): Field {
  return {
    var: f.attrs.var ?? "",
    type: f.attrs.type ?? "text-single",
    label: f.attrs.label ?? "",
    desc: f.getChildText("desc") ?? "",
    required: !!f.getChild("required"),
    values: kids(f, "value").map((v) => v.text()),
    options: kids(f, "option").map((o) => ({ label: o.attrs.label ?? "", value: o.getChildText("value") ?? "" })),
  };
}

export function parseForm(x: Element): DataForm {
  const reported = x.getChild("reported");
  return {
    type: x.attrs.type ?? "form",
    title: x.getChildText("title") ?? "",
    instructions: kids(x, "instructions").map((i) => i.text()),
    fields: kids(x, "field").map(parseField),
    reported: reported ? kids(reported, "field").map(parseField) : null,
    items: kids(x, "item").map((it) => kids(it, "field").map(parseField)),
  };
}

export function parseCommand(cmd: Element): CommandResponse {
  const actions = cmd.getChild("actions");
  const x = cmd.getChild("x", NS.data);
  return {
    node: cmd.attrs.node ?? "",
    sessionid: cmd.attrs.sessionid ?? "",
    status: cmd.attrs.status ?? "",
    actions: actions ? kids(actions).map((a) => a.name) : null,
    execute: actions?.attrs.execute ?? "",
    notes: kids(cmd, "note").map((n) => ({ type: n.attrs.type ?? "info", text: n.text() })),
    form: x ? parseForm(x) : null,
  };
}

/// Sends one command request; resolves with the response, rejects with IqError.
export async function sendCommand(
  s: Session, to: string, node: string, action: string, sessionid: string,
  submit: { var: string; type?: string; values: string[] }[] | null, cancelForm = false,
): Promise<CommandResponse> {
  const form = submit
    ? xml("x", { xmlns: NS.data, type: "submit" },
      ...submit.map((f) => xml("field", { var: f.var, type: f.type }, ...f.values.map((v) => xml("value", null, v)))))
    : cancelForm ? xml("x", { xmlns: NS.data, type: "cancel" }) : null;
  const r = await s.iq(to, "set", xml("command", { xmlns: NS.commands, node, action, sessionid: sessionid || undefined }, form), 30000);
  const cmd = r.getChild("command", NS.commands);
  if (!cmd) throw new IqError("bad-response", "the answer carries no <command/>", "", "");
  return parseCommand(cmd);
}

const CONDITION_WORDS: Record<string, string> = {
  forbidden: "Not allowed",
  "not-authorized": "Not authorised",
  "item-not-found": "No such command",
  "bad-request": "The request was refused",
  "not-allowed": "Not allowed now",
  "internal-server-error": "The device failed",
  "resource-constraint": "The device is busy or out of room",
  "service-unavailable": "The device does not offer this (or is offline)",
  "feature-not-implemented": "Not supported by this device",
  "recipient-unavailable": "The device is offline",
  "remote-server-not-found": "The device's server cannot be reached",
  conflict: "Another operation is running",
  timeout: "No answer",
};

/// One line for a user: "The request was refused: value: 'maybe' is not a boolean … (bad-payload)".
export function describeError(e: unknown): string {
  if (e instanceof IqError) {
    const words = CONDITION_WORDS[e.condition] ?? e.condition;
    const detail = e.app && e.app !== "text" ? ` (${e.condition}, ${e.app})` : ` (${e.condition})`;
    return `${words}${e.text ? ": " + e.text : ""}${detail}`;
  }
  return (e as Error)?.message ?? String(e);
}

function fieldText(f: Field): string {
  if (f.type === "boolean") {
    const v = f.values[0] ?? "";
    return v === "1" || v === "true" ? "true" : v === "0" || v === "false" ? "false" : v;
  }
  return f.values.join("\n");
}

/// A completed result: notes, the result form as a table, reported items.
export function renderResult(r: CommandResponse, testid = "command-result"): HTMLElement {
  const box = h("div", { testid, class: "result", "data-node": r.node, "data-status": r.status });
  box.append(...r.notes.map(noteEl));
  if (r.form) box.append(formTable(r.form));
  if (!r.form && r.notes.length === 0) box.append(h("p", { class: "hint" }, r.status === "canceled" ? "Canceled." : "Done."));
  return box;
}

function noteEl(n: { type: string; text: string }): HTMLElement {
  return h("p", { testid: "command-note", class: `note ${n.type}`, "data-type": n.type }, n.text);
}

function formTable(f: DataForm): HTMLElement {
  const wrap = h("div", { class: "form-result" });
  if (f.title) wrap.append(h("h4", null, f.title));
  for (const i of f.instructions) wrap.append(h("p", { class: "hint" }, i));
  const shown = f.fields.filter((x) => x.type !== "hidden");
  if (shown.length) {
    wrap.append(h("table", { class: "kv" }, h("tbody", null, ...shown.map((x) =>
      h("tr", { "data-var": x.var }, h("th", null, x.label || x.var), h("td", null,
        x.values.length ? h("span", { class: "value" }, fieldText(x)) : h("span", { class: "hint" }, x.desc || "–")))))));
  }
  if (f.reported) {
    const cols = f.reported;
    wrap.append(h("table", { class: "grid" },
      h("thead", null, h("tr", null, ...cols.map((c) => h("th", null, c.label || c.var)))),
      h("tbody", null, ...f.items.map((it) => h("tr", null, ...cols.map((c) =>
        h("td", null, fieldText(it.find((x) => x.var === c.var) ?? { ...c, values: [] }))))))));
  }
  return wrap;
}

/// The editable field; returns its wrapper and a reader for the submit.
function fieldEditor(f: Field): { el: HTMLElement; read: () => string[] } {
  const id = `f-${Math.random().toString(36).slice(2, 9)}`;
  const label = h("label", { for: id }, f.label || f.var, f.required ? h("span", { class: "req", title: "required" }, " *") : "");
  const wrap = h("div", { class: "field", "data-var": f.var, "data-type": f.type });
  const desc = f.desc ? h("small", { class: "hint" }, f.desc) : null;
  switch (f.type) {
    case "fixed":
      wrap.append(...f.values.map((v) => h("p", { class: "fixed" }, v)));
      return { el: wrap, read: () => f.values };
    case "hidden":
      wrap.hidden = true;
      return { el: wrap, read: () => f.values };
    case "boolean": {
      const v = f.values[0] ?? "";
      const input = h("input", { id, type: "checkbox", name: f.var, checked: v === "1" || v === "true" });
      wrap.append(h("label", { class: "check" }, input, " ", f.label || f.var, f.required ? " *" : ""), desc ?? "");
      return { el: wrap, read: () => [input.checked ? "1" : "0"] };
    }
    case "list-single":
    case "list-multi": {
      const multi = f.type === "list-multi";
      const sel = h("select", { id, name: f.var, multiple: multi, required: f.required });
      if (!multi) sel.append(h("option", { value: "" }, "—"));
      const opts = [...f.options];
      for (const v of f.values) if (!opts.some((o) => o.value === v)) opts.push({ label: v, value: v });
      for (const o of opts) sel.append(h("option", { value: o.value, selected: f.values.includes(o.value) }, o.label || o.value));
      wrap.append(label, sel, desc ?? "");
      return { el: wrap, read: () => [...sel.selectedOptions].map((o) => o.value).filter((v) => multi || v !== "") };
    }
    case "text-multi":
    case "jid-multi": {
      const ta = h("textarea", { id, name: f.var, rows: Math.min(12, Math.max(3, f.values.length + 1)), required: f.required });
      ta.value = f.values.join("\n");
      wrap.append(label, ta, desc ?? "");
      return { el: wrap, read: () => (ta.value === "" ? [] : ta.value.split(/\r?\n/)) };
    }
    default: {
      // text-single, text-private, jid-single and anything unknown (XEP-0004 §3.3: treat as text-single)
      const input = h("input", {
        id, name: f.var, type: f.type === "text-private" ? "password" : "text", value: f.values[0] ?? "",
        required: f.required, autocomplete: f.type === "text-private" ? "new-password" : "off",
        placeholder: f.type === "jid-single" ? "user@domain" : undefined,
      });
      wrap.append(label, input, desc ?? "");
      return { el: wrap, read: () => (input.value === "" ? [] : [input.value]) };
    }
  }
}

/// Runs one command in `host`: execute, then as many stages as the device offers.
export class CommandRunner {
  private stage = 0;
  private sessionid = "";
  private busy = false;
  private readers: { f: Field; read: () => string[] }[] = [];

  constructor(
    private readonly session: Session,
    private readonly host: HTMLElement,
    private readonly to: string,
    private readonly node: string,
    private readonly name: string,
    private readonly done?: (r: CommandResponse) => void,
  ) {}

  async start(): Promise<void> {
    this.host.replaceChildren(h("p", { class: "hint" }, `Running ${this.name || this.node}…`));
    await this.send("execute");
  }

  private async send(action: string, withForm = false, cancelForm = false): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const errBox = this.host.querySelector<HTMLElement>("[data-testid=command-error]");
    try {
      const submit = withForm ? this.readers.map(({ f, read }) => ({ var: f.var, type: f.type, values: read() })).filter((x) => x.var) : null;
      const r = await sendCommand(this.session, this.to, this.node, action, this.sessionid, submit, cancelForm);
      this.sessionid = r.sessionid || this.sessionid;
      if (action === "prev") this.stage = Math.max(1, this.stage - 1);
      else if (action === "execute" && this.stage === 0) this.stage = 1;
      else if (action === "next") this.stage++;
      this.show(r);
    } catch (e) {
      this.showError(e, errBox);
    } finally {
      this.busy = false;
    }
  }

  private showError(e: unknown, existing: HTMLElement | null): void {
    const text = describeError(e);
    const err = existing ?? h("p", { testid: "command-error", class: "error", role: "alert" });
    err.textContent = text;
    if (!existing) this.host.append(err);
    // bad-payload texts start with the field's var ("value: …"): point at it.
    this.host.querySelectorAll(".field.invalid").forEach((x) => x.classList.remove("invalid"));
    if (e instanceof IqError) {
      const m = /^([A-Za-z0-9_.:-]+):/.exec(e.text);
      const fld = m ? this.host.querySelector<HTMLElement>(`.field[data-var="${CSS.escape(m[1]!)}"]`) : null;
      if (fld) {
        fld.classList.add("invalid");
        fld.querySelector<HTMLElement>("input,select,textarea")?.focus();
        err.dataset.field = m![1];
      }
    }
  }

  private show(r: CommandResponse): void {
    if (r.status !== "executing") {
      this.host.replaceChildren(h("h3", null, this.name || this.node), renderResult(r));
      this.done?.(r);
      return;
    }
    const form = h("form", { testid: "command-form", class: "command-form", novalidate: true, "data-node": this.node, "data-stage": String(this.stage), "data-status": r.status });
    form.append(h("h3", null, r.form?.title || this.name || this.node));
    form.append(...r.notes.map(noteEl));
    for (const i of r.form?.instructions ?? []) form.append(h("p", { class: "hint" }, i));
    this.readers = [];
    for (const f of r.form?.fields ?? []) {
      const ed = fieldEditor(f);
      form.append(ed.el);
      this.readers.push({ f, read: ed.read });
    }
    const actions = r.actions;
    const buttons = h("div", { class: "actions" });
    const def = r.execute || (actions?.includes("complete") ? "complete" : actions?.[actions.length - 1] ?? "execute");
    const btn = (id: string, label: string, action: string, primary: boolean) => {
      const b = h("button", { testid: id, type: primary ? "submit" : "button", class: primary ? "primary" : "" }, label);
      if (!primary) b.addEventListener("click", () => void this.send(action, action !== "prev" && action !== "cancel", false));
      return b;
    };
    if (actions && actions.includes("prev")) buttons.append(btn("form-prev", "‹ Back", "prev", def === "prev"));
    if (actions && actions.includes("next")) buttons.append(btn("form-next", "Next ›", "next", def === "next"));
    if (actions && actions.includes("complete")) buttons.append(btn("form-complete", "Complete", "complete", def === "complete"));
    if (!actions || actions.length === 0) buttons.append(btn("form-execute", "Execute", "execute", true));
    const cancel = h("button", { testid: "form-cancel", type: "button" }, "Cancel");
    cancel.addEventListener("click", () => void this.send("cancel"));
    buttons.append(cancel);
    form.append(buttons);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const submitter = (ev as SubmitEvent).submitter as HTMLElement | null;
      const id = submitter?.dataset.testid ?? "";
      const action = id === "form-prev" ? "prev" : id === "form-next" ? "next" : id === "form-complete" ? "complete" : def;
      void this.send(action, action !== "prev", false);
    });
    this.host.replaceChildren(form);
    form.querySelector<HTMLElement>("input:not([type=hidden]),select,textarea")?.focus();
  }
}
