# capnts's copy of the Cap'n Proto schema `/capnp/schema.capnp` (upstream: capnproto/capnproto,
# c++/src/capnp/schema.capnp, 1.x, MIT licensed). Wire-identical to upstream: the same file ID,
# type IDs, names, fields, ordinals, defaults and annotations. The comments are capnts's own.

using Cxx = import "/capnp/c++.capnp";

@0xa93fc509624c72d9;
# The compiled form of schemas. `capnp compile` parses .capnp files and hands a code generator
# plugin a `CodeGeneratorRequest` on stdin: every node (file, struct, enum, interface, const,
# annotation) it loaded, with IDs, layouts and default values already worked out. capnts's plugin
# (capnpc-capnts) reads it with the bindings generated from this file; its schema loader and text
# format work on the same nodes.
#
# The fields added after 0.9.2 (`Node.startByte`/`endByte`, `SourceInfo.startByte`/`endByte`,
# `RequestedFile.fileSourceInfo`) are not filled in by the 0.9.2 compiler; readers see them as
# zero/null.

$Cxx.namespace("capnp::schema");

using Id = UInt64;
# A 64-bit ID, unique across all schemas: file IDs are chosen by the author (`@0x...;`), nested
# declarations without an explicit ID derive theirs from their parent's ID and name.

struct Node {
  # One declaration: a file, struct (or group), enum, interface, const or annotation.

  id @0 :Id;

  displayName @1 :Text;
  # A human-readable name such as "capnp/rpc.capnp:Call.sendResultsTo". For messages and logs:
  # the format is not stable and the name not unique.

  displayNamePrefixLength @2 :UInt32;
  # Length of the part of `displayName` that names the enclosing scope; what follows is the
  # node's own name.

  scopeId @3 :Id;
  # The node this one is declared in (its parent); zero for files and for the parameter and
  # result structs of methods declared with inline parameter lists. Groups name their struct
  # here but are not among its `nestedNodes`.

  parameters @32 :List(Parameter);
  # This node's own generic parameters (`struct Map(Key, Value)`); empty when it declares none.

  isGeneric @33 :Bool;
  # Whether this node or any node it is nested in has generic parameters.

  struct Parameter {
    # A generic parameter.

    name @0 :Text;
  }

  nestedNodes @4 :List(NestedNode);
  # The declarations nested directly in this one, by name (groups and method parameter structs
  # excluded).

  struct NestedNode {
    name @0 :Text;
    # The name under which the node is declared in this scope (usable in generated code).

    id @1 :Id;
    # The nested node's ID.
  }

  annotations @5 :List(Annotation);
  # The annotations applied to this declaration.

  union {
    # What kind of declaration this is.

    file @6 :Void;

    struct :group {
      dataWordCount @7 :UInt16;
      # Size of the data section in 64-bit words.

      pointerCount @8 :UInt16;
      # Number of pointers in the pointer section.

      preferredListEncoding @9 :ElementSize;
      # The element size a `List(ThisStruct)` could use: `inlineComposite`, unless the struct
      # fits in one word or less. (Encoders in practice, C++'s included, write every struct list
      # as inlineComposite; readers accept the smaller sizes too.)

      isGroup @10 :Bool;
      # The node is a group or named union inside a struct, not a struct of its own. `scopeId`
      # names the enclosing struct (or group). A group has no layout of its own: its fields use
      # the data and pointer sections of the enclosing struct, and its `dataWordCount` and
      # `pointerCount` are that struct's. A named union is a group whose only content is an
      # unnamed union.

      discriminantCount @11 :UInt16;
      # Number of fields in this scope's unnamed union (0 when there is none, otherwise at least
      # 2). Those fields overlap, and the 16-bit discriminant at `discriminantOffset` holds the
      # `discriminantValue` of the one that is set.

      discriminantOffset @12 :UInt32;
      # Where the discriminant is, in 16-bit units from the start of the data section (meaningful
      # only when `discriminantCount` is non-zero).

