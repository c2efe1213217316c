/**
 * MLflow's experiment endpoints: create, get, get-by-name and search. Experiments are few, so
 * search filters and sorts them in memory with the same filter language as runs (`name`,
 * `creation_time`, `last_update_time` attributes and `tags.<key>`).
 */
import type { Context } from "../../context";
import { parseFilter, parseOrderBy, type Condition } from "../filter";
import { parseKeyValue } from "../ingest";
import {
  allExperimentRecords,
  experimentRecord,
  experimentRecordByName,
  insertExperiment,
  type ExperimentRecord,
} from "../records";
import { DEFAULT_MAX_RESULTS, MAX_RESULTS_LIMIT } from "../search";
import { checkLength } from "../validate";
import { toMlflowExperiment } from "./entities";
import { mlflowError } from "./errors";
import { list, maxResults, optionalString, requiredString, type Request } from "./request";

const MAX_EXPERIMENT_NAME_LENGTH = 500;

export function createMlflowExperiment(ctx: Context, req: Request): { experiment_id: string } {
  const name = requiredString(req, "name");
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Experiment name exceeds the maximum length of ${MAX_EXPERIMENT_NAME_LENGTH} characters`,
    );
  }
  const tags = list(req, "tags").map((t) => parseKeyValue("tag", t));
  tags.forEach((t) => checkLength("Tag key", 250, t.key));
  if (experimentRecordByName(ctx.db, name)) {
    throw mlflowError("RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`, {
      name,
    });
  }
  const artifactLocation = optionalString(req, "artifact_location") ?? null;
  return { experiment_id: insertExperiment(ctx.db, name, { artifactLocation, tags }) };
}

export function getMlflowExperiment(ctx: Context, req: Request): { experiment: unknown } {
  const id = requiredString(req, "experiment_id");
  const experiment = experimentRecord(ctx.db, id);
  if (!experiment) {
    throw mlflowError("RESOURCE_DOES_NOT_EXIST", `No Experiment with id=${id} exists`, {
      experimentId: id,
    });
  }
  return { experiment: toMlflowExperiment(experiment) };
}

export function getMlflowExperimentByName(ctx: Context, req: Request): { experiment: unknown } {
  const name = requiredString(req, "experiment_name");
  const experiment = experimentRecordByName(ctx.db, name);
  if (!experiment) {
    throw mlflowError("RESOURCE_DOES_NOT_EXIST", `Could not find experiment with name '${name}'`, {
      name,
    });
  }
  return { experiment: toMlflowExperiment(experiment) };
}

export function searchMlflowExperiments(
  ctx: Context,
  req: Request,
): { experiments: unknown[]; next_page_token?: string } {
  const view = optionalString(req, "view_type") ?? "ACTIVE_ONLY";
  const conditions = parseFilter(optionalString(req, "filter"));
  const orders = list(req, "order_by").map((o) => parseOrderBy(String(o)));
  const max = maxResults(req, DEFAULT_MAX_RESULTS, MAX_RESULTS_LIMIT);
  const token = optionalString(req, "page_token");
  const offset = token ? Number(Buffer.from(token, "base64").toString("utf8")) || 0 : 0;

  let experiments = allExperimentRecords(ctx.db).filter(
    (e) => view === "ALL" || (view === "DELETED_ONLY") === (e.lifecycleStage === "deleted"),
  );
  experiments = experiments.filter((e) => conditions.every((c) => matches(e, c)));
  experiments.sort((a, b) => {
    for (const o of orders) {
      const d = compare(field(a, o), field(b, o));
      if (d !== 0) {
        return o.ascending ? d : -d;
      }
    }
    return compare(b.createdAt, a.createdAt) || compare(Number(a.id), Number(b.id));
  });
  const page = experiments.slice(offset, offset + max);
  const body: { experiments: unknown[]; next_page_token?: string } = {
    experiments: page.map(toMlflowExperiment),
  };
  if (offset + max < experiments.length) {
    body.next_page_token = Buffer.from(String(offset + max)).toString("base64");
  }
  return body;
}

function field(
  e: ExperimentRecord,
  id: { entity: string; key: string },
): string | number | undefined {
  if (id.entity === "tag") {
    return e.tags[id.key];
  }
  switch (id.key) {
    case "name":
      return e.name;
    case "experiment_id":
      return Number(e.id);
    case "creation_time":
      return e.createdAt;
    case "last_update_time":
      return e.lastUpdateTime;
    default:
      throw mlflowError(
        "INVALID_PARAMETER_VALUE",
        `Invalid attribute key '${id.key}' for experiments: use name, creation_time, last_update_time or tags.<key>.`,
      );
  }
}

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === b) {
    return 0;
  }
  if (a === undefined) {
    return 1;
  }
  if (b === undefined) {
    return -1;
  }
  return a < b ? -1 : 1;
}

function likeRegex(pattern: string, flags: string): RegExp {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/%/g, ".*")
    .replace(/_/g, ".");
  return new RegExp(`^${body}$`, flags);
}

function matches(e: ExperimentRecord, c: Condition): boolean {
  const value = field(e, c);
  switch (c.comparator) {
    case "IS NULL":
      return value === undefined;
    case "IS NOT NULL":
      return value !== undefined;
    case "LIKE":
    case "ILIKE":
      return (
        typeof value === "string" &&
        likeRegex(String(c.value), c.comparator === "ILIKE" ? "is" : "s").test(value)
      );
    case "IN":
      return (c.value as string[]).includes(String(value));
    case "NOT IN":
      return value !== undefined && !(c.value as string[]).includes(String(value));
  }
  if (value === undefined) {
    return false;
  }
  const d = compare(value, c.value as string | number);
  return { "=": d === 0, "!=": d !== 0, ">": d > 0, ">=": d >= 0, "<": d < 0, "<=": d <= 0 }[
    c.comparator
  ];
}
