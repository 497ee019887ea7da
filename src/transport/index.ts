/**
 * capnts/node: Node transports for the RPC runtime (TCP and Unix sockets) and a Runtime that
 * uses them by default.
 */
import { Runtime as CoreRuntime, type RuntimeOptions } from "../rpc/runtime.js";
import { nodeNet } from "./node.js";

export {
  connectFdSocket,
  type FdListener,
  FdPassingUnavailableError,
  fdPassingUnavailableReason,
  listenFdSocket,
  loadFdPassing,
  newFdSocketPair,
} from "./fd-socket.js";
export { nodeNet, type ParsedAddress, parseAddress, socketStream } from "./node.js";

/** The RPC Runtime with Node sockets: `listen("127.0.0.1:0")`, `connect("unix:/path")`. */
export class Runtime extends CoreRuntime {
  constructor(options: RuntimeOptions = {}) {
    super({ ...options, net: options.net ?? nodeNet });
  }
}