      fields @13 :List(Field);
      # The fields of this scope, in ordinal order. An unnamed union's fields are listed here,
      # with their discriminant values; a group appears as one field pointing at its own node.
      # Since groups share the ordinal numbering of their struct, a field's index here is not its
      # ordinal; the index is nevertheless stable as the schema evolves.
    }

    enum :group {
      enumerants@14 :List(Enumerant);
      # The enumerants, in order of value (the value is the index).
    }

    interface :group {
      methods @15 :List(Method);
      # The methods, in ordinal order (the ordinal is the index, used as `Call.methodId`).

      superclasses @31 :List(Superclass);
      # The interfaces this one extends.
    }

    const :group {
      type @16 :Type;
      value @17 :Value;
    }

    annotation :group {
      # An annotation's declaration: its value type and the kinds of declaration it may be
      # applied to.

      type @18 :Type;

      targetsFile @19 :Bool;
      targetsConst @20 :Bool;
      targetsEnum @21 :Bool;
      targetsEnumerant @22 :Bool;
      targetsStruct @23 :Bool;
      targetsField @24 :Bool;
      targetsUnion @25 :Bool;
      targetsGroup @26 :Bool;
      targetsInterface @27 :Bool;
      targetsMethod @28 :Bool;
      targetsParam @29 :Bool;
      targetsAnnotation @30 :Bool;
    }
  }

  startByte @34 :UInt32;
  endByte @35 :UInt32;
  # Where the declaration is in its source file, as a byte range (newer compilers; 0.9.2 leaves
  # both zero).

  struct SourceInfo {
    # What a code generator may want about a node besides its schema: its documentation (and,
    # from compilers newer than 0.9.2, its position). The request carries these apart from the
    # nodes (`CodeGeneratorRequest.sourceInfo`), so that runtime schema data does not include
    # them.

    id @0 :Id;
    # The node described.

    docComment @1 :Text;
    # The node's doc comment: the comment lines that directly follow its declaration, with the
    # leading `#` (and one space) removed.

    members @2 :List(Member);
    # One entry per member, parallel to `struct.fields`, `enum.enumerants` or
    # `interface.methods` of the node.

    struct Member {
      docComment @0 :Text;
      # The member's doc comment.
    }

    startByte @3 :UInt32;
    endByte @4 :UInt32;
    # The declaration's byte range in its source file (newer compilers).
  }
}

struct Field {
  # A field of a struct or group.

  name @0 :Text;

  codeOrder @1 :UInt16;
  # The field's position among its scope's members in the source text (0, 1, 2, ...). Members of
  # an unnamed union are numbered among that union's members only. Tools that print fields for
  # people (text format, JSON) use this order.

  annotations @2 :List(Annotation);

  const noDiscriminant :UInt16 = 0xffff;
  # The `discriminantValue` of a field that is not in a union.

  discriminantValue @3 :UInt16 = Field.noDiscriminant;
  # For a field of the unnamed union: the discriminant value that says this field is set.
  # `noDiscriminant` for other fields.

  union {
    slot :group {
      # A field stored in the struct itself (anything but a group).

      offset @4 :UInt32;
      # The field's position in its section, in units of its own size: bits for Bool, bytes for
      # 8-bit types, and so on, pointers for pointer types. Void fields take no space.

      type @5 :Type;
      defaultValue @6 :Value;
      # Data fields are stored XORed with their default, so a zeroed struct reads as the defaults;
      # pointer fields read as the default when the pointer is null.

      hadExplicitDefault @10 :Bool;
      # The schema gave `= value`. Without one, the default is zero/empty. Matters mainly for
      # method parameters, where an explicitly defaulted parameter may be left out by callers.
    }

    group :group {
      # A group or named union.

      typeId @7 :Id;
      # The group's node (a struct node with `isGroup` set).
    }
  }

