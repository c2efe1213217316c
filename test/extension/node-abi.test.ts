import assert from "node:assert/strict";
import { test } from "node:test";
import { abiMismatch, askNode, type NodeBinary } from "../../extension/src/daemon/nodeAbi";

test("asking a real node binary gives its version and module ABI", async () => {
  const asked = await askNode(process.execPath, process.env);

  assert.equal(asked.version, process.versions.node);
  assert.equal(asked.abi, process.versions.modules);
});

test("asking a binary that does not exist fails with ENOENT, which triggers the fallback", async () => {
  await assert.rejects(askNode("/nonexistent/node-20", process.env), { code: "ENOENT" });
});

test("a node of the ABI the modules were built for is accepted", async () => {
  const node: NodeBinary = {
    ...(await askNode(process.execPath, process.env)),
    path: "node",
    fallback: false,
  };

  assert.equal(
    abiMismatch(node, { abi: process.versions.modules, node: process.versions.node }),
    undefined,
  );
});

test("a node of another ABI is refused with both versions and the setting to change", () => {
  const node: NodeBinary = {
    path: "/usr/bin/node",
    version: "22.11.0",
    abi: "127",
    fallback: false,
  };

  const message = abiMismatch(node, { abi: "115", node: "20.19.2" });

  assert.equal(
    message,
    "Lathe's local service needs Node.js 20 (module ABI 115), but '/usr/bin/node' is Node.js 22.11.0 (ABI 127). Install Node.js 20 and set lathe.nodePath to it.",
  );
});

test("the editor's own runtime as a fallback is named as such when its ABI differs", () => {
  const electron: NodeBinary = {
    path: "/opt/code/code",
    version: "22.15.1",
    abi: "135",
    fallback: true,
  };

  assert.match(
    abiMismatch(electron, { abi: "115", node: "20.19.2" }) ?? "",
    /the editor's own runtime \(\/opt\/code\/code\)/,
  );
});

test("an unknown ABI on either side leaves the check to the daemon", () => {
  const unknown: NodeBinary = { path: "node", version: undefined, abi: undefined, fallback: false };

  assert.equal(abiMismatch(unknown, { abi: "115", node: "20.19.2" }), undefined);
  assert.equal(abiMismatch({ ...unknown, abi: "127" }, undefined), undefined);
});
