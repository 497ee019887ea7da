// The launchers' development mode: run the TypeScript sources of this checkout through tsx, with
// the `capnts-source` condition (the tests pass it in NODE_OPTIONS; a launcher started without
// it adds it here), so that package.json's subpath imports (#platform, #tracking-env) resolve to
// src/ rather than to dist/, which a checkout may not have built.
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
