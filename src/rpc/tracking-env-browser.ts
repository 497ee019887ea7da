/**
 * `#tracking-env` in browser bundles (package.json `imports`, the `browser` condition): the
 * switch alone. A page has no environment to turn the leak finder on from;
 * `Runtime.init({ trackCapabilities: true })` still can.
 */
export { tracking } from "./tracking-state.js";
