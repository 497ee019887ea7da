// Types of bench/cpp-serialization/build.mjs (a plain Node script, so that it runs without a TS
// loader), for the smoke test.

/** Where the C++ program and its build stamp are written. */
export declare const CPP_OUT: string;

/** The apt-get command that installs what the C++ program needs. */
export declare const INSTALL_HINT: string;

/** Thrown when g++, capnp or the Cap'n Proto C++ library is missing. */
export declare class ToolchainError extends Error {}

/** Null when the toolchain is there; otherwise what is missing and how to install it. */
export declare function toolchainProblem(): string | null;

/** Compiles the TS driver with tsc; returns the path of its main.js. */
export declare function buildTs(): string;

/** Builds bench/cpp/serialization-read.c++ when stale; returns the program's path. */
export declare function buildCpp(options?: { force?: boolean }): string;
