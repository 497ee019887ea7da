export const OUT: string;
/** Compiles dist/ and the hostile bench's server; returns the compiled server program's path. */
export function buildHostileServer(): string;
