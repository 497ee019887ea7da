/**
 * A serialization round trip that any runtime can run (no `node:` imports): build a nested
 * calculator expression, frame it plain and packed, decode both and read the tree back. The
 * bytes are returned as hex, so the Node test can require them to equal what Node produces.
 */
import { decodeFrame, decodePackedFrame, encodeFrame, packedFrame } from "capnts/serialize";
import { MessageBuilder, MessageReader } from "capnts/wire";
import {
  Calculator_Expression_Builder,
  Calculator_Expression_Reader,
} from "../../../examples/calculator/calculator.capnp.js";

export interface SerializeReport {
  frame: string;
  packed: string;
  /** The tree read back from each encoding, written as text. */
  fromFrame: string;
  fromPacked: string;
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** The expression as text: `call(1.5, $7, call(-2, ...))`. */
function show(e: Calculator_Expression_Reader): string {
  switch (e.which) {
    case "literal":
      return String(e.literal);
    case "parameter":
      return `$${e.parameter}`;
    case "call":
      return `call(${e.call.params.toArray().map(show).join(", ")})`;
    default:
      return e.which;
  }
}

export function serializeRoundTrip(): SerializeReport {
  const m = new MessageBuilder({ firstSegmentWords: 4 }); // small: the tree spans segments
  const root = m.initRoot(Calculator_Expression_Builder);
  let node = root;
  for (let depth = 0; depth < 5; depth++) {
    const params = node.initCall().initParams(3);
    params.get(0).literal = depth + 0.5;
    params.get(1).parameter = depth * 1000;
    node = params.get(2);
  }
  node.literal = -1e300;
  const segments = m.getSegmentsForOutput();
  const frame = encodeFrame(segments);
  const packed = packedFrame(segments);
  const a = new MessageReader(decodeFrame(frame).segments).getRoot(Calculator_Expression_Reader);
  const b = new MessageReader(decodePackedFrame(packed).segments).getRoot(Calculator_Expression_Reader);
  return { frame: hex(frame), packed: hex(packed), fromFrame: show(a), fromPacked: show(b) };
}
