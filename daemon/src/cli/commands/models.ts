/**
 * `lathe models register|list|show`, run in process; `lathe deploy`, `undeploy` and `predict`,
 * which go through the workspace daemon because deployments must outlive the CLI.
 */
import type { Command } from "commander";
import type {
  Deployment,
  ModelVersion,
  RegisteredModel,
  RegisterRequest,
} from "../../../../schemas/api";
import { findDaemon, type DaemonHandle } from "../../client";
import { closeContext, openContext } from "../../context";
import { LatheError } from "../../errors";
import { firstOverflowingNumber, nonFiniteField } from "../../json-numbers";
import { getVersion, listModels } from "../../registry/models";
import { register } from "../../registry/register";
import { resolveTarget } from "../../registry/target";
import { postJson } from "../../serving/client";
import { action, print, workspaceFor } from "../output";
import { registerDeployCommand, registerDeploymentsCommand } from "./deploy";
import { registerRegistryCommands } from "./registry";
import { descriptionOption, readOptionFile, tagOption } from "../parse";

export function registerModelCommands(program: Command): void {
  const models = program.command("models").description("register and list models");
  registerRegistryCommands(models); // card, promote, rollback, unalias, history, annotate

  models
    .command("register <name>")
    .description("register a run's ONNX output as the next version of a model")
    .requiredOption("--from <runId>", "the run whose output to register")
    .option("--path <path>", "the run output to register (default: its only .onnx output)")
    .option("--description <text>", "the version's description", descriptionOption)
    .option("--tag <key=value>", "a tag of the version (repeatable)", tagOption)
    .action(
      action(async (name: string, opts: RegisterOptions, cmd: Command) => {
        // Through a running daemon, so that the editor and deployments hear of it (#5).
        const daemon = await findDaemon(workspaceFor(cmd).root);
        const request: RegisterRequest = {
          runId: opts.from,
          ...(opts.path ? { path: opts.path } : {}),
          ...(opts.description !== undefined ? { description: opts.description } : {}),
          ...(opts.tag ? { tags: opts.tag } : {}),
        };
        const version = daemon
          ? await daemon.call<ModelVersion>(
              "POST",
              `/api/v1/models/${encodeURIComponent(name)}/versions`,
              request,
            )
          : inProcess(cmd, (ctx) => register(ctx, { model: name, ...request }));
        print(
          cmd,
          version,
          () =>
            `Registered ${name} version ${version.version} from run ${version.runId} (${version.path})${version.runId.startsWith(opts.from) ? "" : `, the model run ${opts.from} read, with its metrics`}; ${describeSignature(version)}`,
        );
      }),
    );

  models
    .command("list")
    .description("list registered models and their versions")
    .action(
      action((_opts: unknown, cmd: Command) => {
        const all = inProcess(cmd, (ctx) => listModels(ctx));
        print(cmd, all, () =>
          all.length ? all.map(describeModel).join("\n") : "No models registered.",
        );
      }),
    );

  models
    .command("show <model>")
    .description(
      "show a model version (<name>, <name>@<version> or <name>@<alias>): lineage, signature, metrics",
    )
    .action(
      action((spec: string, _opts: unknown, cmd: Command) => {
        const found = inProcess(cmd, (ctx) => {
          const target = resolveTarget(ctx, spec);
          return getVersion(ctx, target.model, target.version);
        });
        print(cmd, found, () => versionText(found));
      }),
    );

  registerDeployCommand(program);
  registerDeploymentsCommand(program);

  program
    .command("undeploy <model>")
    .description("stop a model's deployment")
    .action(
      action(async (name: string, _opts: unknown, cmd: Command) => {
        const daemon = await findDaemon(workspaceFor(cmd).root);
        if (!daemon) {
          // Deployments live only as long as the daemon that serves them.
          throw new LatheError(
            "LATHE_NOT_FOUND",
            `${name} is not deployed (nothing is deployed: no Lathe daemon runs for this workspace).`,
            { name, deployed: [] },
          );
        }
        const deployment = await daemon.call<Deployment>(
          "DELETE",
          `/api/v1/deployments/${encodeURIComponent(name)}`,
        );
        print(cmd, deployment, () => `Stopped the deployment of ${name}.`);
      }),
    );

  program
    .command("predict <model>")
    .description("send JSON records to a deployed model and print its predictions")
    .option("--records <json>", "records as JSON: an array of objects keyed by feature name")
    .option("--file <path>", "a JSON file with the records")
    .action(
      action(async (name: string, opts: { records?: string; file?: string }, cmd: Command) => {
        const records = readRecords(opts);
        const daemon = await daemonOrNotFound(cmd, name);
        const deployment = await daemon.call<Deployment>(
          "GET",
          `/api/v1/deployments/${encodeURIComponent(name)}`,
        );
        if (deployment.state !== "ready" || !deployment.url) {
          throw new LatheError(
            "LATHE_UNAVAILABLE",
            `The deployment of ${name} is ${deployment.state}${deployment.error ? `: ${deployment.error}` : ""}.`,
            { name },
          );
        }
        const answer = await postJson<{ predictions: Record<string, unknown>[] }>(
          `${deployment.url}/predict`,
          daemon.info.token,
          { records },
        );
        print(cmd, answer, () => answer.predictions.map(describePrediction).join("\n"));
      }),
    );
}

