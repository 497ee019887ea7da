/**
 * capnts/testing: control over the runtime's run queue, for deterministic tests of code that
 * uses capnts.
 *
 * Local calls, resolutions and Returns are delivered through one FIFO run queue with C++ kj's
 * `evalLater` semantics (never synchronously). A test can wait until the queue is empty
 * (`whenIdle`), or install a loop with `manualScheduler` and single-step two vats in one process.
 *
 * `checkInvariants(connection)` and `dump(connection)` check and print an RPC connection's
 * tables (src/rpc/invariants.ts lists the rules).
 */
export {
  defaultScheduler,
  EventLoop,
  evalLater,
  eventLoop,
  type LoopScheduler,
  manualScheduler,
  setEventLoop,
  whenIdle,
} from "../rpc/event-loop.js";
export { checkInvariants, dump, findViolations, InvariantError } from "../rpc/invariants.js";
export {
  MemoryTransport,
  type MemoryTransportOptions,
  newMemoryTransportPair,
} from "../rpc/memory-transport.js";
