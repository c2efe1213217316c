/**
 * schemas/lathe.schema.json put to work: the fields valid at a key path (completion and hover
 * read their `description`s) and a small validator over the YAML AST that reports schema errors
 * on the exact node. It supports the keywords the schema uses: $ref, type, properties,
 * additionalProperties, required, items, anyOf, minItems, minLength, pattern,
 * propertyNames.pattern. A stage's values may also be a whole `${…}` (the `template` definition);
 * messages leave that choice out, as it is open everywhere in a stage.
 */
import { isAlias, isMap, isScalar, isSeq, type Node } from "yaml";
import rawSchema from "../../../schemas/lathe.schema.json";
import { keyText, spanOf, type Span } from "./yamlNodes";

export interface Schema {
  $ref?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  minItems?: number;
  minLength?: number;
  pattern?: string;
  minProperties?: number;
  maxProperties?: number;
  propertyNames?: { pattern?: string };
  definitions?: Record<string, Schema>;
}

export const pipelineSchema = rawSchema as Schema;

export function resolve(schema: Schema): Schema {
  let current = schema;
  for (let i = 0; current.$ref && i < 10; i++) {
    const name = current.$ref.replace("#/definitions/", "");
    current = pipelineSchema.definitions?.[name] ?? {};
  }
  return current;
}

/** The schemas that apply under `key` of a value described by `schemas`. */
function children(schemas: Schema[], key: string): Schema[] {
  const out: Schema[] = [];
  for (const s of schemas.map(resolve)) {
    if (s.anyOf) {
      out.push(...children(s.anyOf, key));
    } else if (s.items) {
      out.push(...children([s.items], key));
    } else if (s.properties?.[key]) {
      out.push(s.properties[key]);
    } else if (typeof s.additionalProperties === "object") {
      out.push(s.additionalProperties);
    }
  }
  return out;
}

/** The schemas of the value at a key path (`["stages", "train", "outs", "model.pkl"]`). */
export function schemasAt(path: string[]): Schema[] {
  let schemas = [pipelineSchema];
  for (const key of path) {
    schemas = children(schemas, key);
  }
  return schemas;
}

/** Field name → description of the mapping keys valid at a key path. */
export function fieldsAt(path: string[]): Map<string, string> {
  const fields = new Map<string, string>();
  const collect = (schema: Schema) => {
    const s = resolve(schema);
    if (s.anyOf) {
      s.anyOf.forEach(collect);
    } else if (s.items) {
      collect(s.items);
    }
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      if (!fields.has(name)) {
        fields.set(name, describe(prop));
      }
    }
  };
  schemasAt(path).forEach(collect);
  return fields;
}

/** The types a value may have, a `${…}` template left out (`["boolean"]` for `frozen`). */
export function valueTypes(schema: Schema): string[] {
  const s = resolve(schema);
  if (s.anyOf) {
    return [...new Set(s.anyOf.filter((b) => !isTemplate(b)).flatMap(valueTypes))];
  }
  return Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
}

function isTemplate(schema: Schema): boolean {
  return resolve(schema).pattern !== undefined;
}

/** A schema's description, following $ref and anyOf. */
export function describe(schema: Schema): string {
  const s = resolve(schema);
  return s.description ?? s.anyOf?.map(describe).find((d) => d) ?? schema.description ?? "";
}

export interface SchemaProblem {
  span: Span;
  message: string;
}

type Kind = "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";

/** Validates a whole document (or the part of it around the stages section). */
export function validateRoot(root: Node | null): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (root !== null) {
    check(root, pipelineSchema, "the file", { start: 0, end: 0 }, problems);
  }
  return problems;
}

/** Validates a mapping of stage names to stages (a chunk of the `stages:` section). */
export function validateStages(node: Node | null): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const stages = pipelineSchema.properties?.stages;
  if (isMap(node) && stages) {
    checkMap(node, resolve(stages), "'stages'", { start: 0, end: 0 }, problems);
  }
  return problems;
}

