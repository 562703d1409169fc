// One call for "send a MAAS request, check the answer's shape". The label a shape
// error carries is derived from the request the same way the HTTP layer labels its
// own errors, so the services never spell it out (and cannot let it drift); the
// answer's HTTP status goes with it, so a shape error says what MAAS answered.
import type { TSchema } from "@sinclair/typebox";
import { describeRequest, type MaasRequest, type MaasRequester } from "./http.ts";
import { parseList, parseResponse, type MaasObject } from "./validate.ts";

/** Sends `request` and returns the one object MAAS answers, checked against `schema`. */
export async function requestObject<T extends TSchema>(http: MaasRequester, schema: T, request: MaasRequest): Promise<MaasObject<T>> {
  const answer = await http.request(request);
  return parseResponse(schema, answer.json, { op: describeRequest(request), status: answer.status });
}

/** Sends `request` and returns the list MAAS answers, each item checked against `schema`. */
export async function requestList<T extends TSchema>(http: MaasRequester, schema: T, request: MaasRequest): Promise<MaasObject<T>[]> {
  const answer = await http.request(request);
  return parseList(schema, answer.json, { op: describeRequest(request), status: answer.status });
}
