/**
 * The calculator server (the classic Cap'n Proto RPC example, after C++'s
 * samples/calculator-server.c++); the capability servers are in impl.ts.
 *
 * Run it on its own:  node --import tsx examples/calculator/server.ts [127.0.0.1:0 | unix:/path]
 */

import { Runtime } from "capnts/node";
import { calculatorServer } from "./impl.js";

export { calculatorServer };

// Run as a program: listen and serve until killed.
if (import.meta.url === `file://${process.argv[1]}`) {
  const address = process.argv[2] ?? "127.0.0.1:0";
  const rt = Runtime.init();
  const server = rt.newServer(calculatorServer());
  const info = await server.listen(address);
  console.log(`LISTENING ${info.address}`);
  const stop = () => void rt.shutdown().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
