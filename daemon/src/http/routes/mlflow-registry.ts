/**
 * The MLflow model registry REST calls its client uses (`/api/2.0/mlflow/registered-models/…`
 * and `/model-versions/…`), beside the tracking routes in mlflow.ts, whose error formatter
 * (`{error_code, message}`) covers them too. docs/tracking.md lists them.
 */
import type { Context } from "../../context";
import {
  createModelVersion,
  createRegisteredModel,
  deleteModelAlias,
  deleteModelVersion,
  deleteModelVersionTag,
  deleteRegisteredModel,
  deleteRegisteredModelTag,
  getDownloadUri,
  getLatestVersions,
  getModelVersion,
  getModelVersionByAlias,
  getRegisteredModel,
  searchModelVersions,
  searchRegisteredModels,
  setModelAlias,
  setModelVersionTag,
  renameRegisteredModel,
  setRegisteredModelTag,
  transitionStage,
  updateModelVersion,
  updateRegisteredModel,
} from "../../tracking/mlflow/registry";
import { fromBody, fromQuery, type Request } from "../../tracking/mlflow/request";
import type { Router } from "../router";

const API = "/api/2.0/mlflow";

type Endpoint = (ctx: Context, req: Request) => unknown;

export function registerMlflowRegistryRoutes(router: Router, ctx: Context): void {
  /** MLflow's client sends GET parameters in the query, the others in a JSON body. */
  const on = (method: string, path: string, endpoint: Endpoint) =>
    router.add(method, `${API}/${path}`, ({ body, query }) =>
      endpoint(ctx, { ...fromQuery(query), ...fromBody(body) }),
    );

  on("POST", "registered-models/create", createRegisteredModel);
  on("GET", "registered-models/get", getRegisteredModel);
  on("GET", "registered-models/search", searchRegisteredModels);
  on("POST", "registered-models/search", searchRegisteredModels);
  on("DELETE", "registered-models/delete", deleteRegisteredModel);
  on("PATCH", "registered-models/update", updateRegisteredModel);
  on("POST", "registered-models/rename", renameRegisteredModel);
  on("POST", "registered-models/set-tag", setRegisteredModelTag);
  on("DELETE", "registered-models/delete-tag", deleteRegisteredModelTag);
  on("POST", "registered-models/get-latest-versions", getLatestVersions);
  on("GET", "registered-models/get-latest-versions", getLatestVersions);
  on("POST", "registered-models/alias", setModelAlias);
  on("GET", "registered-models/alias", getModelVersionByAlias);
  on("DELETE", "registered-models/alias", deleteModelAlias);

  on("POST", "model-versions/create", createModelVersion);
  on("GET", "model-versions/get", getModelVersion);
  on("GET", "model-versions/search", searchModelVersions);
  on("POST", "model-versions/search", searchModelVersions);
  on("POST", "model-versions/transition-stage", transitionStage);
  on("PATCH", "model-versions/update", updateModelVersion);
  on("POST", "model-versions/set-tag", setModelVersionTag);
  on("DELETE", "model-versions/delete-tag", deleteModelVersionTag);
  on("DELETE", "model-versions/delete", deleteModelVersion);
  on("GET", "model-versions/get-download-uri", getDownloadUri);
}
