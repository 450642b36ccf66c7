//! The crate's one error type: every message names the file, the line and the problem.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in stancekit, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed at the operating-system level.
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A data file has a problem on a given line.
    #[error("{path} line {line}: {message}")]
    Data {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// A data file as a whole is unusable (no rows, a missing column, ...).
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },

    /// A model file cannot be used.
    #[error("{path}: {message}")]
    Model { path: PathBuf, message: String },

    /// A setting or a combination of arguments is invalid.
    #[error("{0}")]
    Settings(String),

    /// Fitting a classifier failed inside linfa.
    #[error("training head '{head}': {message}")]
    Training { head: String, message: String },

    /// Writing results to standard output failed because the reader went away.
    #[error("broken pipe")]
    BrokenPipe,
}

impl Error {
    /// An I/O failure on `path` while doing `action` ("reading", "creating", ...).
    pub fn io(path: impl AsRef<Path>, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            action,
            source,
        }
    }

    /// A problem on one line of a data file.
    pub fn data(path: impl AsRef<Path>, line: u64, message: impl Into<String>) -> Self {
        Error::Data {
            path: path.as_ref().to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A problem with a data file as a whole.
    pub fn file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::File {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// A problem with a model file.
    pub fn model(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Model {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// Maps a write error on standard output: a closed pipe is not a failure of ours.
    pub fn stdout(source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::io("<stdout>", "writing", source)
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
