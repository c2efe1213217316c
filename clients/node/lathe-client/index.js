// Lathe's Node client (CommonJS; index.mjs is the ESM entry). No dependencies: Node's fetch.
//
// A stage that `lathe repro` runs gets LATHE_API, LATHE_TOKEN and LATHE_RUN_ID, and NODE_PATH
// holding this package's parent folder, so `require("lathe-client")` works with no setup:
//
//   const lathe = require("lathe-client");
//   await lathe.logParam("lr", 0.01);
//   for (let epoch = 0; epoch < 100; epoch++) lathe.logMetrics({ loss, accuracy }, epoch);
//   await lathe.flush();
//
// NODE_PATH serves require() only: an ES module loads it with
// `createRequire(import.meta.url)("lathe-client")` (from "node:module").
//
// Metrics are buffered and sent through the native batch API (POST /api/v1/runs/<id>/batch) in
// batches of up to 1000 points: when the buffer is full, `flushMs` after its first point, on
// flush(), and before the process exits on its own (`beforeExit`; after process.exit() nothing
// more can be sent, so await flush() first). Params and tags are sent at once, after the metrics
// buffered before them. Requests go out one at a time, in order.
"use strict";

const { readFile, readdir, stat } = require("node:fs/promises");
const { basename, join, normalize, relative, sep } = require("node:path");

const MAX_METRICS = 1000;
const MAX_PARAMS_OR_TAGS = 100;

class LatheError extends Error {
  constructor(code, message, status = null) {
    super(message);
    this.name = "LatheError";
    this.code = code;
    this.status = status;
  }
}

/** A metric value as JSON: a number, or MLflow's strings for NaN and the infinities. */
function jsonNumber(value) {
  const n = Number(value);
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  return n;
}

function chunks(entries, size) {
  const out = [];
  for (let i = 0; i < entries.length; i += size) out.push(entries.slice(i, i + size));
  return out;
}

class LatheClient {
  constructor(options = {}) {
    this.api = (options.api || process.env.LATHE_API || "").replace(/\/+$/, "");
    this.token = options.token ?? process.env.LATHE_TOKEN ?? "";
    this.runId = options.runId || process.env.LATHE_RUN_ID || "";
    const missing = [!this.api && "LATHE_API", !this.runId && "LATHE_RUN_ID"].filter(Boolean);
    if (missing.length > 0) {
      throw new LatheError(
        "LATHE_BAD_INPUT",
        `lathe-client: ${missing.join(" and ")} not set. Run this script as a stage of \`lathe repro\` with Lathe's service running (the editor starts it, or \`lathe daemon\` in a terminal), or pass { api, runId }.`,
      );
    }
    this.flushMs = options.flushMs ?? 1000;
    this.buffer = [];
    this.timer = undefined;
    this.chain = Promise.resolve();
    this.failure = null;
    this.onBeforeExit = () => {
      if (this.buffer.length > 0) void this.flush().catch((err) => warn(err));
    };
    process.on("beforeExit", this.onBeforeExit);
  }

