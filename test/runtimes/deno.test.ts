import { runtimeSuite } from "./suite.js";

// Deno from its npm package (devDependency `deno`): see harness.ts for how capnts gets there.
runtimeSuite("deno");
