// capnts/codegenv1, the wire part: what generated structs, lists and constants use.
export {
  AnyPointerBuilder,
  AnyPointerList,
  AnyPointerListBuilder,
  AnyPointerReader,
} from "../wire/any-pointer.js";
export { type Arena, BuilderArena } from "../wire/arena.js";
export { InactiveMemberError, inactiveMember } from "../wire/errors.js";
export * from "../wire/list.js";
export { MessageReader } from "../wire/message.js";
export { Orphan } from "../wire/orphan.js";
export { ElementSize } from "../wire/pointer.js";
export { type ListKind, PointerDefault, S, type StructCtor } from "../wire/read.js";
export { Segment } from "../wire/segment.js";
export { GroupReader, groupReader, StructBuilder, StructReader } from "../wire/struct.js";
