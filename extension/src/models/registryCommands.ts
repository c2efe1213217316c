/**
 * The Models view's registry actions (#5): Promote (an alias or a stage), Rollback, Compare
 * Versions, Open Run and Open Model Card. Every move goes to the daemon, which records it in the
 * audit log and tells deployments of `model@alias` through `models/changed`.
 */
import * as vscode from "vscode";
import type { ModelVersion, RegisteredModel } from "../../../schemas/api";
import { ALIAS_PATTERN, MODEL_STAGES, type RegistryAuditEntry } from "../../../schemas/registry";
import type { DaemonConnection } from "../daemon/connection";
import { guarded } from "../vscode/errors";
import { log } from "../vscode/log";
import { readSettings } from "../vscode/settings";
import type { ModelsNode, ModelsTreeProvider } from "./modelsTree";
import {
  cardUri,
  compareUri,
  REGISTRY_DOC_SCHEME,
  RegistryDocProvider,
  showMarkdown,
} from "./registryDocs";

const ACTOR = "editor";
const aliasPattern = new RegExp(ALIAS_PATTERN);

export function registerRegistryCommands(
  context: vscode.ExtensionContext,
  daemon: DaemonConnection,
  models: ModelsTreeProvider,
): void {
  const docs = new RegistryDocProvider(daemon);
  const command = (id: string, what: string, body: (node?: ModelsNode) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, guarded(what, body));
  context.subscriptions.push(
    docs,
    vscode.workspace.registerTextDocumentContentProvider(REGISTRY_DOC_SCHEME, docs),
    command("lathe.promoteVersion", "Promoting the version failed", async (node) => {
      const version = await versionOf(daemon, node);
      if (version && (await promote(daemon, version))) {
        models.refresh();
      }
    }),
    command("lathe.rollbackAlias", "Rolling back failed", async (node) => {
      if (await rollback(daemon, node)) {
        models.refresh();
      }
    }),
    command("lathe.compareVersions", "Comparing versions failed", (node) => compare(daemon, node)),
    command("lathe.openModelCard", "Opening the model card failed", async (node) => {
      const version = await versionOf(daemon, node);
      if (version) {
        await showMarkdown(cardUri(version.model, version.version));
      }
    }),
    command("lathe.openVersionRun", "Opening the run failed", async (node) => {
      const version = await versionOf(daemon, node);
      if (version) {
        // The run selected in the Runs view (its params and metrics open under it), and its log.
        await vscode.commands.executeCommand("lathe.revealRun", version.runId);
        await vscode.commands.executeCommand("lathe.openRunLog", version.runId);
      }
    }),
  );
}

/** Returns true when something moved. */
async function promote(daemon: DaemonConnection, version: ModelVersion): Promise<boolean> {
  const model = await daemon.call<RegisteredModel>("GET", modelPath(version.model));
  type Pick = vscode.QuickPickItem & { alias?: string; stage?: boolean };
  const names = [...new Set([...readSettings().modelAliases, ...Object.keys(model.aliases)])];
  const items: Pick[] = [
    ...names.map((alias) => {
      const at = model.aliases[alias];
      const description =
        at === undefined ? "new alias" : at === version.version ? "already here" : `now v${at}`;
      return { label: `$(tag) ${alias}`, description, alias };
    }),
    { label: "", kind: vscode.QuickPickItemKind.Separator },
    { label: "$(layers) Set Stage…", description: `now ${version.stage}`, stage: true },
  ];
  const quick = vscode.window.createQuickPick<Pick>();
  quick.title = `Promote ${version.model} v${version.version}`;
  quick.placeholder = "Pick an alias, or type a new one";
  quick.items = items;
  const picked = await new Promise<Pick | string | undefined>((resolve) => {
    quick.onDidAccept(() => {
      const chosen = quick.selectedItems[0];
      const typed = quick.value.trim();
      resolve(chosen && (!typed || chosen.alias === typed) ? chosen : typed || undefined);
      quick.hide();
    });
    quick.onDidHide(() => resolve(undefined));
    quick.show();
  });
  quick.dispose();
  if (picked === undefined) {
    return false;
  }
  if (typeof picked !== "string" && picked.stage) {
    return setStage(daemon, version);
  }
  const alias = typeof picked === "string" ? picked : picked.alias!;
  if (!aliasPattern.test(alias) || alias === "latest" || /^v\d+$/.test(alias)) {
    void vscode.window.showErrorMessage(
      `'${alias}' is not a valid alias: use a letter, then letters, digits, '_' or '-' ('latest' and v<number> are reserved).`,
    );
    return false;
  }
  const reason = await askReason(`Why point @${alias} at v${version.version}?`);
  if (reason === undefined) {
    return false;
  }
  const moved = await daemon.call<ModelVersion>(
    "PUT",
    `${modelPath(version.model)}/aliases/${encodeURIComponent(alias)}`,
    { version: version.version, reason, actor: ACTOR },
  );
  log.info(`${moved.model}@${alias} → v${moved.version}${reason ? ` (${reason})` : ""}`);
  void vscode.window.showInformationMessage(`${moved.model}@${alias} → v${moved.version}`);
  return true;
}

