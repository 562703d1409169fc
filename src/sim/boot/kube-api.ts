// The few calls a booting machine makes to its cluster's kube-apiserver, as kubeadm's
// apiclient package makes them (k8s.io/kubernetes v1.34.2 cmd/kubeadm/app/util/apiclient
// idempotency.go: CreateOrUpdate, CreateOrMutate, PatchNode; each retried while the API
// server is briefly unavailable, as kubeadm polls KubernetesAPICall). Objects are plain
// JSON; a read-modify-write retries on 409 Conflict as client-go's RetryOnConflict does.
import { setTimeout as sleep } from "node:timers/promises";
import { HttpsRequestError, requestJson, type JsonAnswer, type JsonRequest, type TlsIdentity } from "./https-json.ts";

export type KubeObject = Record<string, unknown> & { metadata?: { name?: string; resourceVersion?: string; uid?: string } & Record<string, unknown> };

/** The API server answered a status other than the one the call needs. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

export interface KubeApiOptions {
  /** https://host:port of one kube-apiserver. */
  server: string;
  identity: TlsIdentity;
  /** How long a call keeps retrying an unreachable or overloaded API server; default 60 s. */
  retryForMs?: number;
  /** Aborts retries (the machine is shutting down). */
  signal?: AbortSignal;
}

const RETRY_INTERVAL_MS = 500;
const CONFLICT_ATTEMPTS = 10;

export class KubeApi {
  constructor(private readonly o: KubeApiOptions) {}

  get server(): string {
    return this.o.server;
  }

  /** The object, or undefined on 404. */
  async get(path: string): Promise<KubeObject | undefined> {
    const answer = await this.call({ method: "GET", url: path });
    if (answer.status === 404) return undefined;
    return expect(answer, 200, "GET", path);
  }

  async create(collectionPath: string, object: KubeObject): Promise<KubeObject> {
    return expect(await this.call({ method: "POST", url: collectionPath, body: object }), 201, "POST", collectionPath);
  }

  /** CreateOrUpdate: create, or on AlreadyExists replace it keeping its resourceVersion. */
  async apply(collectionPath: string, object: KubeObject): Promise<KubeObject> {
    const created = await this.call({ method: "POST", url: collectionPath, body: object });
    if (created.status !== 409) return expect(created, 201, "POST", collectionPath);
    const path = `${collectionPath}/${object.metadata?.name ?? ""}`;
    return this.modify(path, () => object);
  }

  /** GET, change, PUT, again on 409 Conflict. `mutate` gets the stored object and returns what to write (without resourceVersion). */
  async modify(path: string, mutate: (current: KubeObject) => KubeObject, subresource = ""): Promise<KubeObject> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(path);
      if (current === undefined) throw new KubeApiError(404, "NotFound", `GET ${path}: not found`);
      const next = mutate(structuredClone(current));
      next.metadata = { ...next.metadata, resourceVersion: current.metadata?.resourceVersion };
      const answer = await this.call({ method: "PUT", url: `${path}${subresource}`, body: next });
      if (answer.status === 409 && attempt < CONFLICT_ATTEMPTS) continue;
      return expect(answer, 200, "PUT", `${path}${subresource}`);
    }
  }

  /** One call, retried while the server cannot be reached or answers 429/5xx. */
  async call(req: JsonRequest): Promise<JsonAnswer> {
    const deadline = Date.now() + (this.o.retryForMs ?? 60_000);
    for (;;) {
      this.o.signal?.throwIfAborted();
      try {
        const answer = await requestJson(this.o.identity, { ...req, url: `${this.o.server}${req.url}` });
        if ((answer.status !== 429 && answer.status < 500) || Date.now() >= deadline) return answer;
      } catch (error) {
        if (!(error instanceof HttpsRequestError) || Date.now() >= deadline) throw error;
      }
      await sleep(RETRY_INTERVAL_MS, undefined, { signal: this.o.signal });
    }
  }
}

function expect(answer: JsonAnswer, status: number, method: string, path: string): KubeObject {
  if (answer.status === status || (status === 201 && answer.status === 200)) return answer.body as KubeObject;
  const body = (answer.body ?? {}) as { reason?: string; message?: string };
  throw new KubeApiError(answer.status, body.reason ?? "", `${method} ${path}: HTTP ${answer.status}${body.message === undefined ? "" : ` (${body.message})`}`);
}
