//! nocall: walks a web portal as a first-time user does, in a real browser, with only what
//! that user holds, and reports each trap with its evidence and its price in support calls.
//!
//! The pipeline, one module a stage:
//! scenario files → [`scenario`] → [`runner`] (Chromium) → [`trace`] → [`checks`] (+ [`probe`])
//! → rank → [`report`]. [`pipeline`] runs it end to end; the binary only parses arguments
//! and prints. What is `pub` here is what the binary, the tests and a program using the
//! library need; everything else is crate-private, and `unreachable_pub` keeps it so.

#![warn(unreachable_pub)]

// The stages, and the pipeline that runs them.
pub mod checks;
pub mod pipeline;
pub mod probe;
pub mod report;
pub mod runner;
pub mod scenario;

// The data passed between them, and its inputs.
pub mod config;
pub mod diagnostic;
pub mod finding;
pub mod mail;
pub mod phones;
pub mod trace;
pub use secrets::Secrets;

// What is done with a report afterwards.
pub mod baseline;
pub mod evidence;
pub mod explain;
pub mod files;
pub mod gate;

// Commands that help write the inputs.
pub mod init;
pub mod limits;
pub mod terminal;
pub mod validate;

mod normalize;
mod rank;
mod secrets;
mod volatile;