interface RegisterOptions {
  from: string;
  path?: string;
  description?: string;
  tag?: Record<string, string>;
}

/** `weather-model` or `weather-model@3`. */
export function parseSpec(spec: string): { model: string; version?: number } {
  const at = spec.lastIndexOf("@");
  if (at <= 0) {
    return { model: spec };
  }
  const version = Number(spec.slice(at + 1));
  if (!Number.isInteger(version) || version < 1) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `'${spec}' names no version: use <model> or <model>@<version>, e.g. weather-model@2.`,
      { spec },
    );
  }
  return { model: spec.slice(0, at), version };
}

function inProcess<T>(cmd: Command, fn: (ctx: ReturnType<typeof openContext>) => T): T {
  const ctx = openContext(workspaceFor(cmd).root, { quiet: true });
  try {
    return fn(ctx);
  } finally {
    closeContext(ctx);
  }
}

async function daemonOrNotFound(cmd: Command, name: string): Promise<DaemonHandle> {
  const daemon = await findDaemon(workspaceFor(cmd).root);
  if (!daemon) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `No deployment named '${name}': no Lathe daemon runs for this workspace, so nothing is deployed; deploy a model with 'lathe deploy <model>'.`,
      { name },
    );
  }
  return daemon;
}

function readRecords(opts: { records?: string; file?: string }): unknown {
  if ((opts.records === undefined) === (opts.file === undefined)) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      "Give the records with exactly one of --records '<json>' or --file <rows.json>.",
    );
  }
  const [text, source] =
    opts.records !== undefined
      ? [opts.records, "--records"]
      : [readOptionFile("--file", opts.file!), opts.file!];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new LatheError("LATHE_BAD_INPUT", `${source} is not JSON: ${(err as Error).message}`);
  }
  const isWrapped =
    typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && "records" in parsed;
  const records = isWrapped
    ? (parsed as { records: unknown }).records
    : Array.isArray(parsed)
      ? parsed
      : [parsed];
  checkFinite(records, text, source);
  return records;
}

/**
 * JSON.parse turns a number beyond float64's range (1e400) into ±Infinity, which JSON.stringify
 * would then send as null: refuse it here, naming the record, the field and the number as typed.
 */
function checkFinite(records: unknown, text: string, source: string): void {
  if (!Array.isArray(records)) {
    return; // The server names what it expected.
  }
  for (const [index, record] of records.entries()) {
    const field = nonFiniteField(record, "");
    if (field !== undefined) {
      const typed = firstOverflowingNumber(text);
      const value = typed ?? String(field.value);
      throw new LatheError(
        "LATHE_BAD_INPUT",
        `${source}: record ${index}, field '${field.path}': ${value} is not a finite number (beyond ±1.8e308, JSON reads it as ${String(field.value)}); send a number in the float64 range.`,
        { record: index, field: field.path, value },
      );
    }
  }
}

