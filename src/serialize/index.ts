// Public API of capnts/serialize: stream framing, the incremental frame reader, packed encoding.

export * from "./canonical.js";
export * from "./framing.js";
export * from "./packed.js";
export * from "./stream.js";
