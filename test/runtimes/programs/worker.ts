/**
 * The Worker the workerd tests serve (bundled by harness.ts bundleWorker):
 *   GET /serialize   serializeRoundTrip() as JSON
 */
import { serializeRoundTrip } from "./serialize.js";

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/serialize":
        return Response.json(serializeRoundTrip());
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
