//! The model file: features plus one head per label column, trained together, saved atomically
//! and loaded with clear errors for damaged, foreign or newer files.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::classifier::{ClassifierSettings, Head, HeadPrediction};
use crate::data::Record;
use crate::error::{Error, Result};
use crate::tfidf::{to_dense, SparseRow, TfidfSettings, Vectorizer};
use crate::text::{display_term, TextPipeline};

/// The `format` field of every stancekit model file.
pub const FORMAT_NAME: &str = "stancekit-model";
/// The model format version this build writes; it reads this version and older ones.
pub const FORMAT_VERSION: u32 = 1;

/// The model shipped with stancekit, trained on the corpus in `data/` (see models/README.md).
pub static SHIPPED_MODEL: &[u8] = include_bytes!("../models/stancekit-news.json");
/// The name the shipped model goes by in messages.
pub const SHIPPED_MODEL_NAME: &str = "<shipped model stancekit-news>";

/// Every setting of a training run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub pipeline: TextPipeline,
    pub tfidf: TfidfSettings,
    pub classifier: ClassifierSettings,
}

impl TrainSettings {
    /// Checks every setting before any work starts.
    pub fn validate(&self) -> Result<()> {
        self.tfidf.validate()?;
        self.classifier.validate()
    }
}

/// What the model remembers of its training run. Wall-clock times are printed, not stored,
/// so that the same data and settings give the same model bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// File name of the training data (without its directory).
    pub data_file: String,
    /// SHA-256 of the training file's bytes, in hex.
    pub data_sha256: String,
    /// Rows read from the training file.
    pub rows: usize,
    /// The column the sentences came from.
    pub text_column: String,
    /// All settings used.
    pub settings: TrainSettings,
}

/// A trained model: the vectorizer, one head per label column and the training summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Model {
    format: String,
    format_version: u32,
    crate_version: String,
    features: Vectorizer,
    heads: Vec<Head>,
    training: TrainingSummary,
}

/// Progress events of a training run, for a caller that wants to show them.
#[derive(Clone, Debug)]
pub enum TrainEvent<'a> {
    /// The vocabulary is fitted.
    Vocabulary { terms: usize, seconds: f64 },
    /// A head finished a round of iterations.
    Round { head: &'a str, iterations: u64, loss: f64 },
    /// A head is trained.
    HeadDone { head: &'a Head, seconds: f64 },
}

/// Labeled training data: sentences and, per head, one optional label per sentence.
#[derive(Clone, Debug)]
pub struct TrainingData {
    /// The sentences.
    pub texts: Vec<String>,
    /// (head name, label per sentence); `None` where the label is empty.
    pub heads: Vec<(String, Vec<Option<String>>)>,
    /// Summary fields that describe where the data came from.
    pub data_file: String,
    pub data_sha256: String,
    pub text_column: String,
}

impl TrainingData {
    /// Gathers records read with the label columns `head_names` (in that order).
    pub fn from_records(
        records: Vec<Record>,
        head_names: &[String],
        data_file: &str,
        data_sha256: &str,
        text_column: &str,
    ) -> TrainingData {
        let mut heads: Vec<(String, Vec<Option<String>>)> = head_names
            .iter()
            .map(|name| (name.clone(), Vec::with_capacity(records.len())))
            .collect();
        let mut texts = Vec::with_capacity(records.len());
        for record in records {
            for (head, label) in heads.iter_mut().zip(record.labels) {
                head.1.push(label);
            }
            texts.push(record.text);
        }
        TrainingData {
            texts,
            heads,
            data_file: data_file.to_string(),
            data_sha256: data_sha256.to_string(),
            text_column: text_column.to_string(),
        }
    }
}

/// SHA-256 of a file's bytes, in hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, "opening", e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, "reading", e))?;
    Ok(format!("{:x}", hasher.finalize()))
}

