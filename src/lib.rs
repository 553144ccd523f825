//! nocall: walks a web portal as a first-time user does, in a real browser, with only what
//! that user holds, and reports each trap with its evidence and its price in support calls.
//!
//! The pipeline, one module a stage:
//! scenario files → [`scenario`] → [`runner`] (Chromium) → [`trace`] → [`checks`] (+ [`probe`])
//! → rank → [`report`].

#![warn(unreachable_pub)]

pub mod baseline;
pub mod checks;
pub mod config;
pub mod diagnostic;
pub mod evidence;
pub mod explain;
pub mod finding;
pub mod gate;
pub mod mail;
mod normalize;
pub mod phones;
pub mod pipeline;
pub mod probe;
mod rank;
pub mod report;
pub mod runner;
pub mod scenario;
mod secrets;
pub mod trace;

pub use secrets::Secrets;
