// Turns a request body into form parameters the way Django fills request.POST:
// urlencoded and multipart bodies are parsed; any other content type leaves the
// parameters empty (Django exposes those bodies only as raw bytes).
import { FormParams } from "./form-params.ts";
import { MultipartError, parseMultipart } from "./multipart.ts";

export class BodyError extends Error {}

export interface ParsedBody {
  params: FormParams;
  /** True for application/x-www-form-urlencoded: OAuth signs these parameters. */
  urlEncoded: boolean;
  /** Names of uploaded files (multipart parts with a filename); MAAS keeps them in request.FILES. */
  files: string[];
}

export function parseBody(body: Buffer, contentType: string | undefined): ParsedBody {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/x-www-form-urlencoded") {
    return { params: FormParams.fromUrlEncoded(body.toString("utf8")), urlEncoded: true, files: [] };
  }
  if (type === "multipart/form-data") {
    try {
      const parsed = parseMultipart(body, contentType ?? "");
      return {
        params: FormParams.fromPairs(parsed.fields.map((f) => [f.name, f.value] as const)),
        urlEncoded: false,
        files: parsed.files.map((f) => f.name),
      };
    } catch (error) {
      if (error instanceof MultipartError) throw new BodyError(`Invalid multipart body: ${error.message}`);
      throw error;
    }
  }
  return { params: new FormParams(), urlEncoded: false, files: [] };
}
