// The language server on a generated 500-stage lathe.yaml, over a real JSON-RPC connection to a
// real server process (dist/language-server.js --stdio): completion of a params key after each
// keystroke (the edit and the completion request timed together, so the re-analysis counts), and
// full diagnostics of the file after an edit in its middle stage. Goals (issue #4): completion p95 < 20 ms,
// diagnostics < 100 ms. The reference, measured in the same run: a plain `yaml` parseDocument of
// the same file (what any YAML-based tool pays for one look at it), and the ratios to it.
// Run: node scripts/build.mjs && node bench/lsp.mjs [stages]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
} from "vscode-jsonrpc/node";
import { LineCounter, parseDocument } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const STAGES = Number(process.argv[2] ?? 500);
const COMPLETIONS = 300;
const DIAGNOSTICS = 30;

const ws = mkdtempSync(join(tmpdir(), "lathe-bench-lsp-"));
const { text, params } = generate(STAGES);
mkdirSync(join(ws, "src"));
mkdirSync(join(ws, "data"));
for (let i = 0; i < STAGES; i++) writeFileSync(join(ws, "src", `s${i}.py`), "");
writeFileSync(join(ws, "data", "raw.csv"), "a,b\n1,2\n");
writeFileSync(join(ws, "params.yaml"), params);
writeFileSync(join(ws, "lathe.yaml"), text);
const uri = pathToFileURL(join(ws, "lathe.yaml")).toString();

