# Imported by all.capnp: a relative import.
@0xd5c2b0b1e4a3f701;

struct Imported {
  # A struct from another file.
  value @0 :Int32 = 7;
  nested @1 :Nested;
  struct Nested { x @0 :Text; }
}

enum Level { low @0; high @1; }

const importedConst :UInt16 = 1234;

annotation fileNote(file, struct) :Text;