async function setStage(daemon: DaemonConnection, version: ModelVersion): Promise<boolean> {
  const stage = await vscode.window.showQuickPick(
    MODEL_STAGES.map((s) => ({ label: s, description: s === version.stage ? "current" : "" })),
    { title: `Stage of ${version.model} v${version.version}` },
  );
  if (!stage) {
    return false;
  }
  const reason = await askReason(`Why move v${version.version} to ${stage.label}?`);
  if (reason === undefined) {
    return false;
  }
  const moved = await daemon.call<ModelVersion>(
    "PUT",
    `${modelPath(version.model)}/versions/${version.version}/stage`,
    { stage: stage.label, reason, actor: ACTOR },
  );
  void vscode.window.showInformationMessage(
    `${moved.model} v${moved.version} is in stage ${moved.stage}`,
  );
  return true;
}

/** Rollback of an alias of the node's model (the version's aliases first). */
async function rollback(daemon: DaemonConnection, node?: ModelsNode): Promise<boolean> {
  const name = node?.kind === "model" ? node.model.name : node?.version.model;
  const model = name
    ? await daemon.call<RegisteredModel>("GET", modelPath(name))
    : await pickModel(daemon);
  if (!model) {
    return false;
  }
  const history = await daemon.call<RegistryAuditEntry[]>(
    "GET",
    `${modelPath(model.name)}/history`,
  );
  const preferred = node?.kind === "version" ? node.version.aliases : [];
  const aliases = Object.keys(model.aliases).sort(
    (a, b) => Number(preferred.includes(b)) - Number(preferred.includes(a)),
  );
  const candidates = aliases.flatMap((alias) => {
    const last = history.find((e) => e.kind === "alias" && e.name === alias);
    const back = last?.from === null || !last ? undefined : Number(last.from);
    const now = model.aliases[alias]!;
    return back === undefined || back === now ? [] : [{ alias, now, back }];
  });
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(
      `No alias of ${model.name} has an earlier version to roll back to. Promote a version first.`,
    );
    return false;
  }
  const chosen =
    candidates.length === 1 && preferred.includes(candidates[0]!.alias)
      ? candidates[0]!
      : (
          await vscode.window.showQuickPick(
            candidates.map((c) => ({
              label: `@${c.alias}`,
              description: `v${c.now} → v${c.back}`,
              c,
            })),
            { title: `Roll back an alias of ${model.name}` },
          )
        )?.c;
  if (!chosen) {
    return false;
  }
  const moved = await daemon.call<ModelVersion>(
    "POST",
    `${modelPath(model.name)}/aliases/${encodeURIComponent(chosen.alias)}/rollback`,
    { actor: ACTOR },
  );
  log.info(`Rolled back ${model.name}@${chosen.alias}: v${chosen.now} → v${moved.version}`);
  void vscode.window
    .showInformationMessage(
      `${model.name}@${chosen.alias} rolled back to v${moved.version}`,
      `Undo (back to v${chosen.now})`,
    )
    .then(async (undo) => {
      if (undo) {
        await daemon.call(
          "POST",
          `${modelPath(model.name)}/aliases/${encodeURIComponent(chosen.alias)}/rollback`,
          {
            actor: ACTOR,
            reason: "undo of a rollback",
          },
        );
      }
    });
  return true;
}

async function compare(daemon: DaemonConnection, node?: ModelsNode): Promise<void> {
  const first = await versionOf(daemon, node);
  if (!first) {
    return;
  }
  const model = await daemon.call<RegisteredModel>("GET", modelPath(first.model));
  const others = model.versions.filter((v) => v.version !== first.version).reverse();
  if (others.length === 0) {
    void vscode.window.showInformationMessage(`${first.model} has only one version.`);
    return;
  }
  const headline = readSettings().headlineMetric;
  const second = await vscode.window.showQuickPick(
    others.map((v) => ({
      label: `v${v.version}`,
      description: [
        ...v.aliases.map((a) => `@${a}`),
        headline in v.metrics ? `${headline} ${String(v.metrics[headline])}` : "",
      ]
        .filter(Boolean)
        .join(" · "),
      v,
    })),
    { title: `Compare ${first.model} v${first.version} with…` },
  );
  if (second) {
    const [a, b] = [first.version, second.v.version].sort((x, y) => x - y);
    await showMarkdown(compareUri(first.model, a!, b!));
  }
}

/** The node's version; from the palette, a pick of model then version. */
async function versionOf(
  daemon: DaemonConnection,
  node?: ModelsNode,
): Promise<ModelVersion | undefined> {
  if (node?.kind === "version") {
    return node.version;
  }
  const model = node?.kind === "model" ? node.model : await pickModel(daemon);
  if (!model) {
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    [...model.versions].reverse().map((v) => ({
      label: `v${v.version}`,
      description: v.aliases.map((a) => `@${a}`).join(" "),
      v,
    })),
    { title: `A version of ${model.name}` },
  );
  return picked?.v;
}

async function pickModel(daemon: DaemonConnection): Promise<RegisteredModel | undefined> {
  const all = await daemon.call<RegisteredModel[]>("GET", "/api/v1/models");
  if (all.length === 0) {
    void vscode.window.showInformationMessage(
      "No models registered yet: register one from a run in the Runs view.",
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    all.map((m) => ({ label: m.name, description: `${m.versions.length} versions`, m })),
    { title: "Model" },
  );
  return picked?.m;
}

/** The reason for the audit log; "" when left empty, undefined when cancelled. */
function askReason(title: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title,
    prompt: "Why, for the model's audit log (optional; Enter to skip)",
    placeHolder: "e.g. better f1 on the 2015 test year",
  });
}

function modelPath(model: string): string {
  return `/api/v1/models/${encodeURIComponent(model)}`;
}
