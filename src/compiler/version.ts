/** The capnts version, named in generated files' headers (a test keeps it equal to package.json). */
export const VERSION = "0.1.0";
