// capnts/codegenv1, the RPC part: what generated interfaces, clients and pipelines use.
export {
  Client,
  getClient,
  Pipeline,
  RemotePromise,
  Request,
  setClient,
} from "../rpc/capability.js";
export { CallContext, type InterfaceInfo, Server, type ServerHooks, unimplemented } from "../rpc/server.js";
