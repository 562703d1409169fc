import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boundaryOf, parseMultipart, MultipartError } from "./http/multipart.ts";
import { libmaasMultipart } from "./test-support.ts";

describe("multipart/form-data parsing", () => {
  it("decodes python-libmaas base64 parts under a quoted boundary containing '='", () => {
    const { body, contentType } = libmaasMultipart([["distro_series", "jammy"], ["tags", "a"], ["tags", "b"], ["user_data", "#cloud-config\nruncmd: []\n"]]);
    const parsed = parseMultipart(body, contentType);
    assert.deepEqual(parsed.fields, [
      { name: "distro_series", value: "jammy" },
      { name: "tags", value: "a" },
      { name: "tags", value: "b" },
      { name: "user_data", value: "#cloud-config\nruncmd: []\n" },
    ]);
  });

  it("reads libmaas's empty body (one headerless empty part, no final CRLF) as no fields", () => {
    const { body, contentType } = libmaasMultipart([]);
    assert.equal(body.toString(), "--===============1234567890123456789==\r\n\r\n--===============1234567890123456789==--");
    assert.deepEqual(parseMultipart(body, contentType), { fields: [], files: [] });
  });

  it("reads plain parts, unquoted boundaries and UTF-8 values", () => {
    const body = Buffer.from('--xyz\r\nContent-Disposition: form-data; name="comment"\r\n\r\nhéllo, wörld\r\n--xyz\r\nContent-Disposition: form-data; name="empty"\r\n\r\n\r\n--xyz--\r\n');
    assert.deepEqual(parseMultipart(body, "multipart/form-data; boundary=xyz").fields, [
      { name: "comment", value: "héllo, wörld" },
      { name: "empty", value: "" },
    ]);
  });

  it("keeps file parts apart from fields", () => {
    const body = Buffer.from('--b\r\nContent-Disposition: form-data; name="content"; filename="x.tgz"\r\nContent-Type: application/octet-stream\r\n\r\nBYTES\r\n--b--');
    const parsed = parseMultipart(body, "multipart/form-data; boundary=b");
    assert.deepEqual(parsed.fields, []);
    assert.equal(parsed.files[0]?.content.toString(), "BYTES");
  });

  it("refuses a content type without a boundary", () => {
    assert.throws(() => boundaryOf("multipart/form-data"), MultipartError);
  });
});
