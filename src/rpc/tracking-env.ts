/**
 * The leak finder's switch as `Client` reads it (capability.ts imports it as `#tracking-env`,
 * package.json `imports`), after turning the finder on for `CAPNTS_TRACK_CAPABILITIES=1` (not
 * empty, "0" or "false"): that is read once, as the module loads. Browser bundles get
 * tracking-env-browser.ts instead (the `browser` condition): a page has no environment, so a
 * bundle carries the tracker only if the program can turn it on
 * (`Runtime.init({ trackCapabilities: true })`). Listed in package.json `sideEffects`.
 */
import { enableTracking } from "./tracking.js";
import { tracking } from "./tracking-state.js";

export { tracking };

function readEnv(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.CAPNTS_TRACK_CAPABILITIES;
  return v !== undefined && v !== "" && v !== "0" && v !== "false";
}

if (readEnv()) enableTracking();
