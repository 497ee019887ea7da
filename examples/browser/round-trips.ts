/**
 * Counts network round trips of a calculator client over WebSocket (what the examples print): a
 * round trip is a turn in which the client had to send at least one Call or Bootstrap. The RPC
 * system sends everything one step needs in the same turn, so pipelined calls count once.
 */
import { Message_Reader } from "capnts/gen/rpc.capnp.js";
import { decodeFrame } from "capnts/serialize";
import type { WebSocketConstructor, WebSocketLike } from "capnts/websocket";
import { MessageReader } from "capnts/wire";

export interface RoundTrips {
  roundTrips: number;
}

/** A WebSocket class like `Base` whose instances count into `counter`. */
export function countingWebSocket(Base: WebSocketConstructor, counter: RoundTrips): WebSocketConstructor {
  return class extends (Base as new (url: string, protocols?: string | string[]) => WebSocketLike) {
    private counted = false;
    override send(data: Uint8Array): void {
      if (!this.counted) {
        const which = new MessageReader(decodeFrame(data).segments).getRoot(Message_Reader).which;
        if (which === "call" || which === "bootstrap") {
          counter.roundTrips++;
          this.counted = true;
          queueMicrotask(() => {
            this.counted = false;
          });
        }
      }
      super.send(data);
    }
  };
}
