// The Echo servers and client-side workloads of the RPC benchmarks, for each TS contender:
// capnts (bench/schema/bench.capnp through bench/rpc/gen), @grpc/grpc-js (unary echo of raw bytes)
// and capnweb (an RpcTarget over a WebSocket from `ws`). The programs (server.ts, client.ts) wire
// them to sockets; the smoke test (test/bench/rpc-smoke.test.ts) uses them directly.
import * as grpc from "@grpc/grpc-js";
import { RpcTarget } from "capnweb";
import type { Server } from "../../src/rpc/index.js";
import { Echo, Echo_Client } from "./gen/bench.capnp.js";

// ---------------------------------------------------------------------------------------------
// capnts

/** A new Echo server (one per connection, as bench-echo-server makes one per connection). */
export function capntsEcho(): Server<Echo_Client> {
  let bytes = 0;
  let writes = 0;
  const self: Server<Echo_Client> = Echo.server({
    echo(ctx) {
      ctx.results.data = ctx.params.data;
    },
    next(ctx) {
      const r = ctx.results;
      using me = new Echo_Client(self);
      r.echo = me;
      r.n = ctx.params.n + 1;
    },
    write(ctx) {
      bytes += ctx.params.data.length;
      writes++;
    },
    finish(ctx) {
      const r = ctx.results;
      r.bytes = BigInt(bytes);
      r.writes = BigInt(writes);
      bytes = 0;
      writes = 0;
    },
  });
  return self;
}

// ---------------------------------------------------------------------------------------------
// grpc-js: one unary method whose messages are the raw payload bytes (no protobuf encoding at
// all, which flatters grpc-js slightly: a real service would encode a `bytes` field).

const identity = (b: Buffer): Buffer => b;

export const grpcService: grpc.ServiceDefinition = {
  echo: {
    path: "/capnts.bench.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export const grpcImpl: grpc.UntypedServiceImplementation = {
  echo(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
    callback(null, call.request);
  },
};

export interface GrpcEchoClient extends grpc.Client {
  echo(req: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): grpc.ClientUnaryCall;
}

export const GrpcEchoClient = grpc.makeGenericClientConstructor(grpcService, "Echo") as unknown as new (
  address: string,
  creds: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => GrpcEchoClient;

export function grpcEcho(c: GrpcEchoClient, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    c.echo(data, (err, res) => (err !== null ? reject(err) : resolve(res!)));
  });
}

// ---------------------------------------------------------------------------------------------
// capnweb: the same interface as a JavaScript class. `next` returns the target itself (a stub on
// the client), so `next(0).echo.next(1).echo.next(2)` can be pipelined.

export class CapnwebEcho extends RpcTarget {
  echo(data: Uint8Array): Uint8Array {
    return data;
  }
  next(n: number): { echo: CapnwebEcho; n: number } {
    return { echo: this, n: n + 1 };
  }
}

/** What the capnweb client sees (capnweb's stubs are untyped proxies here). */
export interface CapnwebEchoApi {
  echo(data: Uint8Array): Promise<Uint8Array> & Disposable;
  next(
    n: number,
  ): Promise<{ echo: CapnwebEchoApi; n: number } & Disposable> & { echo: CapnwebEchoApi } & Disposable;
}
