# Imported by codegen-test.capnp: cross-file references.
@0xe3b1c2d4f5a6b7c8;

struct Imported {
  id @0 :UInt64;
  tags @1 :List(Text);
}
