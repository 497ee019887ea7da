import { runtimeSuite } from "./suite.js";

// Bun from its npm package (devDependency `bun`): see harness.ts for how capnts gets there.
runtimeSuite("bun");
