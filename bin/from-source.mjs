// The launchers' development mode: run the TypeScript sources of this checkout through tsx, with
// the `capnts-source` condition (the tests pass it in NODE_OPTIONS; a launcher started without
// it adds it here), so that package.json's subpath imports (#platform, #tracking-env) resolve to
// src/ rather than to dist/, which a checkout may not have built.
import { existsSync } from "node:fs";
import { register } from "node:module";
import { pathToFileURL } from "node:url";

const HOOK = `export async function resolve(specifier, context, next) {
  const c = context.conditions;
  return next(specifier, c.includes("capnts-source") ? context : { ...context, conditions: [...c, "capnts-source"] });
}`;

/** Import `entry` (a .ts file) from source. */
export async function runSource(entry) {
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  // Registered last, so it runs first and tsx resolves with the condition.
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
  await import(pathToFileURL(entry).href);
}

/**
 * Whether a launcher runs the source rather than the build at `built`: when there is no build,
 * when CAPNTS_FROM_SOURCE=1, and when the process resolves with the `capnts-source` condition
 * (as the tests run): under it the build's own `#platform` imports would resolve to src/*.ts,
 * which plain Node cannot load, so a checkout with dist/ built would fail every CLI test.
 */
export function useSource(built) {
  if (!existsSync(built) || process.env.CAPNTS_FROM_SOURCE === "1") return true;
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  return flags.some((f, i) => f === "--conditions=capnts-source" || f === "-C=capnts-source" ||
    ((f === "--conditions" || f === "-C") && flags[i + 1] === "capnts-source"));
}
