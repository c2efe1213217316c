// ESM entry of the Lathe Node client: the same objects as index.js (CommonJS).
import client from "./index.js";

export const {
  LatheClient,
  LatheError,
  defaultClient,
  logMetric,
  logMetrics,
  logParam,
  logParams,
  setTag,
  setTags,
  logArtifact,
  flush,
} = client;
export default client;
