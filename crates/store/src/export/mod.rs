//! `warroom audit export`: the log as JSON lines (one record per line, with hashes), and the
//! post-mortem as markdown or as one self-contained HTML page with charts.
//!
//! `data` gathers what the log says (folded with the console's own `apply`, plus every
//! reading over the whole log), `doc` words the post-mortem's sections and tables once for
//! both formats, and `markdown`, `html` (with `chart`) and `jsonl` each write one format.
//! What is judged (peaks, success criteria, time at each step, over-target) comes from the
//! engine's rules; the formats only format.

mod chart;
mod data;
mod doc;
mod html;
mod jsonl;
mod markdown;

pub use data::fold;
pub use html::html;
pub use jsonl::jsonl;
pub use markdown::markdown;
