/**
 * Typed errors of the wire layer. Every malformed or hostile input ends in a `DecodeError` whose
 * `code` says what was wrong (the message text follows the C++ wording where C++ has one, so a
 * user searching for the C++ message finds the same cause).
 */

export type DecodeErrorCode =
  /** A pointer points outside its segment, or a segment id does not exist. */
  | "out-of-bounds"
  /** A pointer is malformed (bad far-pointer landing pad, unknown "other" pointer, ...). */
  | "bad-pointer"
  /** The message read more words than ReaderOptions.traversalLimitInWords allows. */
  | "traversal-limit"
  /** Pointers nest deeper than ReaderOptions.nestingLimit. */
  | "nesting-limit"
  /** The message holds a different kind of object than the schema expects here. */
  | "schema-mismatch"
  /** Text is not NUL-terminated, or is otherwise invalid. */
  | "bad-text"
  /** The stream framing (segment table) is malformed. */
  | "bad-framing"
  /** The message has more segments, or more words, than the reader allows. */
  | "too-large"
  /** The input ended in the middle of a message. */
  | "truncated"
  /** Packed input is malformed. */
  | "bad-packed"
  /** A capability pointer refers to no entry of the cap table. */
  | "bad-capability";

export class CapnpError extends Error {
  override name = "CapnpError";
}

/** Raised when bytes cannot be read as a valid Cap'n Proto message. */
export class DecodeError extends CapnpError {
  override name = "DecodeError";
  readonly code: DecodeErrorCode;
  constructor(code: DecodeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Raised when a builder is asked for something the format cannot hold (too many elements, ...). */
export class EncodeError extends CapnpError {
  override name = "EncodeError";
}

/** Shorthand used on hot paths: `throw decodeError(...)` keeps the call sites small. */
export function decodeError(code: DecodeErrorCode, message: string): DecodeError {
  return new DecodeError(code, message);
}

/**
 * Raised when a builder is asked for a union member that is not the active one (C++ builders
 * check the same in debug builds: "Must check which() before get()ing a union member.").
 * Generated builders check before reading a member, because the member's bytes belong to
 * whichever member is active: reading them would give that member's data reinterpreted, or a
 * pointer of the wrong kind. (Readers need no check: their types only offer the active member,
 * after `which` has been tested.) Setting a member makes it the active one.
 */
export class InactiveMemberError extends CapnpError {
  override name = "InactiveMemberError";
  /** The member asked for (`Struct.member`). */
  readonly member: string;
  /** The active member's name (`"_unknown"` for a discriminant this schema does not know). */
  readonly active: string;
  constructor(member: string, active: string) {
    super(`${member} is not the active union member (which is "${active}"); set it first, or check which.`);
    this.member = member;
    this.active = active;
  }
}

/** Generated builders call this when a union member they are asked for is not active. */
export function inactiveMember(member: string, active: string): never {
  throw new InactiveMemberError(member, active);
}
