import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { requestVerb } from "./request-verb.ts";

describe("requestVerb", () => {
  const cases: Array<{ name: string; method: string; path: string; watch?: boolean; verb: string; resource: string }> = [
    { name: "a GET of one namespaced object", method: "GET", path: "/apis/infrastructure.cluster.x-k8s.io/v1beta1/namespaces/ns/maasmachines/m-1", verb: "GET", resource: "maasmachines" },
    { name: "a GET of a namespaced collection", method: "GET", path: "/apis/infrastructure.cluster.x-k8s.io/v1beta1/namespaces/ns/maasmachines", verb: "LIST", resource: "maasmachines" },
    { name: "a GET of a collection in every namespace", method: "GET", path: "/api/v1/secrets?limit=500", verb: "LIST", resource: "secrets" },
    { name: "a watch", method: "GET", path: "/api/v1/namespaces/ns/secrets", watch: true, verb: "WATCH", resource: "secrets" },
    { name: "a status patch", method: "PATCH", path: "/apis/infrastructure.cluster.x-k8s.io/v1beta1/namespaces/ns/maasmachines/m-1/status", verb: "PATCH", resource: "maasmachines/status" },
    { name: "a create", method: "POST", path: "/apis/events.k8s.io/v1/namespaces/ns/events", verb: "POST", resource: "events" },
    { name: "an update", method: "PUT", path: "/apis/coordination.k8s.io/v1/namespaces/ns/leases/capmaas", verb: "PUT", resource: "leases" },
    { name: "a delete of one object", method: "DELETE", path: "/api/v1/namespaces/ns/secrets/s", verb: "DELETE", resource: "secrets" },
    { name: "a delete of a collection", method: "DELETE", path: "/api/v1/namespaces/ns/secrets", verb: "DELETECOLLECTION", resource: "secrets" },
    { name: "a GET of a namespace (cluster-scoped)", method: "GET", path: "/api/v1/namespaces/ns", verb: "GET", resource: "namespaces" },
    { name: "a namespace's finalize subresource", method: "PUT", path: "/api/v1/namespaces/ns/finalize", verb: "PUT", resource: "namespaces/finalize" },
    { name: "a list of namespaces", method: "GET", path: "/api/v1/namespaces", verb: "LIST", resource: "namespaces" },
    { name: "a non-resource path", method: "GET", path: "/version", verb: "NONRESOURCE", resource: "" },
  ];
  for (const c of cases) {
    it(`names ${c.name} ${c.verb} on ${c.resource === "" ? "no resource" : c.resource}`, () => {
      assert.deepEqual(requestVerb(c.method, c.path, c.watch ?? false), { verb: c.verb, resource: c.resource });
    });
  }
});
