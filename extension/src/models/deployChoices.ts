/**
 * What Deploy can serve of a model (#5), without `vscode`: each alias, which the deployment then
 * follows as it moves (`weather-model@champion`), and the latest version, which it pins. Tested
 * against a real daemon in test/extension/deploy-choices.test.ts.
 */
import type {
  DeployRequest,
  Deployment,
  ModelVersion,
  RegisteredModel,
} from "../../../schemas/api";

/** One quick pick entry and the request it sends. */
export interface DeployChoice {
  label: string;
  description: string;
  request: Pick<DeployRequest, "model" | "version">;
}

/** Deploy on a model's row: its aliases (by name), then its latest version; none without versions. */
export function modelDeployChoices(model: RegisteredModel): DeployChoice[] {
  if (model.versions.length === 0) {
    return [];
  }
  const latest = Math.max(...model.versions.map((v) => v.version));
  return [
    ...aliasChoices(model),
    {
      label: `Latest version (v${latest})`,
      description: "pinned: stays on this version when new ones are registered",
      request: { model: model.name, version: latest },
    },
  ];
}

/** `weather-model@champion → v3` for each alias of `model`, by alias name. */
export function aliasChoices(model: RegisteredModel): DeployChoice[] {
  return Object.entries(model.aliases)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([alias, version]) => ({
      label: `${model.name}@${alias} → v${version}`,
      description: `follows @${alias} when it moves or is rolled back`,
      request: { model: `${model.name}@${alias}` },
    }));
}

/** What a deploy request names, for progress and log lines: `weather-model@champion`, `… v3`. */
export function requestLabel(request: Pick<DeployRequest, "model" | "version">): string {
  return request.version === undefined ? request.model : `${request.model} v${request.version}`;
}

/** A deployment as the user asked for it: `weather-model@champion (v3)` or `weather-model v3`. */
export function deploymentLabel(deployment: Deployment): string {
  const at = deployment.target.lastIndexOf("@");
  const alias = at > 0 ? deployment.target.slice(at + 1) : "";
  return alias && !/^\d+$/.test(alias)
    ? `${deployment.target} (v${deployment.version})`
    : `${deployment.model} v${deployment.version}`;
}

/** For a version's tooltip: Deploy on it pins it, even when aliases point at it. */
export function versionDeployNote(version: ModelVersion): string | undefined {
  if (version.aliases.length === 0) {
    return undefined;
  }
  const aliases = version.aliases.map((a) => `@${a}`).join(", ");
  return `Deploy here pins v${version.version}. To follow ${aliases} as it moves, use Deploy on the ${version.model} row.`;
}
