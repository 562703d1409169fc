// Parameter validators MAAS uses, with their exact error texts.
import { badRequest } from "./errors.ts";
import type { FormParams } from "./form-params.ts";

const TRUE_VALUES = new Set(["true", "t", "yes", "y", "on", "1"]);
const FALSE_VALUES = new Set(["false", "f", "no", "n", "off", "0"]);

/**
 * formencode StringBool through get_optional_param (maas@3.7.0 api/utils.py):
 * true/t/yes/y/on/1 and false/f/no/n/off/0, any case; an empty value is None
 * (falsy); anything else → 400 text/plain "Invalid <key>: Value should be 'true' or 'false'".
 */
export function optionalStringBool(params: FormParams, key: string, fallback: boolean): boolean {
  const raw = params.get(key);
  if (raw === undefined) return fallback;
  const value = raw.trim().toLowerCase();
  if (value === "") return false;
  if (TRUE_VALUES.has(value)) return true;
  if (FALSE_VALUES.has(value)) return false;
  throw badRequest(`Invalid ${key}: Value should be 'true' or 'false'`);
}

/** formencode Int through get_optional_param: "Invalid <key>: Please enter an integer value". */
export function optionalInt(params: FormParams, key: string, fallback: number): number {
  const raw = params.get(key);
  if (raw === undefined) return fallback;
  const trimmed = raw.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) throw badRequest(`Invalid ${key}: Please enter an integer value`);
  return Number(trimmed);
}

/**
 * Django's forms.BooleanField (release's erase/force flags, ReleaseForm in
 * maas@3.7.0 forms/ephemeral.py): absent, "", "false" and "0" are false; any
 * other text — including "no" and "off" — is true.
 */
export function djangoBool(params: FormParams, key: string): boolean {
  const raw = params.get(key);
  if (raw === undefined || raw === "") return false;
  return !["false", "0"].includes(raw.toLowerCase());
}
