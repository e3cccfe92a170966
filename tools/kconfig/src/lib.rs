//! The Kconfig language as the kernel's scripts/kconfig (Linux 6.12) and Buildroot's
//! support/kconfig read it: the preprocessor, the parser, the symbol model, the value
//! evaluation (`olddefconfig`), the explanation of a value, and `.config` files.
//! No command-line parsing here: the binaries under `tools/b4k*` do that.

pub mod dotconfig;
pub mod eval;
pub mod explain;
pub mod kernel;
pub mod model;
pub mod parse;
pub mod preprocess;