impl Model {
    /// Trains the vectorizer on all sentences and one head per label column on the sentences
    /// that have a label for it.
    pub fn train(
        data: &TrainingData,
        settings: &TrainSettings,
        on_event: &mut (dyn FnMut(TrainEvent<'_>) + Send),
    ) -> Result<Model> {
        settings.validate()?;
        if data.heads.is_empty() {
            return Err(Error::Settings(
                "no label column given; name one with --label-column".into(),
            ));
        }
        let started = Instant::now();
        let features = Vectorizer::fit(&settings.pipeline, &settings.tfidf, &data.texts)?;
        let rows = features.transform(&data.texts);
        on_event(TrainEvent::Vocabulary {
            terms: features.len(),
            seconds: started.elapsed().as_secs_f64(),
        });

        // Heads are fitted in parallel; they share one dense matrix when every row is labeled
        // for them. Events reach the caller through a lock, one at a time.
        let n_rows = data.texts.len();
        let full_dense = if data.heads.iter().any(|(_, labels)| labels.iter().all(Option::is_some)) {
            Some(to_dense(&rows, features.len()))
        } else {
            None
        };
        let events = std::sync::Mutex::new(on_event);
        let heads: Vec<Head> = data
            .heads
            .par_iter()
            .map(|(name, labels)| -> Result<Head> {
                let started = Instant::now();
                let labeled: Vec<usize> = (0..n_rows).filter(|&i| labels[i].is_some()).collect();
                if labeled.is_empty() {
                    return Err(Error::Training {
                        head: name.clone(),
                        message: format!("the column '{name}' is empty in every row"),
                    });
                }
                let head_labels: Vec<String> = labeled
                    .iter()
                    .map(|&i| labels[i].clone().expect("filtered to labeled rows"))
                    .collect();
                let mut report_round = |iterations, loss| {
                    let mut on_event = events.lock().expect("no callback panics");
                    (*on_event)(TrainEvent::Round {
                        head: name,
                        iterations,
                        loss,
                    })
                };
                let head = match (&full_dense, labeled.len() == n_rows) {
                    (Some(dense), true) => Head::fit(
                        name,
                        dense.view(),
                        &rows,
                        &head_labels,
                        &settings.classifier,
                        &mut report_round,
                    )?,
                    _ => {
                        let head_rows: Vec<SparseRow> = labeled.iter().map(|&i| rows[i].clone()).collect();
                        let dense = to_dense(&head_rows, features.len());
                        Head::fit(
                            name,
                            dense.view(),
                            &head_rows,
                            &head_labels,
                            &settings.classifier,
                            &mut report_round,
                        )?
                    }
                };
                let mut on_event = events.lock().expect("no callback panics");
                (*on_event)(TrainEvent::HeadDone {
                    head: &head,
                    seconds: started.elapsed().as_secs_f64(),
                });
                Ok(head)
            })
            .collect::<Result<_>>()?;

        Ok(Model {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            features,
            heads,
            training: TrainingSummary {
                data_file: data.data_file.clone(),
                data_sha256: data.data_sha256.clone(),
                rows: data.texts.len(),
                text_column: data.text_column.clone(),
                settings: settings.clone(),
            },
        })
    }

    /// The features (vectorizer).
    pub fn features(&self) -> &Vectorizer {
        &self.features
    }

    /// The heads, in training order.
    pub fn heads(&self) -> &[Head] {
        &self.heads
    }

    /// The head named `name`.
    pub fn head(&self, name: &str) -> Option<&Head> {
        self.heads.iter().find(|h| h.name == name)
    }

    /// The training summary.
    pub fn training(&self) -> &TrainingSummary {
        &self.training
    }

    /// The stancekit version that wrote this model.
    pub fn crate_version(&self) -> &str {
        &self.crate_version
    }

    /// Predicts every head for every text; the outer vector follows `texts`, the inner one
    /// follows [`Model::heads`].
    pub fn predict<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Vec<HeadPrediction>> {
        let tokenizer = self.features.tokenizer();
        texts
            .iter()
            .map(|t| self.predict_row(&self.features.transform_one(&tokenizer, t.as_ref())))
            .collect()
    }

    /// Predicts every head for one TF-IDF row.
    pub fn predict_row(&self, row: &SparseRow) -> Vec<HeadPrediction> {
        self.heads.iter().map(|h| h.predict(row)).collect()
    }

    /// Predicts every head for one TF-IDF row and adds, per head, the `top` terms that pushed
    /// the chosen class up most (weight x feature value > 0).
    pub fn predict_row_explained(&self, row: &SparseRow, top: usize) -> Vec<HeadPrediction> {
        self.heads
            .iter()
            .map(|head| {
                let mut prediction = head.predict(row);
                prediction.terms = head
                    .contributions(row, prediction.label)
                    .into_iter()
                    .filter(|&(_, c)| c > 0.0)
                    .take(top)
                    .map(|(feature, c)| (display_term(&self.features.vocabulary()[feature]), c))
                    .collect();
                prediction
            })
            .collect()
    }

    /// The model as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a model always serializes")
    }

    /// Writes the model to `path` atomically: a temporary file in the same directory, flushed,
    /// then renamed over `path`. A failed or interrupted save leaves any earlier file intact.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomically(path, &self.to_json())
    }

