// Types of test/interop/build.mjs (a plain Node script, so that it runs without a TS loader).

/** The apt-get command that installs what the C++ fixtures need. */
export declare const INSTALL_HINT: string;

/** Names of the interop fixture programs (in the directory buildInterop() resolves to). */
export declare const interopPrograms: readonly string[];

/** Names of the benchmark programs (in the directory buildBench() resolves to). */
export declare const benchPrograms: readonly string[];

/** Thrown (as a rejection) when g++, capnp or the Cap'n Proto C++ library is missing. */
export declare class ToolchainError extends Error {}

export interface BuildOptions {
  /** Rebuild even what is up to date. */
  force?: boolean;
}

/**
 * Builds, when stale, test-server, test-client, calculator-server and calculator-client into
 * test/interop/build/ and resolves to that directory. Rejects with a ToolchainError whose message
 * names `apt-get install -y capnproto libcapnp-dev g++ pkg-config` when the toolchain is missing.
 */
export declare function buildInterop(options?: BuildOptions): Promise<{ binDir: string }>;

/** Builds, when stale, bench-echo-server and bench-echo-client into bench/build/. */
export declare function buildBench(options?: BuildOptions): Promise<{ binDir: string }>;

/** Null when the C++ toolchain is present; otherwise a message saying what is missing and how to install it. */
export declare function toolchainProblem(): Promise<string | null>;
