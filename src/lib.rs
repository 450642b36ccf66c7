//! stancekit: label the sentences of news articles by stance and sentiment.
//!
//! The pipeline: [`text`] turns a sentence into terms, [`tfidf`] into a sparse TF-IDF row,
//! and each [`classifier::Head`] (a linfa-logistic multinomial model) into a label with class
//! probabilities. A [`model::Model`] bundles the features and heads in one file that `train`,
//! `predict` and `eval` share.
//!
//! ```no_run
//! let model = stancekit::model::Model::shipped()?;
//! let predictions = model.predict(&["We are ready for talks if they are serious."]);
//! for (head, prediction) in model.heads().iter().zip(&predictions[0]) {
//!     println!("{}: {}", head.name, head.classes()[prediction.label]);
//! }
//! # Ok::<(), stancekit::Error>(())
//! ```

pub mod classifier;
pub mod cli;
pub mod cv;
pub mod data;
pub mod design;
pub mod error;
pub mod eval;
pub mod inputs;
pub mod lexicon;
pub mod metrics;
pub mod model;
pub mod output;
pub mod plot;
pub mod predict;
pub mod report;
pub mod search;
pub mod sentences;
pub mod speakers;
pub mod summary;
pub mod text;
pub mod tfidf;

pub use error::{Error, Result};
