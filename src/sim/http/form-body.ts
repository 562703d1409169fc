// Turns a request body into form parameters the way Django fills request.POST:
// urlencoded and multipart bodies are parsed; any other content type leaves the
// parameters empty (Django exposes those bodies only as raw bytes).
import { FormParams } from "./form-params.ts";
import { MultipartError, parseMultipart } from "./multipart.ts";

export class BodyError extends Error {}

/**
 * Django's DATA_UPLOAD_MAX_NUMBER_FIELDS, 1000 by default; MAAS does not set it
 * (maasserver/djangosettings/settings.py sets only DATA_UPLOAD_MAX_MEMORY_SIZE = None).
 * More parameters in the query string or in the form body raise TooManyFieldsSent.
 */
export const MAX_NUMBER_FIELDS = 1000;

export class TooManyFieldsError extends Error {
  constructor() {
    super("The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.");
  }
}

/** QueryDict → parse_qsl(max_num_fields): a non-empty string holds 1 + its "&" count fields. */
export function checkUrlEncodedFieldCount(text: string): void {
  if (text === "") return;
  let fields = 1;
  for (let at = text.indexOf("&"); at >= 0; at = text.indexOf("&", at + 1)) {
    if (++fields > MAX_NUMBER_FIELDS) throw new TooManyFieldsError();
  }
}

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
    const text = body.toString("utf8");
    checkUrlEncodedFieldCount(text);
    return { params: FormParams.fromUrlEncoded(text), urlEncoded: true, files: [] };
  }
  if (type === "multipart/form-data") {
    try {
      const parsed = parseMultipart(body, contentType ?? "");
      // MultiPartParser counts the fields (not the files) as it reads them.
      if (parsed.fields.length > MAX_NUMBER_FIELDS) throw new TooManyFieldsError();
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
