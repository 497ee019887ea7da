// Declaration of capnp-es.js (see there why it is JavaScript).
import type { Contender } from "../types.js";

export declare const capnpEs: Contender;
