/**
 * capnts/rpc: capabilities, calls and two-party RPC with C++ `rpc.c++` semantics.
 */

export { newBrokenCap, newNullCap } from "./broken.js";
export {
  Client,
  type ClientCtor,
  type ClientSource,
  getClient,
  Pipeline,
  type PipelineCtor,
  RemotePromise,
  Request,
  setClient,
} from "./capability.js";
export { type ConnectionOptions, RpcConnection } from "./connection.js";
export { RpcError, type RpcErrorType, ShutdownError } from "./errors.js";
export {
  defaultScheduler,
  EventLoop,
  evalLater,
  eventLoop,
  type LoopScheduler,
  manualScheduler,
  setEventLoop,
  whenIdle,
} from "./event-loop.js";
export { type CallHints, ClientHook, PipelineHook, RequestHook, type ResponseHook } from "./hooks.js";
export { MemoryTransport, type MemoryTransportOptions, newMemoryTransportPair } from "./memory-transport.js";
export {
  type BootstrapFactory,
  type BootstrapSource,
  RpcSystem,
  type RpcSystemOptions,
  type VatNetwork,
} from "./rpc-system.js";
export {
  type ListenInfo,
  type NetListener,
  type NetProvider,
  Runtime,
  type RuntimeOptions,
  RuntimeServer,
} from "./runtime.js";
export {
  CallContext,
  type DispatchFn,
  type InterfaceInfo,
  type MethodInfo,
  Server,
  type ServerHooks,
  type ServerImpl,
  unimplemented,
} from "./server.js";
export { CapabilityServerSet } from "./server-set.js";
export type { RpcTransport, TransportReceiver } from "./transport.js";
export {
  type ByteStream,
  newByteStreamPair,
  type SideName,
  TwoPartyClient,
  type TwoPartyOptions,
  TwoPartyServer,
  TwoPartyVatNetwork,
} from "./two-party.js";
