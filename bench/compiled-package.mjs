// The package.json of a directory holding tsc's output of this repository (rootDir: the
// repository, so src/ lands in <dir>/src): ESM, and package.json's subpath imports (#platform,
// #tracking-env) mapped to the compiled Node variants, which the compiled sources import.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export function compiledPackageJson() {
  const { imports } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const map = {};
  for (const [name, target] of Object.entries(imports ?? {})) {
    map[name] = target["capnts-source"].default.replace(/\.ts$/, ".js");
  }
  return `${JSON.stringify({ type: "module", private: true, imports: map }, null, 2)}\n`;
}
