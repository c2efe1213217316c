// Bundles each process with esbuild and copies the daemon's native modules beside the bundles,
// so that dist/ runs on its own (it is what the .vsix carries).
import { build } from "esbuild";
import { cp, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
// --release (scripts/package.mjs): no source maps, which would double the .vsix's size.
const release = process.argv.includes("--release");
const dist = join(root, "dist");

// Native modules stay outside the bundles; Node resolves them from dist/node_modules.
const native = ["better-sqlite3", "onnxruntime-node"];

const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));

const common = {
  define: {
    __LATHE_VERSION__: JSON.stringify(pkg.version),
    // The native modules copied into dist/ were built by npm under this node: the extension
    // refuses a node of another ABI before starting the daemon with it.
    __LATHE_NODE_ABI__: JSON.stringify(process.versions.modules),
    __LATHE_NODE_VERSION__: JSON.stringify(process.versions.node),
  },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: release ? false : "linked",
  logLevel: quiet ? "warning" : "info",
  absWorkingDir: root,
};

async function copyNative() {
  const nm = join(dist, "node_modules");
  await rm(nm, { recursive: true, force: true });
  const pieces = [
    ["better-sqlite3", ["package.json", "lib", "build/Release/better_sqlite3.node"]],
    ["bindings", ["package.json", "bindings.js"]],
    ["file-uri-to-path", ["package.json", "index.js"]],
    [
      "onnxruntime-node",
      ["package.json", "dist", `bin/napi-v6/${process.platform}/${process.arch}`],
    ],
    ["onnxruntime-common", ["package.json", "dist"]],
  ];
  for (const [pkg, files] of pieces) {
    for (const file of files) {
      const from = join(root, "node_modules", pkg, file);
      if (!existsSync(from)) {
        throw new Error(`build: ${from} is missing; run npm install first.`);
      }
      await mkdir(dirname(join(nm, pkg, file)), { recursive: true });
      await cp(from, join(nm, pkg, file), { recursive: true });
    }
  }
}

const entries = [
  { in: "daemon/src/cli/main.ts", out: "lathe" },
  { in: "daemon/src/serving/worker.ts", out: "serving-worker" },
  { in: "daemon/src/serving/infer-thread.ts", out: "infer-thread" },
].filter((e) => existsSync(join(root, e.in)));

await mkdir(dist, { recursive: true });
if (release) {
  // Maps left by an earlier development build would ship otherwise.
  for (const file of await readdir(dist, { recursive: true })) {
    if (file.endsWith(".map") && !file.includes("node_modules")) {
      await rm(join(dist, file));
    }
  }
}
await Promise.all([
  build({
    ...common,
    entryPoints: entries.map((e) => ({ in: e.in, out: e.out })),
    outdir: dist,
    external: native,
  }),
  existsSync(join(root, "extension/src/extension.ts"))
    ? build({
        ...common,
        entryPoints: { extension: "extension/src/extension.ts" },
        outdir: dist,
        external: ["vscode"],
      })
    : Promise.resolve(),
  existsSync(join(root, "extension/src/language-server/main.ts"))
    ? buildLanguageServer()
    : Promise.resolve(),
  copyNative(),
  buildWebviews(),
]);

// Webviews (#3): browser ESM bundles and their CSS in dist/webview/, the only folder a webview
// may load from (localResourceRoots); codicons beside them for icon buttons.
async function buildWebviews() {
  const out = join(dist, "webview");
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: { compare: "webview/src/compare/main.ts", tryit: "webview/src/tryit/main.ts" },
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    outdir: out,
    logLevel: quiet ? "warning" : "info",
    absWorkingDir: root,
  });
  for (const file of ["codicon.css", "codicon.ttf"]) {
    await cp(join(root, "node_modules/@vscode/codicons/dist", file), join(out, file));
  }
}

// The language server runs under any node and in other editors: pure JS, no native module.
async function buildLanguageServer() {
  const result = await build({
    ...common,
    entryPoints: { "language-server": "extension/src/language-server/main.ts" },
    outdir: dist,
    metafile: true,
  });
  const nativeInputs = Object.keys(result.metafile.inputs).filter((p) =>
    native.some((n) => p.includes(`node_modules/${n}/`)),
  );
  if (nativeInputs.length > 0) {
    throw new Error(
      `build: the language server must not load native modules: ${nativeInputs.join(", ")}`,
    );
  }
}