  ordinal :union {
    implicit @8 :Void;
    explicit @9 :UInt16;
    # The `@N` written in the schema (groups and unions have none: `implicit`). Kept so that the
    # schema text can be reproduced; to number fields, use the index in `fields`.
  }
}

struct Enumerant {
  # One value of an enum.

  name @0 :Text;

  codeOrder @1 :UInt16;
  # Position in the source text, as `Field.codeOrder`.

  annotations @2 :List(Annotation);
}

struct Superclass {
  # An interface extended by another, with the brand (generic arguments) it is extended with.

  id @0 :Id;
  brand @1 :Brand;
}

struct Method {
  # A method of an interface.

  name @0 :Text;

  codeOrder @1 :UInt16;
  # Position in the source text, as `Field.codeOrder`.

  implicitParameters @7 :List(Node.Parameter);
  # The method's own generic parameters (`foo @0 [T] (x :T)`), meant to be inferred by the
  # caller's language rather than spelled out.

  paramStructType @2 :Id;
  # The struct holding the parameters. For an inline parameter list `(a :T, b :U)` the compiler
  # makes an anonymous struct: it has `scopeId` zero and is in no `nestedNodes`, yet it shares the
  # generic parameters of the interface (so its generic parameters cannot be found by walking
  # scope IDs).

  paramBrand @5 :Brand;
  # Generic arguments applied to `paramStructType`.

  resultStructType @3 :Id;
  # The struct holding the results, like `paramStructType`. For `-> stream` methods this is
  # stream.capnp's `StreamResult`.

  resultBrand @6 :Brand;
  # Generic arguments applied to `resultStructType`.

  annotations @4 :List(Annotation);
}

struct Type {
  # A type as written in a schema (a field's, a constant's, a list's elements, ...).

  union {
    # The ordinals are the same as in `Value`.

    void @0 :Void;
    bool @1 :Void;
    int8 @2 :Void;
    int16 @3 :Void;
    int32 @4 :Void;
    int64 @5 :Void;
    uint8 @6 :Void;
    uint16 @7 :Void;
    uint32 @8 :Void;
    uint64 @9 :Void;
    float32 @10 :Void;
    float64 @11 :Void;
    text @12 :Void;
    data @13 :Void;

    list :group {
      elementType @14 :Type;
    }

    enum :group {
      typeId @15 :Id;
      brand @21 :Brand;
    }
    struct :group {
      typeId @16 :Id;
      brand @22 :Brand;
    }
    interface :group {
      typeId @17 :Id;
      brand @23 :Brand;
    }

    anyPointer :union {
      unconstrained :union {
        # AnyPointer or one of its narrower forms, not tied to a generic parameter.

        anyKind @18 :Void;       # AnyPointer
        struct @25 :Void;        # AnyStruct
        list @26 :Void;          # AnyList
        capability @27 :Void;    # Capability
      }

      parameter :group {
        # A generic parameter of an enclosing scope.

        scopeId @19 :Id;
        # The generic node that declares the parameter: the current scope or one of its
        # ancestors.

        parameterIndex @20 :UInt16;
        # Index into that node's `parameters`.
      }

      implicitMethodParameter :group {
        # A generic parameter of a method (`Method.implicitParameters`). Appears only inside a
        # method's `paramBrand` or `resultBrand`.

        parameterIndex @24 :UInt16;
      }
    }
  }
}

struct Brand {
  # The arguments bound to generic parameters where a generic type is used. A brand turns a
  # generic type into a concrete one.

  scopes @0 :List(Scope);
  # Bindings per generic scope: the used type or any scope it is nested in. A scope with
  # parameters but no entry here has all its parameters bound to AnyPointer.

  struct Scope {
    scopeId @0 :Id;
    # The generic node whose parameters this entry binds.

    union {
      bind @1 :List(Binding);
      # One binding per parameter, in parameter order.

