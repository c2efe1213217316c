// ESM entry of the Lathe Node client: the same objects as index.js (CommonJS). `import` reaches
// it only where the package is installed in node_modules: ESM resolution ignores NODE_PATH, so a
// stage's ES module uses `createRequire(import.meta.url)("lathe-client")` (docs/tracking.md).
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
