/**
 * The filters, ordering and paging of registered-models/search and model-versions/search: the
 * clauses MLflow's client sends (`name = 'x'`, `name LIKE 'x%'`, `run_id = '…'`, `tags.k = 'v'`,
 * joined by AND), `order_by` on a field with ASC/DESC, and an offset page token.
 */
import type { ModelVersion, RegisteredModel } from "../../../../schemas/api";
import { mlflowError } from "./errors";
import { list, optionalString, type Request } from "./request";

type Row = Record<string, string | number | Record<string, string>>;
interface Clause {
  field: string;
  op: string;
  value: string;
}

const CLAUSE =
  /^\s*([A-Za-z_][\w.]*|`[^`]+`|tags\.`[^`]+`)\s*(=|!=|LIKE|ILIKE)\s*(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)")\s*$/i;

export function modelSearch(models: RegisteredModel[], req: Request) {
  const rows = models.map((m) => ({
    item: m,
    row: {
      name: m.name,
      creation_timestamp: m.createdAt,
      last_updated_timestamp: Math.max(m.createdAt, ...m.versions.map((v) => v.updatedAt)),
      tags: m.tags,
    },
  }));
  return search(rows, req, ["name"], 100, "name ASC");
}

export function versionSearch(versions: ModelVersion[], req: Request) {
  const rows = versions.map((v) => ({
    item: v,
    row: {
      name: v.model,
      version_number: v.version,
      run_id: v.runId,
      current_stage: v.stage,
      source_path: v.path,
      creation_timestamp: v.createdAt,
      last_updated_timestamp: v.updatedAt,
      tags: v.tags,
    },
  }));
  return search(
    rows,
    req,
    ["name", "run_id", "version_number", "current_stage", "source_path"],
    10_000,
    "name ASC",
  );
}

function search<T>(
  rows: { item: T; row: Row }[],
  req: Request,
  fields: string[],
  maxDefault: number,
  defaultOrder: string,
): { items: T[]; next: string | undefined } {
  const clauses = parseFilter(optionalString(req, "filter") ?? "", fields);
  const kept = rows.filter(({ row }) => clauses.every((c) => holds(row, c)));
  const orders = list(req, "order_by").map(String);
  sortRows(kept, [...orders, defaultOrder], fields);
  const max = Number(optionalString(req, "max_results") ?? maxDefault);
  if (!Number.isInteger(max) || max < 1 || max > 200_000) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid value for max_results: it must be a positive integer, got ${String(req.max_results)}.`,
    );
  }
  const offset = pageOffset(optionalString(req, "page_token"));
  const page = kept.slice(offset, offset + max).map((r) => r.item);
  const next =
    offset + max < kept.length
      ? Buffer.from(JSON.stringify({ offset: offset + max })).toString("base64")
      : undefined;
  return { items: page, next };
}

function parseFilter(filter: string, fields: string[]): Clause[] {
  if (!filter.trim()) {
    return [];
  }
  return filter.split(/\s+AND\s+/i).map((text) => {
    const m = CLAUSE.exec(text);
    const field = m?.[1]?.replace(/`/g, "");
    if (!m || !field || !(fields.includes(field) || field.startsWith("tags."))) {
      throw mlflowError(
        "INVALID_PARAMETER_VALUE",
        `Invalid filter '${text.trim()}': use <field> = | != | LIKE | ILIKE '<value>' joined by AND, with field one of ${fields.join(", ")} or tags.<key>.`,
      );
    }
    const value = m[3] !== undefined ? m[3].replace(/''/g, "'") : m[4]!.replace(/""/g, '"');
    return { field, op: m[2]!.toUpperCase(), value };
  });
}

function holds(row: Row, c: Clause): boolean {
  const raw = c.field.startsWith("tags.")
    ? (row.tags as Record<string, string>)[c.field.slice(5)]
    : row[c.field];
  if (raw === undefined || typeof raw === "object") {
    return false;
  }
  const value = String(raw);
  switch (c.op) {
    case "=":
      return value === c.value;
    case "!=":
      return value !== c.value;
    default:
      return like(c.value, c.op === "ILIKE").test(value);
  }
}

function like(pattern: string, ignoreCase: boolean): RegExp {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/%/g, ".*")
    .replace(/_/g, ".");
  return new RegExp(`^${body}$`, ignoreCase ? "is" : "s");
}

function sortRows<T>(rows: { item: T; row: Row }[], orders: string[], fields: string[]): void {
  const keys = orders.map((o) => {
    const m = /^\s*([\w.]+)\s*(ASC|DESC)?\s*$/i.exec(o);
    const known = [...fields, "creation_timestamp", "last_updated_timestamp"];
    if (!m || !known.includes(m[1]!)) {
      throw mlflowError(
        "INVALID_PARAMETER_VALUE",
        `Invalid order_by clause '${o}': use <field> [ASC|DESC] with field one of ${known.join(", ")}.`,
      );
    }
    return { field: m[1]!, sign: m[2]?.toUpperCase() === "DESC" ? -1 : 1 };
  });
  rows.sort((a, b) => {
    for (const { field, sign } of keys) {
      const x = a.row[field] as string | number;
      const y = b.row[field] as string | number;
      if (x !== y) {
        return (x < y ? -1 : 1) * sign;
      }
    }
    return 0;
  });
}

function pageOffset(token: string | undefined): number {
  if (!token) {
    return 0;
  }
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as {
      offset?: unknown;
    };
    if (
      typeof parsed.offset === "number" &&
      Number.isInteger(parsed.offset) &&
      parsed.offset >= 0
    ) {
      return parsed.offset;
    }
  } catch {
    // Reported below.
  }
  throw mlflowError("INVALID_PARAMETER_VALUE", `Invalid page_token '${token}'.`);
}