      inherit @2 :Void;
      # The use is inside the scope itself (or a scope nested in it), and its parameters stay
      # what they are there: equivalent to binding each parameter to itself. E.g. inside
      # `struct Outer(T)`, a field of type `Inner` inherits, while `Outer(T).Inner` binds T to T;
      # both name the same type.
    }
  }

  struct Binding {
    union {
      unbound @0 :Void;
      # Not bound: reads as AnyPointer.

      type @1 :Type;
      # Bound to this type (always a pointer type).
    }
  }
}

struct Value {
  # A value written in a schema: a default, a constant, or an annotation's argument.

  union {
    # The ordinals are the same as in `Type`.

    void @0 :Void;
    bool @1 :Bool;
    int8 @2 :Int8;
    int16 @3 :Int16;
    int32 @4 :Int32;
    int64 @5 :Int64;
    uint8 @6 :UInt8;
    uint16 @7 :UInt16;
    uint32 @8 :UInt32;
    uint64 @9 :UInt64;
    float32 @10 :Float32;
    float64 @11 :Float64;
    text @12 :Text;
    data @13 :Data;

    list @14 :AnyPointer;

    enum @15 :UInt16;
    struct @16 :AnyPointer;

    interface @17 :Void;
    # Interface values cannot be written in a schema; the only one is null.

    anyPointer @18 :AnyPointer;
  }
}

struct Annotation {
  # An annotation applied to a declaration (the annotation's own declaration is a Node with
  # `annotation` set).

  id @0 :Id;
  # The annotation's node.

  brand @2 :Brand;
  # Generic arguments of the scope the annotation is declared in (annotations themselves take no
  # parameters).

  value @1 :Value;
}

enum ElementSize {
  # The element size of a list pointer (its 3-bit size field): these are the values it can take.

  empty @0;    # Void elements (0 bits)
  bit @1;
  byte @2;
  twoBytes @3;
  fourBytes @4;
  eightBytes @5;
  pointer @6;
  inlineComposite @7;
}

struct CapnpVersion {
  # A Cap'n Proto release, e.g. 0.9.2.

  major @0 :UInt16;
  minor @1 :UInt8;
  micro @2 :UInt8;
}

struct CodeGeneratorRequest {
  # What `capnp compile -o<plugin>` writes to the plugin's stdin (one message, standard framing).

  capnpVersion @2 :CapnpVersion;
  # The compiler's version (set since 0.6; null means older). Plugins normally ignore it.

  nodes @0 :List(Node);
  # Every node the compiler loaded: those of the requested files and of everything they import.

  sourceInfo @3 :List(Node.SourceInfo);
  # Doc comments (and positions) of nodes; may lack some nodes, or be absent altogether.

  requestedFiles @1 :List(RequestedFile);
  # The files named on the command line, which the plugin should generate code for.

  struct RequestedFile {
    id @0 :Id;
    # The file's node.

    filename @1 :Text;
    # The path as given on the command line, less `--src-prefix`. Plugins derive output paths
    # from it.

    imports @2 :List(Import);
    # Every import in the file.

    struct Import {
      id @0 :Id;
      # The imported file's node.

      name @1 :Text;
      # The import as written, e.g. "/capnp/c++.capnp" or "other.capnp" (relative). Lets a
      # generator write the matching import in its output.
    }
    fileSourceInfo @3 :FileSourceInfo;
    # Identifier positions in the file (newer compilers), for editor tooling.

    struct FileSourceInfo {
      identifiers @0 :List(Identifier);

      struct Identifier {
        # One use of a name in the source: its byte range and what it resolves to.

        startByte @0 :UInt32;
        endByte @1 :UInt32;

        union {
          typeId @2 :UInt64;
          # The name is a type: its ID.

          member :group {
            # The name is a member of a type.
            parentTypeId @3 :UInt64;
            ordinal @4 :UInt16;
          }
        }
      }
    }
  }
}
