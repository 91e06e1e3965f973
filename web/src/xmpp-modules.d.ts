// Just enough typing of xmpp.js (@xmpp/client 0.14 ships none) for this app.
declare module "@xmpp/xml" {
  export class Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    parent: Element | null;
    constructor(name: string, attrs?: Record<string, string | undefined>);
    is(name: string, xmlns?: string): boolean;
    getNS(): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    text(): string;
    append(...children: (Element | string)[]): Element;
    c(name: string, attrs?: Record<string, string | undefined>): Element;
    toString(): string;
  }
  type Child = Element | string | null | undefined | false | Child[];
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Child[]): Element;
  export default xml;
}

declare module "@xmpp/client" {
  import { Element, xml } from "@xmpp/xml";
  export { xml };
  export interface Jid {
    local: string;
    domain: string;
    resource: string;
    bare(): Jid;
    toString(): string;
  }
  export interface Client {
    jid: Jid | null;
    status: string;
    start(): Promise<Jid>;
    stop(): Promise<void>;
    send(...el: Element[]): Promise<void>;
    on(event: "stanza", fn: (el: Element) => void): void;
    on(event: "online", fn: (jid: Jid) => void): void;
    on(event: "offline" | "disconnect" | "connect" | "reconnecting", fn: () => void): void;
    on(event: "error", fn: (err: Error & { condition?: string }) => void): void;
    on(event: "status", fn: (status: string) => void): void;
    on(event: string, fn: (...args: any[]) => void): void;
    removeAllListeners(event?: string): void;
    removeListener(event: string, fn: (...args: any[]) => void): void;
    /// ms each stream header (and the closing </close>) is waited for; xmpp.js default 2000.
    timeout: number;
    reconnect: { stop(): void; start(): void; delay: number };
    saslFactory: unknown;
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: { stanza: Element; element: Element; from: Jid }) => Element | Promise<Element> | {}): void;
      set(ns: string, name: string, handler: (ctx: { stanza: Element; element: Element; from: Jid }) => Element | Promise<Element> | {} | boolean): void;
    };
  }
  export type Authenticate = (creds: { username: string; password: string }, mechanism: string) => Promise<void>;
  export function client(options: {
    service: string;
    domain: string;
    resource?: string;
    timeout?: number;
    username?: string;
    password?: string;
    credentials?: (authenticate: Authenticate, mechanisms: string[]) => Promise<void>;
  }): Client;
  export function jid(s: string): Jid;
}
