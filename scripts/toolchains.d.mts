/** Types of scripts/toolchains.mjs (imported by the package tests). */
export declare const CACHE: string;
export declare const TOOLCHAINS: Record<string, [spec: string, executable: string]>;
export declare function toolchainPaths(): Record<string, string | null>;
