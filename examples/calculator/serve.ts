/**
 * Serves the calculator (server.ts) from Node until killed:
 *
 *   node --import tsx examples/calculator/serve.ts [127.0.0.1:0 | unix:/path]
 */
import { Runtime } from "capnts/node";
import { calculatorServer } from "./server.js";

const address = process.argv[2] ?? "127.0.0.1:0";
const rt = Runtime.init();
const server = rt.newServer(calculatorServer());
const info = await server.listen(address);
console.log(`LISTENING ${info.address}`);
const stop = () => void rt.shutdown().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
