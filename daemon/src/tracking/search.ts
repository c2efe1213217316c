/**
 * Run search: MLflow's filter and order_by compiled to one SQL query over runs, with metric
 * conditions on latest_metrics (a run's latest value per key, as MLflow compares), and offset
 * page tokens. Runs without the metric, param or tag a condition names never match it.
 */
import { LatheError } from "../errors";
import type { Db } from "../store/db";
import { mlflowError } from "./mlflow/errors";
import { parseFilter, parseOrderBy, type Condition, type Identifier } from "./filter";

export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface RunQuery {
  experimentIds: string[];
  filter?: string;
  viewType?: ViewType;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export const DEFAULT_MAX_RESULTS = 1000;
export const MAX_RESULTS_LIMIT = 50000;

/** A metric's latest value as a number: ±Infinity come back from `text`, NaN stays NULL. */
const METRIC_SQL = `(SELECT CASE WHEN lm.value IS NOT NULL THEN lm.value
    WHEN lm.text = 'Infinity' THEN 9e999 WHEN lm.text = '-Infinity' THEN -9e999 END
  FROM latest_metrics lm WHERE lm.run_id = r.id AND lm.key = ?)`;

const NUMERIC_ATTRIBUTES: Record<string, string> = {
  start_time: "r.start_time",
  end_time: "r.end_time",
  created: "r.start_time",
  Created: "r.start_time",
};

const STRING_ATTRIBUTES: Record<string, string> = {
  run_id: "r.id",
  run_name: "r.name",
  // Lathe's SKIPPED (a repro with nothing to do) is FINISHED to MLflow.
  status: "(CASE r.status WHEN 'SKIPPED' THEN 'FINISHED' ELSE r.status END)",
  user_id: "r.user_id",
  lifecycle_stage: "r.lifecycle_stage",
  artifact_uri: "('mlflow-artifacts:/' || r.experiment_id || '/' || r.id || '/artifacts')",
};

interface Sql {
  text: string;
  args: unknown[];
  numeric: boolean;
}

function column(id: Identifier): Sql {
  switch (id.entity) {
    case "metric":
      return { text: METRIC_SQL, args: [id.key], numeric: true };
    case "param":
      return {
        text: "(SELECT value FROM params WHERE run_id = r.id AND key = ?)",
        args: [id.key],
        numeric: false,
      };
    case "tag":
      return {
        text: "(SELECT value FROM tags WHERE run_id = r.id AND key = ?)",
        args: [id.key],
        numeric: false,
      };
    case "attribute": {
      const numeric = NUMERIC_ATTRIBUTES[id.key];
      if (numeric) {
        return { text: numeric, args: [], numeric: true };
      }
      const text = STRING_ATTRIBUTES[id.key];
      if (text) {
        return { text, args: [], numeric: false };
      }
      throw mlflowError(
        "INVALID_PARAMETER_VALUE",
        `Invalid attribute key '${id.key}' specified. Valid keys are '${[...Object.keys(STRING_ATTRIBUTES), ...Object.keys(NUMERIC_ATTRIBUTES)].join("', '")}'`,
      );
    }
  }
}

/** LIKE is case-sensitive in MLflow; SQLite's GLOB is, so `%`/`_` become `*`/`?`. */
function likeToGlob(pattern: string): string {
  return pattern
    .replace(/[[*?]/g, (c) => `[${c}]`)
    .replace(/%/g, "*")
    .replace(/_/g, "?");
}

function condition(c: Condition): Sql {
  const col = column(c);
  const { comparator, value } = c;
  if (comparator === "IS NULL" || comparator === "IS NOT NULL") {
    return { text: `${col.text} ${comparator}`, args: col.args, numeric: false };
  }
  if (comparator === "IN" || comparator === "NOT IN") {
    if (col.numeric) {
      bad(`IN is for string fields, not '${c.key}'.`);
    }
    const list = value as string[];
    const text = `${col.text} ${comparator} (${list.map(() => "?").join(", ")})`;
    return { text, args: [...col.args, ...list], numeric: false };
  }
  if (col.numeric !== (typeof value === "number")) {
    const want = col.numeric ? "a number" : "a quoted string";
    bad(`The value for '${c.key}' must be ${want}: got ${JSON.stringify(value)}.`);
  }
  if (comparator === "LIKE" || comparator === "ILIKE") {
    if (col.numeric) {
      bad(`${comparator} is for string fields, not '${c.key}'.`);
    }
    const text = comparator === "LIKE" ? `${col.text} GLOB ?` : `${col.text} LIKE ?`;
    const pattern = comparator === "LIKE" ? likeToGlob(value as string) : value;
    return { text, args: [...col.args, pattern], numeric: false };
  }
  if (!col.numeric && comparator !== "=" && comparator !== "!=") {
    bad(`'${comparator}' is not allowed for '${c.key}': strings take =, !=, LIKE, ILIKE, IN.`);
  }
  return { text: `${col.text} ${comparator} ?`, args: [...col.args, value], numeric: false };
}

/** `field` names the request field at fault, so the native routes can quote it. */
function bad(message: string, field = "filter"): never {
  throw mlflowError("INVALID_PARAMETER_VALUE", message, { field });
}

/** Runs `parse`, marking a LatheError it throws as about this order_by clause. */
function inOrderBy<T>(source: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof LatheError) {
      Object.assign(err.data, { field: "order_by", value: source });
    }
    throw err;
  }
}