function describePrediction(prediction: Record<string, unknown>, index: number): string {
  const { label, probabilities, ...rest } = prediction;
  const parts = [`${index}:`];
  if (label !== undefined) {
    parts.push(typeof label === "string" ? label : JSON.stringify(label));
  }
  if (probabilities && typeof probabilities === "object") {
    const shown = Object.entries(probabilities as Record<string, number | null>)
      .map(([k, p]) => `${k} ${typeof p === "number" ? p.toFixed(3) : "NaN"}`)
      .join(", ");
    parts.push(`(${shown})`);
  }
  if (Object.keys(rest).length) {
    parts.push(JSON.stringify(rest));
  }
  return parts.join(" ");
}

function describeSignature(version: ModelVersion): string {
  const tensors = (list: ModelVersion["signature"]["inputs"]) =>
    list.map((t) => `${t.name} ${t.datatype}[${t.shape.join(",")}]`).join(", ");
  const features = version.signature.features
    ? `; features ${version.signature.features.join(", ")}`
    : "";
  return `inputs ${tensors(version.signature.inputs)}; outputs ${tensors(version.signature.outputs)}${features}`;
}

/** `lathe models show` without --json: the version's lineage, interface and numbers. */
function versionText(v: ModelVersion): string {
  const tensor = (t: ModelVersion["signature"]["inputs"][number]) =>
    `${t.name} ${t.datatype} [${t.shape.join(",")}]`;
  const pairs = (o: Record<string, string | number | null>) =>
    Object.entries(o)
      .map(([k, value]) => `${k}=${value === null ? "NaN" : String(value)}`)
      .join("  ") || "none";
  const badges = [...v.aliases.map((a) => `@${a}`), ...(v.stage === "None" ? [] : [v.stage])];
  return [
    `${v.model} v${v.version}${badges.length ? `  [${badges.join(", ")}]` : ""}`,
    v.description ? `  ${v.description}` : "",
    `  from run ${v.runId}${v.gitCommit ? ` at commit ${v.gitCommit.slice(0, 12)}` : ""}, ${v.path} (${v.oid.slice(0, 12)})`,
    `  inputs:  ${v.signature.inputs.map(tensor).join("; ")}`,
    v.signature.features ? `  features: ${v.signature.features.join(", ")}` : "",
    `  outputs: ${v.signature.outputs.map(tensor).join("; ")}`,
    v.signature.labels ? `  labels: ${v.signature.labels.join(", ")}` : "",
    `  metrics: ${pairs(v.metrics)}`,
    `  params:  ${pairs(v.params)}`,
    Object.keys(v.tags).length ? `  tags:    ${pairs(v.tags)}` : "",
    v.dataIds.length
      ? `  data:    ${v.dataIds.map((d) => `${d.path} ${d.oid.slice(0, 12)}`).join("; ")}`
      : "",
    v.gate ? `  gate:    ${v.gate.passed ? "passed" : "FAILED"}` : "",
  ]
    .filter(Boolean)
    .join("\n");
}

function describeModel(model: RegisteredModel): string {
  const lines = model.versions.map((v) => {
    const metrics = Object.entries(v.metrics)
      .map(([k, value]) => `${k}=${value === null ? "NaN" : Number(value.toPrecision(4))}`)
      .join(" ");
    const badges = [
      ...v.aliases.map((alias) => `@${alias}`),
      ...(v.stage === "None" ? [] : [v.stage]),
      ...(v.gate ? [v.gate.passed ? "gate passed" : "gate FAILED"] : []),
    ];
    const marks = badges.length ? `  [${badges.join(", ")}]` : "";
    return `  v${v.version}  run ${v.runId.slice(0, 8)}  ${new Date(v.createdAt).toISOString()}  ${metrics}${marks}`;
  });
  return [model.name, ...lines].join("\n");
}
