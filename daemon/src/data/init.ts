/** `lathe init`: the `.lathe/` state folder, kept out of git. Safe to run again. */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { Workspace } from "../workspace";
import { ensureIgnored } from "./gitignore";

export interface InitResult {
  root: string;
  /** False when `.lathe/` existed already. */
  created: boolean;
  /** True when `.lathe/` was added to the root `.gitignore` by this run. */
  gitignoreUpdated: boolean;
}

export async function initWorkspace(ws: Workspace): Promise<InitResult> {
  const created = !existsSync(ws.stateDir);
  await mkdir(ws.objectsDir, { recursive: true });
  const gitignoreUpdated = await ensureIgnored(ws.root, "/.lathe/");
  return { root: ws.root, created, gitignoreUpdated };
}
