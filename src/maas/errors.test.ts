import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MaasBadRequestError,
  MaasConflictError,
  MaasError,
  MaasForbiddenError,
  MaasNotFoundError,
  MaasServerError,
  MaasUnauthorizedError,
  MaasUnavailableError,
  MaasUnexpectedResponseError,
  errorFromResponse,
  parseFieldErrors,
} from "./errors.ts";

describe("errorFromResponse", () => {
  const table: [number, new (...args: never[]) => MaasError, string][] = [
    [400, MaasBadRequestError, "BadRequest"],
    [401, MaasUnauthorizedError, "Unauthorized"],
    [403, MaasForbiddenError, "Forbidden"],
    [404, MaasNotFoundError, "NotFound"],
    [409, MaasConflictError, "Conflict"],
    [429, MaasUnavailableError, "Unavailable"],
    [503, MaasUnavailableError, "Unavailable"],
    [500, MaasServerError, "ServerError"],
    [502, MaasServerError, "ServerError"],
    [405, MaasUnexpectedResponseError, "Unexpected"],
  ];
  for (const [status, type, code] of table) {
    it(`maps HTTP ${status} to ${type.name} with code ${code}`, () => {
      const error = errorFromResponse({ op: "GET machines/", status, body: "x", contentType: "text/plain", retryAfterMs: undefined });
      assert.ok(error instanceof type);
      assert.ok(error instanceof MaasError);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      assert.equal(error.op, "GET machines/");
      assert.equal(error.name, type.name);
    });
  }

  it("reads MAAS's JSON form errors on a 400 into fieldErrors", () => {
    const error = errorFromResponse({
      op: "POST machines/?op=allocate",
      status: 400,
      body: '{"tags": ["No such tag(s): \'nope\'."]}',
      contentType: "application/json",
      retryAfterMs: undefined,
    });
    assert.ok(error instanceof MaasBadRequestError);
    assert.deepEqual(error.fieldErrors, { tags: ["No such tag(s): 'nope'."] });
    assert.match(error.message, /^MAAS POST machines\/\?op=allocate: HTTP 400: .*No such tag/);
  });

  it("leaves fieldErrors unset for a plain-text 400", () => {
    const error = errorFromResponse({ op: "POST x/", status: 400, body: "Deployment to memory not supported for centos/7 on amd64/generic", contentType: "text/plain", retryAfterMs: undefined });
    assert.ok(error instanceof MaasBadRequestError);
    assert.equal(error.fieldErrors, undefined);
    assert.equal(error.body, "Deployment to memory not supported for centos/7 on amd64/generic");
  });

  it("keeps Retry-After on 503 and 409", () => {
    const unavailable = errorFromResponse({ op: "GET x/", status: 503, body: "", contentType: undefined, retryAfterMs: 2000 });
    assert.ok(unavailable instanceof MaasUnavailableError);
    assert.equal(unavailable.retryAfterMs, 2000);
    assert.equal(unavailable.message, "MAAS GET x/: HTTP 503");
    const conflict = errorFromResponse({ op: "GET x/", status: 409, body: "busy", contentType: undefined, retryAfterMs: 1000 });
    assert.ok(conflict instanceof MaasConflictError);
    assert.equal(conflict.retryAfterMs, 1000);
  });

  it("truncates a huge body in the message and in body", () => {
    const error = errorFromResponse({ op: "GET x/", status: 500, body: "e".repeat(10_000), contentType: undefined, retryAfterMs: undefined });
    assert.ok(error.message.length < 400);
    assert.ok((error.body ?? "").length <= 2001);
  });
});

describe("parseFieldErrors", () => {
  it("accepts string or list values and refuses other JSON", () => {
    assert.deepEqual(parseFieldErrors('{"a": "one", "b": ["x", "y"]}'), { a: ["one"], b: ["x", "y"] });
    assert.equal(parseFieldErrors('["a"]'), undefined);
    assert.equal(parseFieldErrors('{"a": 1}'), undefined);
    assert.equal(parseFieldErrors("{not json"), undefined);
    assert.equal(parseFieldErrors("No machine available."), undefined);
  });
});
