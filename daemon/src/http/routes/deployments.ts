/**
 * Deployment routes (#5):
 *   GET    /api/v1/deployments                 → Deployment[]
 *   GET    /api/v1/deployments/:name           → Deployment
 *   GET    /api/v1/deployments/:name/stats     → DeploymentStats (the worker's last seconds)
 *   POST   /api/v1/deployments                 DeployRequest → Deployment (ready)
 *   DELETE /api/v1/deployments/:name           → Deployment (stopped)
 */
import { deployRequestSchema, type DeployRequest } from "../../../../schemas/api";
import type { Context } from "../../context";
import type { ShutdownHook } from "../../daemon";
import { LatheError } from "../../errors";
import { Supervisor } from "../../serving/supervisor";
import type { Router } from "../router";

export function registerDeploymentRoutes(
  router: Router,
  ctx: Context,
  onShutdown: (hook: ShutdownHook) => void,
): void {
  const supervisor = new Supervisor(ctx);
  onShutdown(() => supervisor.stopAll());

  router.add("GET", "/api/v1/deployments", () => supervisor.list());
  router.add("GET", "/api/v1/deployments/:name", ({ params }) => supervisor.get(params.name!));
  router.add("GET", "/api/v1/deployments/:name/stats", ({ params }) =>
    supervisor.stats(params.name!),
  );
  router.add(
    "POST",
    "/api/v1/deployments",
    ({ body }) => supervisor.deploy(body as DeployRequest, daemonToken(ctx)),
    deployRequestSchema,
  );
  router.add("DELETE", "/api/v1/deployments/:name", ({ params }) =>
    supervisor.undeploy(params.name!),
  );
}

/**
 * The same routes in a server that is not the workspace's daemon (a CLI repro's, for its
 * stages): each answers 503 naming what to do, since a deployment must outlive the command.
 */
export function refuseDeploymentRoutes(router: Router): void {
  const refuse = () => {
    throw new LatheError(
      "LATHE_UNAVAILABLE",
      "Deployments are served by the workspace's daemon, and this is a 'lathe repro' serving its stages' logging only. Start the daemon ('lathe daemon', or open the folder in VS Code) and deploy through it.",
    );
  };
  router.add("GET", "/api/v1/deployments", refuse);
  router.add("GET", "/api/v1/deployments/:name", refuse);
  router.add("GET", "/api/v1/deployments/:name/stats", refuse);
  router.add("POST", "/api/v1/deployments", refuse);
  router.add("DELETE", "/api/v1/deployments/:name", refuse);
}

/** The daemon's token, which its serving workers require from clients too. */
function daemonToken(ctx: Context): string {
  if (!ctx.daemon) {
    throw new LatheError("LATHE_UNAVAILABLE", "The daemon is still starting; retry the deploy.");
  }
  return ctx.daemon.token;
}
