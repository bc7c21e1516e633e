//! turbogen: the `gen` generator as a library, so the binary and the tests share one pipeline.
//!
//! The pipeline has four stages, each with one typed seam: [`spec`] parses what the user wrote,
//! [`lower`] makes every naming decision once, [`render`] turns the model into files without
//! touching the disk, and [`write`] plans the writes, removals and [`inject`]ions of a run and
//! applies them. Around them: [`fs`] is the only module that reads or writes the disk, behind
//! one trait; [`project`] reads an app back from `gen.toml` and `specs/` and renders it whole;
//! [`check`] compares an app with that rendering; [`report`] prints what a run did or found;
//! [`commands`] composes the stages into each subcommand of [`cli`].

pub mod base;
pub mod check;
pub mod cli;
pub mod commands;
pub mod error;
pub mod evolve;
pub mod fs;
pub mod history;
pub mod inject;
pub mod layout;
pub mod lower;
pub mod merge;
pub mod model;
pub mod naming;
pub mod project;
pub mod render;
pub mod report;
pub mod spec;
#[cfg(test)]
mod testing;
pub mod types;
pub mod write;
