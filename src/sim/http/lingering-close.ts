// nginx's lingering close (lingering_close on, lingering_time 30 s, lingering_timeout
// 5 s by default: ngx_http_set_lingering_close in src/http/ngx_http_request.c, the
// defaults in ngx_http_core_module.c). After refusing a request whose body the client
// may still be sending, nginx reads and throws away what keeps coming for a while
// before it closes. Closing with unread data makes the kernel reset the connection,
// and the client then usually loses the answer with it: it would see "connection
// reset" instead of 413. Nothing read here is kept.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Refusal } from "./nginx.ts";

export const LINGERING_TIME_MS = 30_000;
export const LINGERING_TIMEOUT_MS = 5_000;

/**
 * Sends the whole refusal (Connection: close), discards the rest of the request
 * until it ends, the client goes quiet for LINGERING_TIMEOUT_MS or
 * LINGERING_TIME_MS pass, and then lets Node close the connection. The timers are
 * real time, like Node's own request timeouts: they bound a socket, not simulated work.
 */
export function refuseLingering(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  const body = `${refusal.text}\n`;
  res.writeHead(refusal.status, refusal.reason, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    Connection: "close",
  });
  // Written but not ended: ending is what makes Node close the connection.
  res.write(body);
  let quiet: NodeJS.Timeout | undefined;
  const close = (): void => {
    clearTimeout(quiet);
    clearTimeout(total);
    req.off("data", heard);
    if (!res.writableEnded) res.end();
  };
  const heard = (): void => {
    clearTimeout(quiet);
    quiet = setTimeout(close, LINGERING_TIMEOUT_MS);
  };
  const total = setTimeout(close, LINGERING_TIME_MS);
  heard();
  req.on("data", heard);
  req.once("end", close);
  req.once("close", close);
  req.resume();
}
