// A small multipart/form-data parser, written for what MAAS clients send.
// python-libmaas 0.6.8 (utils/multipart.py) quotes a boundary that contains "=",
// sends every part with `Content-Transfer-Encoding: base64`, and posts
// `--B\r\n\r\n--B--` (one headerless empty part, no final CRLF) when there are no
// parameters. Django's MultiPartParser decodes base64 parts, so MAAS sees
// `jammy`, not `amFtbXk=`; we do the same.

export interface MultipartField {
  name: string;
  value: string;
}

export interface MultipartFile {
  name: string;
  filename: string;
  content: Buffer;
}

export interface MultipartBody {
  fields: MultipartField[];
  files: MultipartFile[];
}

export class MultipartError extends Error {}

/** Extracts the boundary from a Content-Type header; quoted values are unquoted. */
export function boundaryOf(contentType: string): string {
  const match = /;\s*boundary=(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1]?.replace(/\\(.)/g, "$1") ?? match?.[2];
  if (boundary === undefined || boundary === "") {
    throw new MultipartError("multipart/form-data without a boundary parameter");
  }
  return boundary;
}

export function parseMultipart(body: Buffer, contentType: string): MultipartBody {
  const dashBoundary = `--${boundaryOf(contentType)}`;
  // latin1 maps bytes 1:1 to code units, so indexes are byte offsets.
  const text = body.toString("latin1");
  const positions = delimiterPositions(text, dashBoundary);
  if (positions.length === 0) {
    if (text.trim() === "") return { fields: [], files: [] };
    throw new MultipartError("multipart body has no boundary delimiter");
  }
  const result: MultipartBody = { fields: [], files: [] };
  for (let i = 0; i < positions.length; i++) {
    const start = (positions[i] as number) + dashBoundary.length;
    if (text.startsWith("--", start)) break; // close delimiter
    const next = positions[i + 1];
    if (next === undefined) throw new MultipartError("multipart body ends without a close delimiter");
    const partStart = skipLineEnd(text, start);
    const partEnd = text.startsWith("\r\n", next - 2) ? next - 2 : text[next - 1] === "\n" ? next - 1 : next;
    addPart(result, text.slice(partStart, Math.max(partStart, partEnd)));
  }
  return result;
}

function delimiterPositions(text: string, dashBoundary: string): number[] {
  const found: number[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(dashBoundary, from);
    if (at < 0) return found;
    if (at === 0 || text[at - 1] === "\n") found.push(at);
    from = at + dashBoundary.length;
  }
}

function skipLineEnd(text: string, at: number): number {
  let i = at;
  while (text[i] === " " || text[i] === "\t") i++; // transport padding
  if (text.startsWith("\r\n", i)) return i + 2;
  if (text[i] === "\n") return i + 1;
  return i;
}

function addPart(result: MultipartBody, part: string): void {
  let headerText: string;
  let content: string;
  if (part.startsWith("\r\n") || part.startsWith("\n")) {
    headerText = "";
    content = part.slice(part.startsWith("\r\n") ? 2 : 1);
  } else {
    const split = part.indexOf("\r\n\r\n");
    const splitLf = part.indexOf("\n\n");
    if (split >= 0) {
      headerText = part.slice(0, split);
      content = part.slice(split + 4);
    } else if (splitLf >= 0) {
      headerText = part.slice(0, splitLf);
      content = part.slice(splitLf + 2);
    } else {
      headerText = part;
      content = "";
    }
  }
  const headers = parseHeaders(headerText);
  const disposition = headers.get("content-disposition");
  if (disposition === undefined) return; // e.g. libmaas's empty part: nothing to read
  const name = dispositionParam(disposition, "name");
  if (name === undefined) throw new MultipartError("multipart part without a name");
  const bytes = decodeTransfer(Buffer.from(content, "latin1"), headers.get("content-transfer-encoding"));
  const filename = dispositionParam(disposition, "filename");
  if (filename !== undefined) {
    result.files.push({ name, filename, content: bytes });
    return;
  }
  result.fields.push({ name, value: decodeText(bytes, headers.get("content-type")) });
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, param: string): string | undefined {
  const pattern = new RegExp(`(?:^|;)\\s*${param}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, "i");
  const match = pattern.exec(disposition);
  if (match === null) return undefined;
  const raw = match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : (match[2] ?? "").trim();
  // Header bytes arrived as latin1 code units; names are UTF-8 on the wire.
  return Buffer.from(raw, "latin1").toString("utf8");
}

function decodeTransfer(raw: Buffer, encoding: string | undefined): Buffer {
  const kind = (encoding ?? "").trim().toLowerCase();
  if (kind === "" || kind === "7bit" || kind === "8bit" || kind === "binary") return raw;
  if (kind === "base64") return Buffer.from(raw.toString("latin1").replace(/\s+/g, ""), "base64");
  if (kind === "quoted-printable") return decodeQuotedPrintable(raw.toString("latin1"));
  throw new MultipartError(`unsupported Content-Transfer-Encoding: ${encoding ?? ""}`);
}

function decodeQuotedPrintable(text: string): Buffer {
  const unfolded = text.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < unfolded.length; i++) {
    const hex = unfolded.slice(i + 1, i + 3);
    if (unfolded[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(unfolded.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeText(bytes: Buffer, contentType: string | undefined): string {
  const charset = /charset="?([^";\s]+)"?/i.exec(contentType ?? "")?.[1]?.toLowerCase() ?? "utf-8";
  if (charset === "latin1" || charset === "iso-8859-1") return bytes.toString("latin1");
  return bytes.toString("utf8");
}
