// Builds the .vsix: `node scripts/package.mjs [--no-build] [--out <file>]` (npm run package).
//
// 1. runs scripts/build.mjs (bundles into dist/ and copies the daemon's native modules into
//    dist/node_modules/, see ARCHITECTURE.md "Native modules in dist/");
// 2. runs `vsce package --no-dependencies --target linux-x64`. --no-dependencies drops the ROOT
//    node_modules only; dist/node_modules/** ships because .vscodeignore allows dist/**;
// 3. lists the .vsix and fails unless it holds the bundles, every native runtime file, the files the
//    manifest points at, and nothing it must not (sources, tests, the root node_modules, .e2e).
//
// Prints the .vsix path on the last line of stdout. The target is linux-x64 because the native
// binaries inside are linux-x64 builds for Node's ABI (better-sqlite3 for NODE_MODULE_VERSION of the
// node that ran `npm ci`; onnxruntime-node's N-API v6 binary works on any Node >= 16).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const target = "linux-x64";
const outIndex = args.indexOf("--out");
const out =
  outIndex >= 0
    ? join(process.cwd(), args[outIndex + 1])
    : join(root, ".e2e", `lathe-${pkg.version}.vsix`);

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    throw new Error(`package: ${cmd} ${argv.join(" ")} failed (${r.status ?? r.signal})`);
  }
}

if (!args.includes("--no-build")) {
  run(process.execPath, [join(root, "scripts", "build.mjs"), "--quiet", "--release"]);
}

mkdirSync(dirname(out), { recursive: true });
// Informational messages go to stderr so that stdout's last line is the path.
const vsce = join(root, "node_modules", "@vscode", "vsce", "vsce");
const started = Date.now();
const r = spawnSync(
  process.execPath,
  [
    vsce,
    "package",
    "--no-dependencies",
    "--target",
    target,
    "--allow-missing-repository",
    "--no-rewrite-relative-links",
    "-o",
    out,
  ],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" },
);
process.stderr.write(r.stdout ?? "");
if (r.status !== 0) {
  throw new Error(`package: vsce package failed (${r.status ?? r.signal})`);
}

// ---- check the contents -------------------------------------------------------------------
const entries = execFileSync("unzip", ["-Z1", out], { encoding: "utf8", maxBuffer: 64 << 20 })
  .split("\n")
  .filter(Boolean);
const inExt = new Set(
  entries.filter((e) => e.startsWith("extension/")).map((e) => e.slice("extension/".length)),
);
const problems = [];

const required = [
  "package.json",
  "LICENSE.txt", // vsce renames LICENSE
  "dist/lathe.js",
  "dist/node_modules/better-sqlite3/package.json",
  "dist/node_modules/better-sqlite3/lib/index.js",
  "dist/node_modules/better-sqlite3/build/Release/better_sqlite3.node",
  "dist/node_modules/bindings/bindings.js",
  "dist/node_modules/file-uri-to-path/index.js",
  "dist/node_modules/onnxruntime-node/package.json",
  "dist/node_modules/onnxruntime-node/dist/index.js",
  "dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node",
  "dist/node_modules/onnxruntime-common/package.json",
  // The logging clients a stage imports (daemon/src/tracking/clients.ts finds them beside dist/).
  "clients/python/lathe_client.py",
  "clients/node/lathe-client/package.json",
  "clients/node/lathe-client/index.js",
  "clients/node/lathe-client/index.mjs",
  "clients/node/lathe-client/index.d.ts",
];
// Whatever build.mjs put in dist/ must be shipped as is (bundles, workers, native files).
for (const file of walk(join(root, "dist"))) {
  required.push(relative(root, file));
}
// The manifest's entry point and every file path it names (icons, grammars, schemas...).
if (pkg.main) required.push(pkg.main.replace(/^\.\//, "").replace(/(\.js)?$/, ".js"));
for (const ref of [
  ...(pkg.icon ? [pkg.icon.replace(/^\.\//, "")] : []),
  ...manifestPaths(pkg.contributes ?? {}),
]) {
  if (existsSync(join(root, ref))) required.push(ref);
  else problems.push(`package.json names ${ref}, which does not exist`);
}
for (const file of new Set(required)) {
  if (!inExt.has(file)) problems.push(`missing from the .vsix: ${file}`);
}
const forbidden = [
  /^node_modules\//,
  /^(daemon|extension|webview|schemas)\/src\//,
  /^test\//,
  /^scripts\//,
  /^bench\//,
  /^\.e2e\//,
  /^\.lathe\//,
  /^test-results\//,
  /^examples\//,
  /\.ts$/,
];
for (const e of inExt) {
  const allowed = /^dist\/node_modules\//.test(e) || /^clients\/.*\.d\.ts$/.test(e);
  if (forbidden.some((re) => re.test(e)) && !allowed) {
    problems.push(`should not be in the .vsix: ${e}`);
  }
}
if (problems.length > 0) {
  process.stderr.write(problems.map((p) => `package: ${p}\n`).join(""));
  throw new Error(`package: ${problems.length} problem(s) in ${out}`);
}
const mb = (statSync(out).size / 1048576).toFixed(1);
process.stderr.write(
  `package: ${relative(root, out)} (${mb} MB, ${inExt.size} files, target ${target}), packaged and checked in ${Date.now() - started} ms\n`,
);
process.stdout.write(`${out}\n`);

function* walk(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Relative file paths in `contributes` (icon, path, light/dark...), e.g. "media/lathe.svg". */
function manifestPaths(value, key = "") {
  const found = [];
  if (typeof value === "string") {
    if (
      /^(icon|path|light|dark|url|image|markdown|svg|media)$/i.test(key) &&
      /^\.?\.?\/?[\w.-]+\/[\w./-]+\.\w+$/.test(value)
    ) {
      if (!/^https?:/.test(value)) found.push(value.replace(/^\.\//, ""));
    }
  } else if (Array.isArray(value)) {
    for (const v of value) found.push(...manifestPaths(v, key));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) found.push(...manifestPaths(v, k));
  }
  return found;
}
