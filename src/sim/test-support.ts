// Test helpers for the simulator's own tests: a minimal MAAS client that signs
// like the real ones (PLAINTEXT as gomaasapi/python-libmaas, HMAC-SHA1 as
// spectrocloud maas-client-go) and can send urlencoded or libmaas-style
// multipart bodies. Not exported from index.ts.
import { createHmac, randomUUID } from "node:crypto";
import { FakeClock } from "../clock/index.ts";
import { escape } from "./http/oauth.ts";
import { startSimulator } from "./simulator.ts";
import type { RunningSimulator, SimulatorOptions } from "./types.ts";

export const API_KEY = "CK:TK:TS";

export type Params = Record<string, string | string[]>;

export interface CallOptions {
  query?: Params;
  form?: Params;
  /** Body encoding: urlencoded (default), multipart as python-libmaas sends it, or none. */
  encoding?: "urlencoded" | "libmaas-multipart" | "none";
  /** PLAINTEXT (default), HMAC-SHA1, none, or a literal Authorization header. */
  auth?: "plaintext" | "hmac" | "none" | { header: string };
  apiKey?: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export function plaintextHeader(apiKey: string, extra: { nonce?: string; timestamp?: number; realm?: string } = {}): string {
  const [ck, tk, ts] = apiKey.split(":");
  const fields = [
    `realm="${extra.realm ?? "MAAS API"}"`,
    `oauth_consumer_key="${ck}"`,
    `oauth_token="${tk}"`,
    `oauth_signature_method="PLAINTEXT"`,
    `oauth_signature="%26${escape(ts ?? "")}"`,
    `oauth_timestamp="${extra.timestamp ?? Math.floor(Date.now() / 1000)}"`,
    `oauth_nonce="${extra.nonce ?? randomUUID()}"`,
    `oauth_version="1.0"`,
  ];
  return `OAuth ${fields.join(", ")}`;
}

function entries(params: Params | undefined): Array<[string, string]> {
  return Object.entries(params ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]]));
}

/** spectrocloud's signing: the header params plus the request params (first values). */
function hmacHeader(apiKey: string, method: string, url: string, params: Array<[string, string]>): string {
  const [ck, tk, ts] = apiKey.split(":");
  const oauth: Array<[string, string]> = [
    ["oauth_nonce", randomUUID()], ["oauth_consumer_key", ck ?? ""], ["oauth_signature_method", "HMAC-SHA1"],
    ["oauth_timestamp", String(Math.floor(Date.now() / 1000))], ["oauth_token", tk ?? ""], ["oauth_version", "1.0"],
  ];
  const all = [...oauth, ...params].map(([k, v]) => [escape(k), escape(v)] as const).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  const base = [method, escape(url.split("?")[0] ?? ""), escape(all.map(([k, v]) => `${k}=${v}`).join("&"))].join("&");
  const signature = createHmac("sha1", `&${escape(ts ?? "")}`).update(base).digest("base64");
  const signed: Array<[string, string]> = [...oauth, ["oauth_signature", signature]];
  return `OAuth ${signed.map(([k, v]) => `${k}="${encodeURIComponent(v)}"`).join(", ")}`;
}

/** python-libmaas utils/multipart.py: quoted boundary with '=', every part base64. */
export function libmaasMultipart(params: Array<[string, string]>): { body: Buffer; contentType: string } {
  const boundary = "===============1234567890123456789==";
  if (params.length === 0) return { body: Buffer.from(`--${boundary}\r\n\r\n--${boundary}--`), contentType: `multipart/form-data; boundary="${boundary}"` };
  const parts = params.map(([k, v]) =>
    [`--${boundary}`, 'Content-Type: text/plain; charset="utf-8"', "MIME-Version: 1.0", "Content-Transfer-Encoding: base64", `Content-Disposition: form-data; name="${k}"`, "", Buffer.from(v).toString("base64")].join("\r\n"),
  );
  return { body: Buffer.from(`${parts.join("\r\n")}\r\n--${boundary}--\r\n`), contentType: `multipart/form-data; boundary="${boundary}"` };
}

export class TestClient {
  constructor(
    readonly endpoint: string,
    readonly apiKey: string,
  ) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const query = entries(options.query);
    const form = entries(options.form);
    const qs = new URLSearchParams(query).toString();
    const url = `${this.endpoint}/api/2.0/${path}${qs === "" ? "" : `?${qs}`}`;
    const headers: Record<string, string> = {};
    let body: Buffer | undefined;
    const encoding = options.encoding ?? (method === "GET" || method === "DELETE" ? "none" : "urlencoded");
    if (encoding === "urlencoded") {
      body = Buffer.from(new URLSearchParams(form).toString());
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else if (encoding === "libmaas-multipart") {
      const mp = libmaasMultipart(form);
      body = mp.body;
      headers["Content-Type"] = mp.contentType;
    }
    const auth = options.auth ?? "plaintext";
    const key = options.apiKey ?? this.apiKey;
    if (auth === "plaintext") headers.Authorization = plaintextHeader(key);
    else if (auth === "hmac") headers.Authorization = hmacHeader(key, method, url, method === "GET" ? query : [...form, ...query]);
    else if (auth !== "none") headers.Authorization = auth.header;
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
  }

  get(path: string, query?: Params, options: CallOptions = {}): Promise<Reply> {
    return this.call("GET", path, { ...options, query: { ...query, ...options.query } });
  }

  post(path: string, op: string | null, form: Params = {}, options: CallOptions = {}): Promise<Reply> {
    return this.call("POST", path, { ...options, query: op === null ? options.query : { op, ...options.query }, form });
  }
}

export interface Harness {
  sim: RunningSimulator;
  client: TestClient;
  clock: FakeClock;
}

/** Starts a simulator on a free port with a FakeClock and the key CK:TK:TS. */
export async function startHarness(options: SimulatorOptions = {}): Promise<Harness> {
  const clock = (options.clock as FakeClock | undefined) ?? new FakeClock();
  const sim = await startSimulator({ apiKey: API_KEY, machines: 3, ...options, clock, port: 0 });
  return { sim, client: new TestClient(sim.endpoint, sim.apiKey), clock };
}
