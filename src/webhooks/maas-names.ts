// MAAS's own rules for the names our specs carry, so admission refuses a name MAAS could
// never hold (allocation would fail later with "No such zone") and accepts every name it
// can. Read in canonical/maas (the same at tags 2.6.0, 2.9.0, 3.0.0, 3.3.0 to 3.7.0 and main):
// - zones and resource pools: maasserver/fields.py MODEL_NAME_VALIDATOR `^\w[ \w-]*$`,
//   used by models/zone.py and models/resourcepool.py (zones used the stricter
//   ZONE_NAME_VALIDATOR `^[\w-]+$` only until 2.4.0, commit bd078fd9b). Python's `\w`
//   on str is Unicode: letters and digits of any script, and '_'.
// - system IDs: models/node.py generate_node_system_id makes six characters of
//   provisioningserver/utils/znums.py's alphabet; older machines keep `node-<uuid>`.
//   The column has no validator, so the rule here is the set those forms use.
import type { FieldError } from "./field-errors.ts";
import { invalid } from "./field-errors.ts";

const MODEL_NAME = /^[\p{L}\p{N}_][ \p{L}\p{N}_-]*$/u;
const SYSTEM_ID = /^[A-Za-z0-9-]+$/;
// The form the manager writes and MAAS tooling parses: maas:///<zone>/<system-id>.
const PROVIDER_ID = /^maas:\/\/\/([^/]+)\/([^/]+)$/;

const ZONE_FIX = "a MAAS zone name has only letters, digits, '-' and '_' and spaces, and starts with a letter, digit or '_' (MAAS refuses others); use the name `maas <profile> zones read` lists";
const POOL_FIX = "a MAAS resource pool name starts with a letter, digit or '_' and has only those, '-' and spaces; use the name `maas <profile> resource-pools read` lists";
const SYSTEM_ID_FIX = "a MAAS system ID has only letters, digits and '-' (e.g. 4y3h7n); leave it unset, the controller writes it";

export function zoneNameErrors(field: string, zone: string): FieldError[] {
  return MODEL_NAME.test(zone) ? [] : [invalid(field, zone, ZONE_FIX)];
}

export function poolNameErrors(field: string, pool: string): FieldError[] {
  return MODEL_NAME.test(pool) ? [] : [invalid(field, pool, POOL_FIX)];
}

export function systemIdErrors(field: string, systemId: string): FieldError[] {
  return SYSTEM_ID.test(systemId) ? [] : [invalid(field, systemId, SYSTEM_ID_FIX)];
}

/**
 * `maas:///<zone>/<system-id>` with a zone and a system ID MAAS could hold, naming the
 * same machine as `systemID` when both are set.
 */
export function providerIdErrors(field: string, providerID: string, systemID: { field: string; value: string | undefined }): FieldError[] {
  const fix = "leave providerID unset, the controller writes it";
  const match = PROVIDER_ID.exec(providerID);
  const zone = match?.[1] ?? "";
  const id = match?.[2] ?? "";
  if (match === null || !MODEL_NAME.test(zone) || !SYSTEM_ID.test(id)) {
    return [invalid(field, providerID, `expected maas:///<zone>/<system-id> with a MAAS zone name and system ID; ${fix}`)];
  }
  if (systemID.value !== undefined && id !== systemID.value) {
    return [invalid(field, providerID, `names system ID ${id} but ${systemID.field} is ${systemID.value}; leave both unset, the controller writes them`)];
  }
  return [];
}
