/**
 * What one API-server request did, in the API server's own terms: its verb and the
 * resource it touched. `rest_client_requests_total` counts by HTTP method as client-go
 * does, where a LIST of every MaasMachine and a GET of one look the same; this tells
 * them apart, so an operator can see which requests grow with the number of objects.
 * Parsed the way kube-apiserver's RequestInfoFactory reads a path
 * (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go): `/api/v1/…` or
 * `/apis/<group>/<version>/…`, an optional `namespaces/<ns>/` prefix, then
 * `<resource>[/<name>[/<subresource>]]`.
 */
export interface RequestVerb {
  /** GET (one object), LIST (a collection), WATCH, POST, PUT, PATCH, DELETE, DELETECOLLECTION; NONRESOURCE for /version, /healthz and the like. */
  verb: string;
  /** The resource's plural, with `/<subresource>` when there is one (`maasmachines/status`); "" for a non-resource path. */
  resource: string;
}

// A namespace's own subresources: `namespaces/<ns>/finalize` is not a resource "finalize" in <ns>.
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

export function requestVerb(method: string, path: string, watch: boolean): RequestVerb {
  const parts = path.split("?")[0]?.split("/").filter((p) => p !== "") ?? [];
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) rest = parts.slice(2);
  else if (parts[0] === "apis" && parts.length >= 3) rest = parts.slice(3);
  else return { verb: "NONRESOURCE", resource: "" };
  if (rest[0] === "namespaces" && rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? "")) rest = rest.slice(2);
  const [plural = "", name, subresource] = rest;
  const resource = subresource === undefined ? plural : `${plural}/${subresource}`;
  const upper = method.toUpperCase();
  if (watch) return { verb: "WATCH", resource };
  if (upper === "GET") return { verb: name === undefined ? "LIST" : "GET", resource };
  if (upper === "DELETE" && name === undefined) return { verb: "DELETECOLLECTION", resource };
  return { verb: upper, resource };
}
