import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MaasError, MaasTlsVerificationError, MaasUnavailableError, type TlsFailureReason } from "../../maas/index.ts";
import { isMaasUnavailable, maasFailureMessage } from "./maas-failure.ts";

describe("maasFailureMessage", () => {
  const fixes: Array<[TlsFailureReason, RegExp]> = [
    ["self-signed", /--maas-ca-file FILE/],
    ["unknown-ca", /--maas-ca-file FILE/],
    ["hostname-mismatch", /MAAS_ENDPOINT/],
    ["expired", /renew/],
    ["not-yet-valid", /clocks/],
    ["revoked", /replace/],
    ["invalid-certificate", /replace/],
  ];
  for (const [reason, fix] of fixes) {
    it(`names what to change for a certificate refused as ${reason}, with the TLS code and what was being done`, () => {
      const err = new MaasTlsVerificationError({ op: "GET machines/", reason, tlsCode: "SOME_TLS_CODE" });
      const message = maasFailureMessage(err, "Allocating a MAAS machine");
      assert.match(message, /^Allocating a MAAS machine: MAAS GET machines\/: TLS verification failed \(SOME_TLS_CODE\): /);
      assert.match(message, fix);
      assert.doesNotMatch(message, /caCertificates/, "the client's option name means nothing to a manager user");
    });
  }

  it("keeps any other failure's own text after what was being done", () => {
    const err = new MaasUnavailableError({ op: "GET zones/", status: 503, body: "down" });
    assert.equal(maasFailureMessage(err, "Listing MAAS zones"), `Listing MAAS zones: ${err.message}`);
  });

  describe("with the endpoint", () => {
    const err = new MaasUnavailableError({ op: "GET zones/", status: 503, body: "down" });
    const cases: Array<[string, string, string]> = [
      ["names it after what was being done", "http://maas.example:5240/MAAS", "Listing MAAS zones at http://maas.example:5240/MAAS: "],
      ["leaves out credentials and a query written into the URL", "https://user:pw@maas.example/MAAS?key=abc#x", "Listing MAAS zones at https://maas.example/MAAS: "],
      ["says which setting when the URL cannot be parsed", "not a url", "Listing MAAS zones at the configured MAAS_ENDPOINT: "],
    ];
    for (const [name, endpoint, start] of cases) {
      it(name, () => {
        const message = maasFailureMessage(err, "Listing MAAS zones", endpoint);
        assert.equal(message, `${start}${err.message}`);
      });
    }
  });
});

describe("isMaasUnavailable", () => {
  it("is true for MAAS down, failing, unreachable, refusing our credentials or our trust, and false for MAAS refusing the request", () => {
    for (const code of ["Unavailable", "ServerError", "Timeout", "Network", "Unauthorized", "TlsVerification"] as const) {
      assert.equal(isMaasUnavailable(new MaasError({ code, message: code, op: "GET machines/" })), true, code);
    }
    for (const code of ["Conflict", "BadRequest", "NotFound", "Forbidden"] as const) {
      assert.equal(isMaasUnavailable(new MaasError({ code, message: code, op: "GET machines/" })), false, code);
    }
    assert.equal(isMaasUnavailable(new Error("not from MAAS")), false);
  });
});
