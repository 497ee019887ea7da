/**
 * capnts/rpc: capabilities, calls and two-party RPC with C++ `rpc.c++` semantics.
 *
 * What applications use. The connection's tables and the capability hooks are internal; the
 * event-loop controls are in capnts/testing; the helpers generated code calls are in
 * capnts/codegenv1.
 */

export { newBrokenCap, newNullCap } from "./broken.js";
export {
  Client,
  type ClientCtor,
  type ClientSource,
  Pipeline,
  type PipelineCtor,
  RemotePromise,
  Request,
} from "./capability.js";
export {
  AddressError,
  ClosedHandleError,
  RpcError,
  type RpcErrorDetail,
  type RpcErrorOptions,
  type RpcErrorType,
  ShutdownError,
} from "./errors.js";
export {
  AdaptiveFlowController,
  DEFAULT_WINDOW_SIZE,
  type FlowSend,
  newAdaptiveController,
  newFixedWindowController,
  newVariableWindowController,
  type RpcFlowController,
  useAdaptiveFlowControl,
  WindowFlowController,
} from "./flow-control.js";
export type { CallHints } from "./hooks.js";
export { MemoryTransport, type MemoryTransportOptions, newMemoryTransportPair } from "./memory-transport.js";
export {
  type BootstrapFactory,
  type BootstrapSource,
  RpcSystem,
  type RpcSystemOptions,
  type VatNetwork,
} from "./rpc-system.js";
export {
  type ConnectionOptions,
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
} from "./server.js";
export { CapabilityServerSet } from "./server-set.js";
export type { LiveCapability } from "./tracking.js";
export type { MessageStream, RpcTransport, TransportReceiver } from "./transport.js";
export {
  type ByteStream,
  MessageStreamClient,
  type MessageStreamOptions,
  MessageStreamVatNetwork,
  newByteStreamPair,
  type SideName,
  TwoPartyClient,
  type TwoPartyOptions,
  TwoPartyServer,
  TwoPartyVatNetwork,
} from "./two-party.js";