function check(
  node: Node | null,
  schema: Schema,
  label: string,
  anchor: Span,
  out: SchemaProblem[],
) {
  const s = resolve(schema);
  if (isAlias(node)) {
    return;
  }
  const kind = kindOf(node);
  const span = node ? spanOf(node) : anchor;
  if (s.anyOf) {
    const branches = s.anyOf.filter((b) => accepts(resolve(b), kind) && matches(resolve(b), node));
    if (branches.length === 0) {
      out.push({ span, message: `${label} must be ${typeWords(s.anyOf)}` });
      return;
    }
    let best: SchemaProblem[] | undefined;
    for (const branch of branches) {
      const found: SchemaProblem[] = [];
      check(node, branch, label, anchor, found);
      if (!best || found.length < best.length) {
        best = found;
      }
      if (found.length === 0) {
        break;
      }
    }
    out.push(...best!);
    return;
  }
  if (!accepts(s, kind) || !matches(s, node)) {
    out.push({ span, message: `${label} must be ${typeWords([s])}` });
    return;
  }
  if (isMap(node)) {
    checkMap(node, s, label, anchor, out);
  } else if (isSeq(node) && s.items) {
    if (s.minItems && node.items.length < s.minItems) {
      out.push({ span, message: `${label} must not be empty` });
    }
    node.items.forEach((item) =>
      check(item as Node, s.items!, `each entry of ${label}`, span, out),
    );
  } else if (isScalar(node) && typeof node.value === "string" && s.minLength) {
    if (node.value.trim().length < s.minLength) {
      out.push({ span, message: `${label} is empty` });
    }
  }
}

function checkMap(node: Node, s: Schema, label: string, anchor: Span, out: SchemaProblem[]) {
  if (!isMap(node)) {
    return;
  }
  const seen = new Set<string>();
  const pattern = s.propertyNames?.pattern ? new RegExp(s.propertyNames.pattern) : undefined;
  const parentIsStages = label === "'stages'";
  for (const pair of node.items) {
    const key = keyText(pair);
    const keySpan = spanOf(pair.key);
    if (key === undefined) {
      out.push({ span: keySpan, message: `keys of ${label} must be strings` });
      continue;
    }
    seen.add(key);
    if (pattern && !pattern.test(key)) {
      out.push({
        span: keySpan,
        message: `stage name '${key}' may hold only letters, digits, '_', '.' and '-'`,
      });
    }
    const childLabel = parentIsStages ? `stage '${key}'` : `'${key}'`;
    const prop = s.properties?.[key];
    if (prop) {
      check(pair.value as Node | null, prop, childLabel, keySpan, out);
    } else if (s.additionalProperties === false) {
      const valid = Object.keys(s.properties ?? {}).join(", ");
      out.push({ span: keySpan, message: `unknown field '${key}' in ${label}; valid: ${valid}` });
    } else if (typeof s.additionalProperties === "object") {
      check(pair.value as Node | null, s.additionalProperties, childLabel, keySpan, out);
    }
  }
  for (const required of s.required ?? []) {
    if (!seen.has(required)) {
      // On the stage's name (the mapping's key); the whole file when the root lacks `stages`.
      const span = anchor.end > anchor.start ? anchor : spanOf(node);
      out.push({ span, message: `${label}: '${required}' is missing` });
    }
  }
}

function kindOf(node: Node | null): Kind {
  if (node === null || isMap(node)) {
    return node === null ? "null" : "object";
  }
  if (isSeq(node)) {
    return "array";
  }
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) {
      return "null";
    }
    if (typeof v === "boolean") {
      return "boolean";
    }
    if (typeof v === "number") {
      return Number.isInteger(v) ? "integer" : "number";
    }
  }
  return "string";
}

function accepts(s: Schema, kind: Kind): boolean {
  if (!s.type) {
    return true;
  }
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes(kind)) {
    return true;
  }
  // A number is a fine path or description; an empty list or mapping is written as nothing.
  if (kind === "integer" || kind === "number") {
    return types.includes("number") || types.includes("string");
  }
  return kind === "null" && (types.includes("array") || types.includes("object"));
}

/** A string `pattern` holds (only strings have one). */
function matches(s: Schema, node: Node | null): boolean {
  if (s.pattern === undefined || !isScalar(node) || typeof node.value !== "string") {
    return true;
  }
  return new RegExp(s.pattern).test(node.value);
}

function typeWords(schemas: Schema[]): string {
  const plain = schemas.filter((schema) => !isTemplate(schema));
  const words = (plain.length > 0 ? plain : schemas).map((schema) => {
    if (isTemplate(schema)) {
      return "a ${…} variable";
    }
    const s = resolve(schema);
    const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ["anything"];
    return types
      .map((t) =>
        t === "array"
          ? `a list${s.items && resolve(s.items).type === "string" ? " of strings" : ""}`
          : t === "object"
            ? "a mapping"
            : t === "boolean"
              ? "true or false"
              : `a ${t}`,
      )
      .join(" or ");
  });
  return [...new Set(words)].join(" or ");
}
