//! turbogen: the `gen` generator as a library, so the binary and the tests share one pipeline.
//!
//! The pipeline has four stages, each with one typed seam: [`spec`] parses what the user wrote,
//! [`lower`] makes every naming decision once, [`render`] turns the model into files without
//! touching the disk, and [`write`] is the only stage that reads or writes it.

pub mod cli;
pub mod commands;
pub mod error;
pub mod inject;
pub mod layout;
pub mod lower;
pub mod model;
pub mod naming;
pub mod project;
pub mod render;
pub mod spec;
pub mod types;
pub mod write;
