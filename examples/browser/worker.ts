/**
 * A Web Worker serving the calculator to the page that started it, over the worker's own port
 * (`self`): capnts runs the server side in the worker thread.
 */
import { type MessagePortLike, MessagePortTransport } from "capnts/messageport";
import { Runtime } from "capnts/rpc";
import { calculatorServer } from "../calculator/impl.js";

declare const self: MessagePortLike;

const rt = Runtime.init();
const server = rt.newServer(calculatorServer());
// `self` is a DedicatedWorkerGlobalScope: postMessage and message events, like a port.
void server.accept(new MessagePortTransport(self));
