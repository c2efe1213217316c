import type { Context } from "../../context";
import type { ShutdownHook } from "../../daemon";
import type { Router } from "../router";

export function registerRunRoutes(
  router: Router,
  ctx: Context,
  onShutdown: (hook: ShutdownHook) => void,
): void {
  void router; // FIXME(#2): placeholder until this domain's owner lands its routes.
  void ctx;
  void onShutdown;
}
