/** A command line the `capnts` command cannot make sense of: exit status 2 and a hint to `--help`. */
export class UsageError extends Error {
  override name = "UsageError";
}