  logMetric(key, value, step = 0, timestamp = Date.now()) {
    this.buffer.push({
      key: String(key),
      value: jsonNumber(value),
      step: Math.trunc(step),
      timestamp: Math.trunc(timestamp),
    });
    if (this.buffer.length >= MAX_METRICS) {
      this.sendBuffered();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.sendBuffered(), this.flushMs);
      this.timer.unref();
    }
  }

  logMetrics(metrics, step = 0, timestamp = Date.now()) {
    for (const [key, value] of Object.entries(metrics)) this.logMetric(key, value, step, timestamp);
  }

  async flush() {
    this.sendBuffered();
    await this.chain;
    const failure = this.failure;
    this.failure = null;
    if (failure) throw failure;
  }

  async logParam(key, value) {
    await this.logParams({ [key]: value });
  }

  async logParams(params) {
    await this.sendKeyValues("params", params);
  }

  async setTag(key, value) {
    await this.setTags({ [key]: value });
  }

  async setTags(tags) {
    await this.sendKeyValues("tags", tags);
  }

  /** A file is stored as `artifactPath` (default: its name); a folder's files below it. */
  async logArtifact(localPath, artifactPath) {
    if ((await stat(localPath)).isDirectory()) {
      const base = artifactPath || basename(normalize(localPath));
      const stored = [];
      for (const file of await filesUnder(localPath)) {
        const rel = relative(localPath, file).split(sep).join("/");
        stored.push(...(await this.logArtifact(file, `${base}/${rel}`)));
      }
      return stored;
    }
    const target = artifactPath || basename(localPath);
    const body = await readFile(localPath);
    const path = target.split("/").map(encodeURIComponent).join("/");
    await this.flush();
    await this.request("PUT", `/api/v1/runs/${this.runId}/artifacts/${path}`, body, null);
    return [target];
  }

  async close() {
    clearTimeout(this.timer);
    process.off("beforeExit", this.onBeforeExit);
    await this.flush();
  }

  sendBuffered() {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const metrics of chunks(this.buffer.splice(0), MAX_METRICS)) {
      this.enqueue({ metrics }).catch((err) => {
        this.failure ??= err;
      });
    }
  }

  async sendKeyValues(field, map) {
    this.sendBuffered();
    const entries = Object.entries(map).map(([k, v]) => [String(k), String(v)]);
    for (const part of chunks(entries, MAX_PARAMS_OR_TAGS)) {
      await this.enqueue({ [field]: Object.fromEntries(part) });
    }
  }

  /** Queues one batch behind the requests before it; resolves when it is stored. */
  enqueue(batch) {
    const body = JSON.stringify(batch);
    const sent = this.chain.then(() =>
      this.request("POST", `/api/v1/runs/${this.runId}/batch`, body, "application/json"),
    );
    this.chain = sent.catch(() => undefined);
    return sent;
  }

  async request(method, path, body, contentType) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (contentType) headers["Content-Type"] = contentType;
    let res;
    try {
      res = await fetch(this.api + path, { method, headers, body });
    } catch (err) {
      const reason = err.cause?.code ?? err.cause?.message ?? err.message;
      throw new LatheError(
        "LATHE_UNAVAILABLE",
        `Cannot reach Lathe at ${this.api} (${reason}): is its service running?`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let reply = {};
      try {
        reply = JSON.parse(text);
      } catch {
        reply = { message: text };
      }
      throw new LatheError(
        reply.code ?? "LATHE_INTERNAL",
        `${method} ${path}: ${reply.message ?? text}`,
        res.status,
      );
    }
    return text ? JSON.parse(text) : null;
  }
}

async function filesUnder(dir) {
  const out = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function warn(err) {
  process.stderr.write(`lathe-client: ${err.message}\n`);
}

// ---- module-level functions: one client from the environment ------------------------------

let shared;
let disabled = false;

/** The client of this process's run, or null (after one warning) when there is none. */
function defaultClient() {
  if (shared === undefined && !disabled) {
    try {
      shared = new LatheClient();
    } catch (err) {
      disabled = true;
      warn(new Error(`${err.message} Nothing is logged.`));
    }
  }
  return shared ?? null;
}

const viaDefault =
  (name, empty) =>
  (...args) => {
    const client = defaultClient();
    return client ? client[name](...args) : empty;
  };

module.exports = {
  LatheClient,
  LatheError,
  defaultClient,
  logMetric: viaDefault("logMetric", undefined),
  logMetrics: viaDefault("logMetrics", undefined),
  logParam: viaDefault("logParam", Promise.resolve()),
  logParams: viaDefault("logParams", Promise.resolve()),
  setTag: viaDefault("setTag", Promise.resolve()),
  setTags: viaDefault("setTags", Promise.resolve()),
  logArtifact: viaDefault("logArtifact", Promise.resolve([])),
  flush: viaDefault("flush", Promise.resolve()),
};