    /// Loads a model file.
    pub fn load(path: &Path) -> Result<Model> {
        if path.is_dir() {
            return Err(Error::model(path, "is a directory, expected a model file"));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading model", e))?;
        Model::from_json(&bytes, path)
    }

    /// The model shipped inside the binary.
    pub fn shipped() -> Result<Model> {
        Model::from_json(SHIPPED_MODEL, Path::new(SHIPPED_MODEL_NAME))
    }

    /// Parses model JSON; `name` is used in messages.
    pub fn from_json(bytes: &[u8], name: &Path) -> Result<Model> {
        let fail = |message: String| Error::model(name, message);
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(fail(
                "is empty, not a stancekit model; train one with `stancekit train` or omit --model to use the shipped one".into(),
            ));
        }
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                fail(format!(
                    "is truncated ({e}); the file was cut short, so train it again or copy it again"
                ))
            } else if e.is_syntax() {
                fail(format!(
                    "is not a stancekit model: it is not valid JSON ({e})"
                ))
            } else {
                fail(format!("is not a stancekit model ({e})"))
            }
        })?;
        match envelope.format.as_deref() {
            Some(FORMAT_NAME) => {}
            Some(other) => {
                return Err(fail(format!(
                    "is a '{other}' file, not a stancekit model (format '{FORMAT_NAME}')"
                )))
            }
            None => {
                return Err(fail(format!(
                    "is JSON but not a stancekit model: it has no \"format\": \"{FORMAT_NAME}\" field"
                )))
            }
        }
        let version = envelope.format_version.unwrap_or(0);
        if version > FORMAT_VERSION {
            return Err(fail(format!(
                "uses model format version {version} (written by stancekit {}), but this stancekit {} reads versions up to {FORMAT_VERSION}; upgrade stancekit",
                envelope.crate_version.as_deref().unwrap_or("unknown"),
                env!("CARGO_PKG_VERSION"),
            )));
        }
        if version == 0 {
            return Err(fail("has no valid \"format_version\"; it is damaged".into()));
        }
        let mut model: Model = serde_json::from_slice(bytes)
            .map_err(|e| fail(format!("is a stancekit model but is damaged: {e}")))?;
        model.features.rebuild_index();
        model.check().map_err(|m| fail(format!("is damaged: {m}")))?;
        Ok(model)
    }

    fn check(&self) -> std::result::Result<(), String> {
        self.features.check()?;
        if self.heads.is_empty() {
            return Err("it has no heads".into());
        }
        for head in &self.heads {
            head.check(self.features.len())?;
        }
        Ok(())
    }

    /// Head name -> classes, for messages.
    pub fn describe_heads(&self) -> BTreeMap<String, Vec<String>> {
        self.heads
            .iter()
            .map(|h| (h.name.clone(), h.classes().to_vec()))
            .collect()
    }
}

/// The fields every model file version has; read first so that a foreign or newer file gets a
/// precise message instead of a parse error deep inside.
#[derive(Deserialize)]
struct Envelope {
    format: Option<String>,
    format_version: Option<u32>,
    crate_version: Option<String>,
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.is_dir() {
        return Err(Error::file(path, "is a directory; give a file name for the output"));
    }
    let directory = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".stancekit-").suffix(".tmp");
    // Temporary files are private (0600) by default; the result is an ordinary readable file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut temporary = builder
        .tempfile_in(directory)
        .map_err(|e| Error::io(path, "creating a temporary file beside", e))?;
    temporary
        .write_all(bytes)
        .and_then(|_| temporary.as_file().sync_all())
        .map_err(|e| Error::io(path, "writing", e))?;
    temporary
        .persist(path)
        .map_err(|e| Error::io(path, "replacing", e.error))?;
    Ok(())
}
