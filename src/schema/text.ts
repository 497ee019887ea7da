import type { StructView } from "../wire/index.js";
export interface SchemaFile {
  readonly id: bigint;
  readonly nodes: string;
  readonly imports: () => readonly SchemaFile[];
}
export function structToString(_s: StructView, typeId: bigint, _file: SchemaFile): string {
  return `<struct 0x${typeId.toString(16)}>`;
}
