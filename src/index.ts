/**
 * capnts: Cap'n Proto for TypeScript.
 *
 * The root entry holds what most programs import, and runs anywhere (Node, browsers, Deno, Bun,
 * Workers): messages, framing, packed encoding, capabilities, and the RPC runtime without a
 * network. Node programs take `Runtime` from `capnts/node` instead, which adds TCP and Unix
 * sockets. The subsystem entries (`capnts/wire`, `capnts/serialize`, `capnts/rpc`,
 * `capnts/schema`, `capnts/compiler`) have the rest; generated code imports `capnts/codegenv1`.
 */

export {
  AddressError,
  type ByteStream,
  CallContext,
  type CallHints,
  CapabilityServerSet,
  Client,
  type ClientCtor,
  ClosedHandleError,
  type ConnectionOptions,
  type ListenInfo,
  type LiveCapability,
  MessageStreamClient,
  newBrokenCap,
  newByteStreamPair,
  newNullCap,
  Pipeline,
  RemotePromise,
  Request,
  RpcError,
  type RpcErrorType,
  type RpcSystemOptions,
  Runtime,
  type RuntimeOptions,
  RuntimeServer,
  Server,
  type ServerHooks,
  ShutdownError,
  TwoPartyClient,
  type TwoPartyOptions,
  TwoPartyServer,
} from "./rpc/index.js";
export {
  canonicalize,
  decodeFrame,
  decodeFrames,
  decodePackedFrame,
  decodePackedFrames,
  encodeFrame,
  FrameReader,
  isCanonical,
  pack,
  packedFrame,
  unpack,
} from "./serialize/index.js";
export {
  type BuilderOptions,
  CapnpError,
  DecodeError,
  EncodeError,
  MessageBuilder,
  MessageReader,
  type ReaderOptions,
} from "./wire/index.js";
