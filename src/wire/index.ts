/**
 * capnts/wire: messages, struct and list readers and builders, AnyPointer, orphans, arenas and
 * the read limits. The helpers generated code calls (`S`, `PointerDefault`, `inactiveMember`,
 * list and struct copying) are in capnts/codegenv1, and test knobs in no entry at all.
 */
export * from "./any-pointer.js";
export {
  type Arena,
  BuilderArena,
  type BuilderOptions,
  DEFAULT_FIRST_SEGMENT_WORDS,
  DEFAULT_NESTING_LIMIT,
  DEFAULT_TRAVERSAL_LIMIT_IN_WORDS,
  MAX_SEGMENT_WORDS,
  ReaderArena,
  type ReaderOptions,
  UNLIMITED_NESTING,
} from "./arena.js";
export {
  CapnpError,
  DecodeError,
  type DecodeErrorCode,
  EncodeError,
  InactiveMemberError,
} from "./errors.js";
export {
  AnyList,
  BoolList,
  BoolListBuilder,
  CapabilityList,
  CapabilityListBuilder,
  DataList,
  DataListBuilder,
  EnumList,
  EnumListBuilder,
  Float32List,
  Float32ListBuilder,
  Float64List,
  Float64ListBuilder,
  Int8List,
  Int8ListBuilder,
  Int16List,
  Int16ListBuilder,
  Int32List,
  Int32ListBuilder,
  Int64List,
  Int64ListBuilder,
  type ListBuilderKind,
  ListBuilderView,
  ListList,
  ListListBuilder,
  ListView,
  StructList,
  StructListBuilder,
  TextList,
  TextListBuilder,
  Uint8List,
  Uint8ListBuilder,
  Uint16List,
  Uint16ListBuilder,
  Uint32List,
  Uint32ListBuilder,
  Uint64List,
  Uint64ListBuilder,
  VoidList,
  VoidListBuilder,
} from "./list.js";
export * from "./message.js";
export { Orphan } from "./orphan.js";
export { ElementSize } from "./pointer.js";
export type { ListKind, PointerType, StructCtor } from "./read.js";
export { Segment } from "./segment.js";
export {
  GroupReader,
  StructBuilder,
  type StructBuilderCtor,
  StructReader,
  StructView,
} from "./struct.js";
