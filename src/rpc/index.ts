/**
 * capnts/rpc: capabilities, calls and two-party RPC with C++ `rpc.c++` semantics.
 */
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
export { CallContext, type DispatchFn, type InterfaceInfo, type MethodInfo, Server, unimplemented } from "./server.js";
export { RpcError, type RpcErrorType, ShutdownError } from "./errors.js";
export {
  EventLoop,
  eventLoop,
  evalLater,
  manualScheduler,
  defaultScheduler,
  setEventLoop,
  whenIdle,
  type LoopScheduler,
} from "./event-loop.js";
export { newBrokenCap, newNullCap } from "./broken.js";
export { ClientHook, PipelineHook, RequestHook, type ResponseHook, type CallHints } from "./hooks.js";
export { RpcSystem, type VatNetwork, type BootstrapFactory, type BootstrapSource, type RpcSystemOptions } from "./rpc-system.js";
export {
  type ByteStream,
  newByteStreamPair,
  type SideName,
  TwoPartyClient,
  type TwoPartyOptions,
  TwoPartyServer,
  TwoPartyVatNetwork,
} from "./two-party.js";
export { Runtime, RuntimeServer, type ListenInfo, type NetListener, type NetProvider, type RuntimeOptions } from "./runtime.js";
export { MemoryTransport, newMemoryTransportPair, type MemoryTransportOptions } from "./memory-transport.js";
export { RpcConnection, type ConnectionOptions } from "./connection.js";
export type { RpcTransport, TransportReceiver } from "./transport.js";
