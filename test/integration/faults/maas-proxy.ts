// A plain HTTP proxy between one manager process and the simulator: the place where a
// test sees each MAAS call of that process as it happens, and can kill the process at
// a chosen call — before MAAS gets it, while MAAS works on it, or after MAAS answered
// but before the answer reaches the manager (the allocation made, the manager never told).
// A kill point defined by calls instead of wall time lands at the same place of the
// work on a busy machine as on an idle one. The simulator's request log stays the record
// of what MAAS did; this proxy only decides when to strike and who sent what.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** Where, relative to one MAAS call, the manager dies. */
export type KillMoment = "before" | "in-flight" | "after";

export interface ProxiedCall {
  /** 1, 2, 3… over the proxy's life. */
  seq: number;
  method: string;
  /** Path and query as sent, e.g. /MAAS/api/2.0/machines/?op=allocate. */
  path: string;
  /** MAAS's `op=`, or null for a plain read. */
  op: string | null;
  /** Date.now() when the call arrived. */
  atMs: number;
  /** What the proxy did with it. */
  outcome: "forwarded" | "dropped" | "held";
}

/**
 * Called for every call as it arrives. Returning a moment makes the proxy call `kill`
 * there; a promise holds the call until it settles.
 */
export type CallHook = (call: ProxiedCall) => KillMoment | undefined | Promise<KillMoment | undefined>;

export class MaasProxy {
  /** Every call seen, in arrival order. */
  readonly calls: ProxiedCall[] = [];
  /** Decides the kill points; unset passes everything. */
  hook: CallHook | undefined;
  /**
   * Sends SIGKILL to the manager behind this proxy. Synchronous: the process must be
   * dead before MAAS's answer could reach it. Then every open connection is closed
   * (they were the dead process's); the next process opens its own.
   */
  kill: (() => void) | undefined;
  /** What the hook threw; the call it was deciding on was dropped. */
  readonly hookErrors: unknown[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly upstreamAgent = new http.Agent({ keepAlive: true });
  private readonly server: http.Server;

  private constructor(private readonly target: () => string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  /** Listens on a free port of 127.0.0.1; `target` gives the simulator's endpoint when a call comes. */
  static async start(target: () => string): Promise<MaasProxy> {
    const proxy = new MaasProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once("error", reject);
      proxy.server.listen(0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  /** MAAS_ENDPOINT for the manager behind this proxy. */
  get endpoint(): string {
    return `http://127.0.0.1:${String((this.server.address() as AddressInfo).port)}/MAAS`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.upstreamAgent.destroy();
    await closed;
  }

  private strike(): void {
    this.kill?.();
    for (const socket of this.sockets) socket.destroy();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = req.url ?? "/";
    const call: ProxiedCall = {
      seq: this.calls.length + 1,
      method: req.method ?? "GET",
      path,
      op: new URL(path, "http://proxy").searchParams.get("op"),
      atMs: Date.now(),
      outcome: "held",
    };
    this.calls.push(call);
    let moment: KillMoment | undefined;
    try {
      moment = await this.hook?.(call);
    } catch (err) {
      // Kept for the test to report: a hook that fails must not pass as "no kill here".
      this.hookErrors.push(err);
      req.socket.destroy();
      return;
    }
    // The connection died while the hook held the call (its process was killed, or gave
    // up waiting): nothing to forward, but a kill decided on it still happens.
    if (req.socket.destroyed || moment === "before") {
      call.outcome = "dropped";
      if (moment !== undefined) this.strike();
      return;
    }
    call.outcome = "forwarded";
    forward(req, res, this.target(), this.upstreamAgent, moment === "after" ? () => this.strike() : undefined);
    // In flight: the whole request is on its way to MAAS when the manager dies (or the
    // caller's connection broke first: the kill still happens).
    if (moment === "in-flight") {
      let struck = false;
      const strikeOnce = (): void => {
        if (struck) return;
        struck = true;
        this.strike();
      };
      req.once("end", strikeOnce);
      req.once("close", strikeOnce);
    }
  }
}

/**
 * Sends the request on to MAAS. With `beforeAnswer`, MAAS's whole answer is read first
 * (so MAAS has done the work), then `beforeAnswer` runs and the answer is thrown away.
 */
function forward(req: http.IncomingMessage, res: http.ServerResponse, targetEndpoint: string, agent: http.Agent, beforeAnswer: (() => void) | undefined): void {
  const target = new URL(targetEndpoint);
  let answered = false;
  // Once, whether MAAS answered or the connection to it broke: the kill must not be lost.
  const onAnswer = (): void => {
    if (answered) return;
    answered = true;
    beforeAnswer?.();
    res.socket?.destroy();
  };
  const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
    if (beforeAnswer !== undefined) {
      answer.resume();
      answer.once("end", onAnswer);
      return;
    }
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", onAnswer);
  // Answers to a killed process go nowhere; that is the point, not an error.
  res.on("error", () => undefined);
  // A caller that died mid-request: MAAS still gets what was sent, as over a real network.
  req.on("error", () => undefined);
  req.pipe(upstream);
}
