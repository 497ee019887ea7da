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