const server = spawn(process.execPath, [join(root, "dist", "language-server.js"), "--stdio"], {
  stdio: ["pipe", "pipe", "inherit"],
});
const conn = createMessageConnection(
  new StreamMessageReader(server.stdout),
  new StreamMessageWriter(server.stdin),
);
conn.listen();
try {
  // What VS Code declares: completion items may share their edit range; diagnostics are pulled
  // (a client that does not say so gets them pushed after every edit).
  const capabilities = {
    textDocument: {
      completion: { completionList: { itemDefaults: ["editRange"] } },
      diagnostic: { dynamicRegistration: false },
    },
  };
  await conn.sendRequest("initialize", { processId: process.pid, rootUri: null, capabilities });
  await conn.sendNotification("initialized", {});
  await conn.sendNotification("textDocument/didOpen", {
    textDocument: { uri, languageId: "yaml", version: 1, text },
  });

  const cold0 = performance.now();
  const first = await conn.sendRequest("textDocument/diagnostic", { textDocument: { uri } });
  const cold = performance.now() - cold0;
  if (first.items.length !== 0) {
    throw new Error(
      `the generated file should be clean; got ${JSON.stringify(first.items.slice(0, 3))}`,
    );
  }

  // Type `s<last>.` into the last stage's params, one keystroke at a time, completing after each.
  const anchor = `params: [s${STAGES - 1}.lr]`;
  const line = text.slice(0, text.indexOf(anchor)).split("\n").length - 1;
  const base = text.replace(anchor, `params: [s${STAGES - 1}.lr, ]`);
  let version = 1;
  const completion = [];
  const cpu0 = serverCpuMs();
  let lastCount = 0;
  for (let i = 0; i < COMPLETIONS; i++) {
    const typed = i % 2 === 0 ? "s" : "s4";
    const edited = base.replace(
      `params: [s${STAGES - 1}.lr, ]`,
      `params: [s${STAGES - 1}.lr, ${typed}]`,
    );
    const character =
      text.split("\n")[line].indexOf("params: [") +
      `params: [s${STAGES - 1}.lr, `.length +
      typed.length;
    const t0 = performance.now();
    await conn.sendNotification("textDocument/didChange", {
      textDocument: { uri, version: ++version },
      contentChanges: [{ text: edited }],
    });
    const items = await conn.sendRequest("textDocument/completion", {
      textDocument: { uri },
      position: { line, character },
    });
    completion.push(performance.now() - t0);
    lastCount = (Array.isArray(items) ? items : items.items).length;
  }

  const completionCpu = (serverCpuMs() - cpu0) / COMPLETIONS;
  const diagnostics = [];
  const cpu1 = serverCpuMs();
  const mid = Math.floor(STAGES / 2);
  for (let i = 0; i < DIAGNOSTICS; i++) {
    await conn.sendNotification("textDocument/didChange", {
      textDocument: { uri, version: ++version },
      // An edit in the middle stage: its chunk is parsed again, the stages after it move.
      contentChanges: [
        {
          text: text.replace(
            `src/s${mid}.py data/s${mid}`,
            `src/s${mid}.py data/s${mid} --edit ${i}`,
          ),
        },
      ],
    });
    const t0 = performance.now();
    await conn.sendRequest("textDocument/diagnostic", { textDocument: { uri } });
    diagnostics.push(performance.now() - t0);
  }

  const diagnosticsCpu = (serverCpuMs() - cpu1) / DIAGNOSTICS;
  // The reference: parse the whole file with `yaml` (positions on, as an editor needs them).
  const parses = [];
  for (let i = 0; i < DIAGNOSTICS; i++) {
    const t0 = performance.now();
    parseDocument(text, { lineCounter: new LineCounter() });
    parses.push(performance.now() - t0);
  }

  const c = stats(completion.slice(20)); // the first ones warm up the JIT
  const d = stats(diagnostics.slice(3));
  const y = stats(parses.slice(3));
  console.log(
    `lathe.yaml: ${STAGES} stages, ${text.split("\n").length} lines, ${(text.length / 1024).toFixed(0)} KiB; params.yaml: ${STAGES * 2} keys`,
  );
  console.log(
    `completion (edit + request, ${c.n} samples, ${lastCount} items): p50 ${c.p50.toFixed(1)} ms, p95 ${c.p95.toFixed(1)} ms (goal < 20 ms)`,
  );
  console.log(
    `server CPU time (user + system, from /proc; load-independent): ${completionCpu.toFixed(1)} ms per completion, ${diagnosticsCpu.toFixed(1)} ms per diagnostics`,
  );
  console.log(`first diagnostics of the opened file (nothing cached): ${cold.toFixed(1)} ms`);
  console.log(
    `full diagnostics after an edit in the middle stage (${d.n} samples): p50 ${d.p50.toFixed(1)} ms, p95 ${d.p95.toFixed(1)} ms, max ${d.max.toFixed(1)} ms (goal < 100 ms)`,
  );
  console.log(
    `reference: yaml parseDocument of the whole file (${y.n} samples, in this process): p50 ${y.p50.toFixed(1)} ms, p95 ${y.p95.toFixed(1)} ms`,
  );
  console.log(
    `ratios to one yaml parse (p50): completion p95 ${(c.p95 / y.p50).toFixed(2)}x, diagnostics p50 ${(d.p50 / y.p50).toFixed(2)}x`,
  );
} finally {
  conn.dispose();
  server.kill();
  rmSync(ws, { recursive: true, force: true });
}

/** The server process's user + system CPU time so far (Linux /proc, clock ticks of 10 ms). */
function serverCpuMs() {
  const fields = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}

/** A chain of stages with a fan-in every 10 stages: deps, params, outs and metrics in each. */
function generate(n) {
  const lines = ["# Generated by bench/lsp.mjs", "stages:"];
  const params = [];
  for (let i = 0; i < n; i++) {
    const deps = [`src/s${i}.py`, i === 0 ? "data/raw.csv" : `data/s${i - 1}`];
    if (i >= 10 && i % 10 === 0) deps.push(`data/s${i - 10}`);
    lines.push(
      `  s${i}:`,
      `    cmd: python src/s${i}.py data/s${i}`,
      `    deps: [${deps.join(", ")}]`,
      `    params: [s${i}.lr]`,
      `    outs: [data/s${i}]`,
      `    metrics: [metrics/s${i}.json]`,
    );
    params.push(`s${i}:`, `  lr: 0.${i}`, `  seed: ${i}`);
  }
  return { text: `${lines.join("\n")}\n`, params: `${params.join("\n")}\n` };
}
