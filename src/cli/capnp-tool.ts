/**
 * Running the `capnp` tool (Debian package `capnproto`): the schema parser is C++, we use it for
 * `capnts compile` and to obtain CodeGeneratorRequests for `capnts decode`.
 */
import { spawnSync } from "node:child_process";

export class CapnpMissingError extends Error {
  override name = "CapnpMissingError";
  constructor() {
    super(
      "The `capnp` schema compiler was not found on PATH. Install Cap'n Proto: on Debian/Ubuntu " +
        "`apt-get install capnproto` (package `capnproto`), on macOS `brew install capnp`, or see " +
        "https://capnproto.org/install.html.",
    );
  }
}

export interface CapnpResult {
  status: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Run `capnp` with `args`; throws CapnpMissingError when it is not installed. */
export function runCapnp(
  args: readonly string[],
  options: { input?: Uint8Array; env?: NodeJS.ProcessEnv; inherit?: boolean } = {},
): CapnpResult {
  const r = spawnSync(process.env.CAPNP ?? "capnp", args, {
    input: options.input,
    env: options.env ?? process.env,
    stdio: options.inherit ? ["inherit", "inherit", "inherit"] : ["pipe", "pipe", "pipe"],
    maxBuffer: 1 << 30,
  });
  if (r.error !== undefined) {
    if ((r.error as NodeJS.ErrnoException).code === "ENOENT") throw new CapnpMissingError();
    throw r.error;
  }
  return {
    status: r.status ?? 1,
    stdout: r.stdout === null ? new Uint8Array(0) : new Uint8Array(r.stdout),
    stderr: r.stderr === null ? "" : r.stderr.toString(),
  };
}

/** True when `capnp` can be run. */
export function haveCapnp(): boolean {
  try {
    return runCapnp(["--version"]).status === 0;
  } catch (e) {
    if (e instanceof CapnpMissingError) return false;
    throw e;
  }
}

/**
 * capnp's error text without its "capnp compile: " prefix and its "Try 'capnp compile --help'"
 * line (the user ran capnts, not capnp compile).
 */
export function capnpMessage(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !/^Try 'capnp [a-z]+ --help' for more information\.$/.test(l))
    .map((l) => l.replace(/^capnp compile: /, ""))
    .join("\n")
    .trim();
}
