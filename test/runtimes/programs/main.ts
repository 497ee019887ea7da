/**
 * The program the Deno and Bun tests run (test/runtimes/harness.ts programCommand):
 *
 *   main.ts serialize              print RESULT with serializeRoundTrip()
 *   main.ts tcp-client HOST:PORT   run the calculator scenario against a server, print RESULT
 *   main.ts tcp-server             serve the calculator on a loopback port (LISTENING PORT) to one
 *                                  client; when it has gone print RESULT (what is left) and exit
 *
 * The TCP commands use capnts/node, that is the runtime's node:net compatibility.
 */
import { nodeNet, Runtime } from "capnts/node";
import { Calculator_Client } from "../../../examples/calculator/calculator.capnp.js";
import { countingStream } from "../../../examples/calculator/demo.js";
import { calculatorServer } from "../../../examples/calculator/server.js";
import { liveServers, runScenario, serverReport } from "./scenario.js";
import { serializeRoundTrip } from "./serialize.js";

const deno = (globalThis as { Deno?: { args: string[] } }).Deno;
const [command, ...args] = deno?.args ?? process.argv.slice(2);

async function tcpClient(address: string): Promise<void> {
  await Runtime.run(async (rt) => {
    const stream = countingStream(await nodeNet.connect(address));
    const client = rt.connectStream(stream);
    using calc = client.bootstrap(Calculator_Client);
    console.log(`RESULT ${JSON.stringify(await runScenario(calc, stream))}`);
  });
}

async function tcpServer(): Promise<void> {
  const rt = Runtime.init();
  // The bootstrap capability is ours (alive before and after): what the client makes must go.
  using calculator = new Calculator_Client(calculatorServer());
  const baseline = liveServers();
  const server = rt.newServer(calculator);
  const done = new Promise<void>((resolve) => {
    server.onConnection = (c) => {
      void c.onDisconnect().then(async () => {
        const report = await serverReport(baseline, () => server.connections.length);
        console.log(`RESULT ${JSON.stringify(report)}`);
        resolve();
      });
    };
  });
  const { port } = await server.listen("127.0.0.1:0");
  console.log(`LISTENING ${port}`);
  await done;
  await rt.shutdown();
}

switch (command) {
  case "serialize":
    console.log(`RESULT ${JSON.stringify(serializeRoundTrip())}`);
    break;
  case "tcp-client":
    await tcpClient(args[0]!);
    break;
  case "tcp-server":
    await tcpServer();
    break;
  default:
    throw new Error(`unknown command ${command}`);
}
