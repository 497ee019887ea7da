/**
 * Round trips over a message stream, counted as the calculator demo counts them over a byte
 * stream (examples/calculator/demo.ts countingStream): a round trip is a batch of calls the client
 * had to send before it could go on. Here: a Call or Bootstrap sent after a Return arrived (or
 * first) starts a new batch; calls sent before the next Return arrives belong to it. Other
 * arrivals (Release, Finish, the peer's calls back to us) answer nothing we wait for.
 */
import { Message_Reader } from "capnts/gen/rpc.capnp.js";
import type { MessageStream } from "capnts/rpc";
import { MessageReader } from "capnts/wire";

export function countingMessageStream(inner: MessageStream): MessageStream & { roundTrips: number } {
  let returned = true;
  const s: MessageStream & { roundTrips: number } = {
    roundTrips: 0,
    send(message) {
      if (returned) {
        const which = new MessageReader(message.getSegmentsForOutput()).getRoot(Message_Reader).which;
        if (which === "call" || which === "bootstrap") {
          s.roundTrips++;
          returned = false;
        }
      }
      inner.send(message);
    },
    start(receiver) {
      inner.start({
        message(m) {
          if (m.getRoot(Message_Reader).which === "return") returned = true;
          receiver.message(m);
        },
        closed: (e) => receiver.closed(e),
      });
    },
    shutdown: () => inner.shutdown(),
    get streamWindow() {
      return inner.streamWindow;
    },
  };
  if (inner.pauseReading && inner.resumeReading) {
    s.pauseReading = () => inner.pauseReading!();
    s.resumeReading = () => inner.resumeReading!();
  }
  return s;
}
