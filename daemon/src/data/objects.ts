/**
 * The content store: `.lathe/cache/objects/<first 2 hex>/<rest>`, uncompressed, written once.
 * Nothing outside data/ builds an object path.
 */
import { join } from "node:path";
import { LatheError } from "../errors";
import type { Workspace } from "../workspace";

const OID = /^[0-9a-f]{64}$/;

export function objectPath(ws: Workspace, oid: string): string {
  if (!OID.test(oid)) {
    throw new LatheError("LATHE_BAD_INPUT", `'${oid}' is not a SHA-256 object id (64 hex digits).`, {
      oid,
    });
  }
  return join(ws.objectsDir, oid.slice(0, 2), oid.slice(2));
}
