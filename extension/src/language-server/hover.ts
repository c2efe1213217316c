/** Hover: a field's documentation, a param's value and file, a path's size and producer. */
import { MarkupKind, type Hover, type Position } from "vscode-languageserver";
import type { PathRef, StageInfo } from "./analysis";
import { rangeOf, type DocContext } from "./context";
import { targetAt } from "./lookup";
import { fieldsAt } from "./schema";
import { depFacts } from "./depState";
import { resolveVar, valuesText, varsAt } from "./vars";
import { valueText } from "./workspaceFiles";

export function hover(ctx: DocContext, position: Position): Hover | null {
  const target = targetAt(ctx, ctx.document.offsetAt(position));
  if (!target) {
    return null;
  }
  const markdown = (value: string, span: { start: number; end: number }): Hover => ({
    contents: { kind: MarkupKind.Markdown, value },
    range: rangeOf(ctx.document, span),
  });
  switch (target.kind) {
    case "param": {
      const { ref } = target;
      const key = ctx.files?.paramsFile(ref.file)?.keys.get(ref.key);
      return markdown(
        key
          ? `**${ref.key}** = \`${key.display}\`\n\n${ref.file}, line ${key.line + 1}`
          : `**${ref.key}**: not in ${ref.file}`,
        ref.span,
      );
    }
    case "path":
      return markdown(pathText(ctx, target.ref), target.ref.span);
    case "var":
      return markdown(varText(ctx, target.ref.name, target.ref.span.start), target.ref.span);
    case "stage":
      return markdown(stageText(ctx, target.stage), target.stage.keySpan);
    case "stageRef":
      return markdown(
        target.stage
          ? stageText(ctx, target.stage)
          : `**${target.ref.name}**: no stage of this name`,
        target.ref.span,
      );
    case "key": {
      const path = target.path[2] === "do" ? [...target.path.slice(0, 2), "do"] : target.path;
      const doc = fieldsAt(path).get(target.name);
      return doc ? markdown(`**${target.name}**\n\n${doc}`, target) : null;
    }
  }
}

function pathText(ctx: DocContext, ref: PathRef): string {
  const lines = [`**${ref.path}**`];
  if (ref.wsPath === undefined) {
    return `${lines[0]}: templated or outside the workspace`;
  }
  const stat = ctx.files?.stat(ref.wsPath);
  if (stat?.isDirectory()) {
    lines.push(`folder, ${ctx.files!.list(ref.wsPath).length} entries`);
  } else if (stat) {
    lines.push(size(stat.size));
  } else {
    lines.push("not on disk yet");
  }
  if (ref.field === "deps") {
    const producers = ctx.index.producers(ref.wsPath).map((o) => `'${o.stage.name}'`);
    lines.push(
      producers.length
        ? `produced by stage ${[...new Set(producers)].join(", ")}`
        : "a source file (no stage produces it)",
    );
    if (ctx.files) {
      lines.push(...depFacts(ctx.files.root, ref.stage.name, ref.wsPath));
    }
  } else {
    const users = ctx.model.stages.filter((s) =>
      s.deps.some((d) => d.wsPath !== undefined && ctx.index.producers(d.wsPath).includes(ref)),
    );
    lines.push(`${ref.field} of stage '${ref.stage.name}'`);
    if (users.length) {
      lines.push(`read by ${users.map((s) => `'${s.name}'`).join(", ")}`);
    }
  }
  return lines.join("\n\n");
}

/** A `${…}`'s value (each repetition's, for a loop variable) and where it is defined. */
function varText(ctx: DocContext, name: string, offset: number): string {
  const defs = varsAt(ctx, offset);
  const found = resolveVar(defs, name);
  if (!found) {
    const where = defs.some((d) => d.stage)
      ? "params.yaml, vars or the stage's loop"
      : "params.yaml or vars";
    return `**${name}**: not defined in ${where}`;
  }
  const { def, values } = found;
  const line = (offsetIn: number) => ctx.document.positionAt(offsetIn).line + 1;
  const exact = def.name === name;
  switch (def.origin) {
    case "params.yaml":
    case "vars file":
      return `**${name}** = \`${exact ? def.display : valueText(values[0])}\`\n\n${def.file}, line ${def.key!.line + 1}`;
    case "vars":
      return `**${name}** = \`${valueText(values[0])}\`\n\n\`vars\`, line ${line(def.spans[0]!.start)}`;
    case "foreach":
    case "matrix":
      return `**${name}** = one of \`${valuesText(values)}\`\n\n${def.origin} of stage '${def.stage!.name}', line ${line(def.spans[0]!.start)}`;
  }
}

function stageText(ctx: DocContext, stage: StageInfo): string {
  const upstream = new Set<string>();
  for (const dep of stage.deps) {
    for (const out of dep.wsPath === undefined ? [] : ctx.index.producers(dep.wsPath)) {
      upstream.add(out.stage.name);
    }
  }
  return [
    `**stage ${stage.name}**`,
    `${stage.deps.length} deps, ${stage.params.length} params, ${stage.outputs.length} outputs`,
    upstream.size ? `runs after ${[...upstream].map((n) => `'${n}'`).join(", ")}` : "runs first",
  ].join("\n\n");
}

function size(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}
