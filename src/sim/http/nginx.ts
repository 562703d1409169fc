// What the nginx in front of regiond refuses before a request reaches MAAS, as pure
// rules the server applies. MAAS's snap ships nginx.conf with worker_processes auto,
// worker_connections 768 and client_max_body_size 10M
// (canonical/maas snap/local/tree/usr/share/maas/nginx/nginx.conf);
// regiond.nginx.conf.template sets no header or timeout directive, so nginx's
// defaults hold: client_header_buffer_size 1k, large_client_header_buffers 4 8k,
// client_header_timeout and client_body_timeout 60 s
// (nginx src/http/ngx_http_core_module.c, ngx_http_core_merge_srv_conf).
// nginx answers with an HTML page titled with the texts below
// (src/http/ngx_http_special_response.c); the simulator sends the title as text/plain.
import { availableParallelism } from "node:os";

/** worker_connections in MAAS's nginx.conf; worker_processes auto runs one worker per CPU. */
export const NGINX_WORKER_CONNECTIONS = 768;

/** Every worker's connections together: what MAAS's nginx holds open at most. */
export function defaultMaxConnections(): number {
  return NGINX_WORKER_CONNECTIONS * availableParallelism();
}

/**
 * large_client_header_buffers 4 8k: the request line and each header line must fit
 * one 8 KiB buffer, and all of them four such buffers
 * (ngx_http_alloc_large_header_buffer declines past either).
 */
export const HEADER_LINE_MAX_BYTES = 8 * 1024;
export const HEADERS_MAX_BYTES = 4 * HEADER_LINE_MAX_BYTES;

export interface Refusal {
  status: number;
  /** Status line reason and body: nginx's page title. */
  reason: string;
  text: string;
}

/** ngx_http_error_400_page: a request line or Host header nginx cannot parse. */
export const BAD_REQUEST: Refusal = { status: 400, reason: "Bad Request", text: "Bad Request" };
/** ngx_http_error_494_page, sent as 400: a header line over 8 KiB, or all of them over 32 KiB. */
export const HEADER_TOO_LARGE: Refusal = { status: 400, reason: "Bad Request", text: "Request Header Or Cookie Too Large" };
/** ngx_http_error_414_page: a request line over 8 KiB ("client sent too long URI"). */
export const URI_TOO_LARGE: Refusal = { status: 414, reason: "Request-URI Too Large", text: "Request-URI Too Large" };
/** ngx_http_error_413_page: a body over client_max_body_size. */
export const BODY_TOO_LARGE: Refusal = { status: 413, reason: "Request Entity Too Large", text: "Request Entity Too Large" };
/**
 * A request not received within the timeout. nginx closes such a connection without
 * an answer (ngx_http_read_request_header, ngx_http_finalize_request with
 * NGX_HTTP_REQUEST_TIME_OUT); the simulator says why first, as Node does.
 */
export const REQUEST_TIMEOUT: Refusal = { status: 408, reason: "Request Time-out", text: "Request Time-out" };

/** The whole answer as bytes, for a connection the HTTP server has given up on. */
export function rawResponse(refusal: Refusal): string {
  const body = `${refusal.text}\n`;
  return [
    `HTTP/1.1 ${refusal.status} ${refusal.reason}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

/**
 * The line-length rules for a request whose head Node has parsed (within
 * HEADERS_MAX_BYTES): the request line first, as nginx reads it first.
 */
export function headLimitRefusal(method: string, url: string, httpVersion: string, rawHeaders: readonly string[]): Refusal | null {
  if (`${method} ${url} HTTP/${httpVersion}\r\n`.length > HEADER_LINE_MAX_BYTES) return URI_TOO_LARGE;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (`${rawHeaders[i] ?? ""}: ${rawHeaders[i + 1] ?? ""}\r\n`.length > HEADER_LINE_MAX_BYTES) return HEADER_TOO_LARGE;
  }
  return null;
}

/**
 * A head over HEADERS_MAX_BYTES, which Node's parser refuses before the request
 * exists. nginx answers 414 while still in the request line and 400 after it.
 * Node does not say which, so the bytes it was parsing decide: a request line holds
 * no line break, a header block does. (A single header line longer than one read of
 * the socket therefore counts as the request line: either way the request is refused.)
 */
export function headOverflowRefusal(parsedBytes: Buffer | undefined): Refusal {
  return parsedBytes !== undefined && parsedBytes.includes(0x0a) ? HEADER_TOO_LARGE : URI_TOO_LARGE;
}

/**
 * ngx_http_validate_host: letters, digits, unreserved, sub-delims and "%", or a
 * bracketed IP literal; no empty label (".."), and not empty once one trailing dot
 * is dropped; then an optional port up to 65535. A Host nginx declines is answered
 * 400 before MAAS sees it.
 */
export function validHost(host: string): boolean {
  const match = /^(\[[A-Za-z0-9:._~!$&'()*+,;=-]*\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::(\d*))?$/.exec(host);
  if (match === null) return false;
  const name = match[1] ?? "";
  if (name.includes("..") || name.replace(/\.$/, "") === "") return false;
  const port = match[2];
  return port === undefined || port === "" || Number(port) <= 65535;
}
