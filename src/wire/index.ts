export * from "./any-pointer.js";
export * from "./arena.js";
export * from "./errors.js";
export * from "./list.js";
export * from "./message.js";
export { Orphan } from "./orphan.js";
export { ElementSize } from "./pointer.js";
// `S`, `locateStruct` and `PointerDefault` are generated code's (capnts/codegenv1), not users'.
export type { ListKind, PointerType, StructCtor } from "./read.js";
export { Segment } from "./segment.js";
export * from "./struct.js";