function orderClauses(orderBy: string[]): Sql {
  const parts: string[] = [];
  const args: unknown[] = [];
  let hasStartTime = false;
  for (const source of orderBy) {
    const clause = inOrderBy(source, () => parseOrderBy(source));
    const col = inOrderBy(source, () => column(clause));
    hasStartTime ||= col.text === "r.start_time";
    // Runs missing the value sort last whichever the direction, as in MLflow.
    parts.push(`(${col.text} IS NULL)`, `${col.text} ${clause.ascending ? "ASC" : "DESC"}`);
    args.push(...col.args, ...col.args);
  }
  if (!hasStartTime) {
    parts.push("r.start_time DESC");
  }
  parts.push("r.id ASC");
  return { text: parts.join(", "), args, numeric: false };
}

function decodeToken(token: string | undefined): number {
  if (!token) {
    return 0;
  }
  try {
    const offset = (
      JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { offset: unknown }
    ).offset;
    if (typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0) {
      return offset;
    }
  } catch {
    // Falls through to the error below: a token we did not make.
  }
  return bad(`Invalid page token '${token}'.`, "page_token");
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString("base64");
}

/** Run ids in order for one page, and the token of the next page when there is one. */
export function searchRunIds(db: Db, query: RunQuery): { ids: string[]; nextPageToken?: string } {
  const max = query.maxResults ?? DEFAULT_MAX_RESULTS;
  if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS_LIMIT) {
    bad(
      `Invalid value ${max} for parameter 'max_results' supplied. It must be at most ${MAX_RESULTS_LIMIT}, and at least 1.`,
    );
  }
  const where: string[] = [];
  const args: unknown[] = [];
  if (query.experimentIds.length > 0) {
    where.push("r.experiment_id IN (SELECT value FROM json_each(?))");
    args.push(JSON.stringify(query.experimentIds));
  }
  const view = query.viewType ?? "ACTIVE_ONLY";
  if (view !== "ALL") {
    where.push("r.lifecycle_stage = ?");
    args.push(view === "ACTIVE_ONLY" ? "active" : "deleted");
  }
  for (const c of parseFilter(query.filter)) {
    const sql = condition(c);
    where.push(sql.text);
    args.push(...sql.args);
  }
  const order = orderClauses(query.orderBy ?? []);
  const offset = decodeToken(query.pageToken);
  const sql = `SELECT r.id FROM runs r ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY ${order.text} LIMIT ? OFFSET ?`;
  const rows = db.prepare(sql).all(...args, ...order.args, max + 1, offset) as { id: string }[];
  const ids = rows.slice(0, max).map((r) => r.id);
  return rows.length > max ? { ids, nextPageToken: encodeToken(offset + max) } : { ids };
}
