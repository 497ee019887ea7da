/**
 * The numbers of the encoding (list element sizes, pointer kinds) as plain constants, in a
 * module that imports nothing: a bundler inlines such a constant where it is used (esbuild does
 * not when the declaring module imports anything, since an import cycle could read it before
 * its declaration ran), and drops the declaration.
 */

// List element sizes as plain constants: the runtime compares with these.
export const SIZE_VOID = 0;
export const SIZE_BIT = 1;
export const SIZE_BYTE = 2;
export const SIZE_TWO_BYTES = 3;
export const SIZE_FOUR_BYTES = 4;
export const SIZE_EIGHT_BYTES = 5;
export const SIZE_POINTER = 6;
export const SIZE_INLINE_COMPOSITE = 7;

/**
 * List element sizes, as encoded in list pointers (C++ `ElementSize`). An object, not an `enum`:
 * tsc compiles an enum to a statement a bundler must keep even when nothing uses it.
 */
export const ElementSize = {
  VOID: SIZE_VOID,
  BIT: SIZE_BIT,
  BYTE: SIZE_BYTE,
  TWO_BYTES: SIZE_TWO_BYTES,
  FOUR_BYTES: SIZE_FOUR_BYTES,
  EIGHT_BYTES: SIZE_EIGHT_BYTES,
  POINTER: SIZE_POINTER,
  INLINE_COMPOSITE: SIZE_INLINE_COMPOSITE,
} as const;
export type ElementSize = (typeof ElementSize)[keyof typeof ElementSize];

/** Pointer kinds (the low two bits of a pointer's first word). */
export const KIND_STRUCT = 0;
export const KIND_LIST = 1;
export const KIND_FAR = 2;
export const KIND_OTHER = 3;
