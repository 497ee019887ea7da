/** Types of bench/bundle/programs.mjs (imported by the package tests). */
export declare const READING_SCHEMA: string;
export declare const SERIALIZE_PROGRAM: string;
export declare const CLIENT_PROGRAM: string;
