// capnts/codegenv1, the RPC part: what generated interfaces, clients and pipelines use.
export {
  Client,
  type ClientSource,
  getClient,
  Pipeline,
  RemotePromise,
  Request,
  setClient,
} from "../rpc/capability.js";
export {
  CallContext,
  type InterfaceInfo,
  Server,
  type ServerHooks,
  type ServerImpl,
  unimplemented,
} from "../rpc/server.js";
