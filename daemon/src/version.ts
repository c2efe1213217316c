/** Lathe's version, injected by the bundler from package.json; "dev" when run from sources. */
declare const __LATHE_VERSION__: string | undefined;

export const LATHE_VERSION: string =
  typeof __LATHE_VERSION__ === "string" ? __LATHE_VERSION__ : "0.0.0-dev";
