import assert from "node:assert/strict";
import { request } from "node:http";
import { statSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { startDaemonProcess } from "../../daemon/src/client";
import { cliPath, daemonIn, removeDir, tempDir } from "../helpers";

function raw(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = "GET",
  body?: string,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("the daemon writes daemon.json with mode 0600 and removes it on close", async () => {
  const root = await tempDir();
  const daemon = await daemonIn(root);
  const file = join(root, ".lathe", "daemon.json");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const info = JSON.parse(readFileSync(file, "utf8")) as { port: number; pid: number };
  assert.equal(info.port, daemon.info.port);
  assert.equal(info.pid, process.pid);
  await daemon.close();
  assert.equal(existsSync(file), false);
  await removeDir(root);
});

test("requests without the token, with a foreign Host or Origin are refused", async () => {
  const root = await tempDir();
  const daemon = await daemonIn(root);
  const { port, token } = daemon.info;
  const auth = { Authorization: `Bearer ${token}` };

  const ok = await raw(port, "/api/v1/health", auth);
  assert.equal(ok.status, 200);

  const noToken = await raw(port, "/api/v1/health", {});
  assert.equal(noToken.status, 401);
  assert.equal((noToken.json as { code: string }).code, "LATHE_UNAUTHORIZED");

  const wrongToken = await raw(port, "/api/v1/health", { Authorization: "Bearer nope" });
  assert.equal(wrongToken.status, 401);

  const badHost = await raw(port, "/api/v1/health", { ...auth, Host: "evil.example:80" });
  assert.equal(badHost.status, 403);

  // A loopback name on another port is another server's origin (DNS rebinding to a local page).
  const otherPort = await raw(port, "/api/v1/health", { ...auth, Host: `127.0.0.1:${port + 1}` });
  assert.equal(otherPort.status, 403);
  assert.match((otherPort.json as { message: string }).message, new RegExp(`127.0.0.1:${port}`));
  const noPort = await raw(port, "/api/v1/health", { ...auth, Host: "localhost" });
  assert.equal(noPort.status, 403);
  const localhost = await raw(port, "/api/v1/health", { ...auth, Host: `localhost:${port}` });
  assert.equal(localhost.status, 200);

  const badOrigin = await raw(port, "/api/v1/health", { ...auth, Origin: "http://evil.example" });
  assert.equal(badOrigin.status, 403);

  await daemon.close();
  await removeDir(root);
});

test("unknown routes are 404 and a wrong method is 405, each with a coded error", async () => {
  const root = await tempDir();
  const daemon = await daemonIn(root);
  const auth = { Authorization: `Bearer ${daemon.info.token}` };

  const missing = await raw(daemon.info.port, "/api/v1/nothing-here", auth);
  assert.equal(missing.status, 404);
  assert.equal((missing.json as { code: string }).code, "LATHE_NOT_FOUND");

  const wrongMethod = await raw(daemon.info.port, "/api/v1/health", auth, "DELETE");
  assert.equal(wrongMethod.status, 405);
  assert.equal((wrongMethod.json as { code: string }).code, "LATHE_BAD_METHOD");

  await daemon.close();
  await removeDir(root);
});

test("starting a daemon with a node binary that does not exist fails with a clear error", async () => {
  const root = await tempDir();
  await assert.rejects(
    startDaemonProcess(root, {
      nodePath: join(root, "no-such-node"),
      cliScript: cliPath,
      timeoutMs: 5000,
    }),
    (err: Error) => /Cannot start the Lathe daemon with '.*no-such-node'/.test(err.message),
  );
  await removeDir(root);
});
