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
use crate::design::{self, Design};
use crate::tfidf::{SparseRow, TfidfSettings, Vectorizer};
use crate::text::TextPipeline;

/// The `format` field of every stancekit model file.
pub const FORMAT_NAME: &str = "stancekit-model";
/// The newest model format version this build reads and writes. Version 2 added lexicon
/// features ([`crate::lexicon`]); a model without them is still written as version 1, so that
/// older stancekit builds keep reading it.
pub const FORMAT_VERSION: u32 = 2;

/// The model shipped with stancekit, trained on the corpus in `data/` (see models/README.md), in
/// the binary format because it loads in a little over half the time of the JSON next to it.
pub static SHIPPED_MODEL: &[u8] = include_bytes!("../models/stancekit-news.bin");

/// The first bytes of a binary model file; a MessagePack encoding of the same fields as the JSON
/// follows. A binary byte, so that no text file starts with it.
pub const BINARY_MAGIC: &[u8] = b"\x89stancekit-model\n";

/// The two encodings of a model file. Both hold the same fields and load to the same model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFileFormat {
    /// JSON: readable, diffable, the default.
    Json,
    /// [`BINARY_MAGIC`] then MessagePack: half the size and a little under twice as fast to
    /// load, because numbers are stored as bits rather than as decimal text.
    Binary,
}

impl ModelFileFormat {
    /// The format a model file is written in: binary when the name ends in `.bin`, else JSON.
    pub fn for_path(path: &Path) -> ModelFileFormat {
        match path.extension() {
            Some(extension) if extension.eq_ignore_ascii_case("bin") => ModelFileFormat::Binary,
            _ => ModelFileFormat::Json,
        }
    }
}
/// The name the shipped model goes by in messages.
pub const SHIPPED_MODEL_NAME: &str = "<shipped model stancekit-news>";

/// The memory the dense training matrices may take when `STANCEKIT_MEMORY_BUDGET` is not set
/// and the available memory cannot be read: 4 GiB.
pub const DEFAULT_MEMORY_BUDGET: u64 = 4 << 30;

/// The environment variable that sets the memory budget of training, as a size such as `4GiB`,
/// `512M`, `1.5G` or a plain number of bytes (K, M, G, T and KiB, MiB, GiB, TiB are powers of
/// 1024; KB, MB, GB, TB powers of 1000).
pub const MEMORY_BUDGET_VARIABLE: &str = "STANCEKIT_MEMORY_BUDGET";

/// The memory budget of training: `STANCEKIT_MEMORY_BUDGET` when set, else
/// [`default_memory_budget`].
pub fn memory_budget() -> Result<u64> {
    match std::env::var(MEMORY_BUDGET_VARIABLE) {
        Ok(value) => parse_size(&value).ok_or_else(|| {
            Error::Settings(format!(
                "{MEMORY_BUDGET_VARIABLE}='{value}' is not a size such as 4GiB, 512M or 1000000 (bytes)"
            ))
        }),
        Err(std::env::VarError::NotPresent) => Ok(default_memory_budget()),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::Settings(format!(
            "{MEMORY_BUDGET_VARIABLE} is not valid UTF-8"
        ))),
    }
}

/// The budget when `STANCEKIT_MEMORY_BUDGET` is not set: four fifths of the memory the system
/// says is available now (`MemAvailable` in /proc/meminfo), so that a run that would not fit stops
/// with advice instead of being killed, and a large machine is used; [`DEFAULT_MEMORY_BUDGET`]
/// where that cannot be read (systems without /proc/meminfo).
pub fn default_memory_budget() -> u64 {
    budget_for(available_memory())
}

fn budget_for(available: Option<u64>) -> u64 {
    available.map_or(DEFAULT_MEMORY_BUDGET, |bytes| bytes / 5 * 4)
}

/// `MemAvailable` from /proc/meminfo, in bytes.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemAvailable:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let amount: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => amount.checked_mul(1024),
        _ => None,
    }
}

/// Parses a size: a number of bytes with an optional unit (see [`MEMORY_BUDGET_VARIABLE`]).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return None,
    };
    let bytes = number * multiplier;
    (bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Shows a byte count to people: "512 B", "3.2 MiB", "5.00 GiB".
fn human_bytes(bytes: u128) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

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
    /// The cross-validated search that chose the settings, when `train --search` ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<crate::search::SearchSummary>,
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
    /// The sorted, distinct classes of head number `head` (empty labels left out).
    pub fn classes(&self, head: usize) -> Vec<String> {
        let mut classes: Vec<String> = self.heads[head].1.iter().flatten().cloned().collect();
        classes.sort();
        classes.dedup();
        classes
    }

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
    /// that have a label for it, within the memory budget of [`memory_budget`]
    /// (`STANCEKIT_MEMORY_BUDGET`, by default four fifths of the available memory).
    pub fn train(
        data: &TrainingData,
        settings: &TrainSettings,
        on_event: &mut (dyn FnMut(TrainEvent<'_>) + Send),
    ) -> Result<Model> {
        let budget = memory_budget()?;
        Model::train_within(data, settings, budget, on_event)
    }

    /// [`Model::train`] with an explicit memory budget in bytes for the matrices that
    /// linfa-logistic fits on (see [`Design`]). When they would need more, training stops before allocating
    /// them, with an [`Error::Settings`] that names the size and a `--max-features` and a
    /// `--min-df` that would fit.
    pub fn train_within(
        data: &TrainingData,
        settings: &TrainSettings,
        memory_budget: u64,
        on_event: &mut (dyn FnMut(TrainEvent<'_>) + Send),
    ) -> Result<Model> {
        settings.validate()?;
        if data.heads.is_empty() {
            return Err(Error::Settings(
                "no label column given; name one with --label-column".into(),
            ));
        }
        check_heads(data)?;
        let started = Instant::now();
        let features = Vectorizer::fit(&settings.pipeline, &settings.tfidf, &data.texts)?;
        let rows = features.transform(&data.texts);
        check_memory(data, settings, &rows, features.len(), memory_budget)?;
        on_event(TrainEvent::Vocabulary {
            terms: features.len(),
            seconds: started.elapsed().as_secs_f64(),
        });

        // Heads are fitted in parallel on one design of all rows (a head with unlabeled rows
        // takes its labeled rows from it). Events reach the caller through a lock, one at a time.
        let n_rows = data.texts.len();
        let design = Design::new(&rows, features.len());
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
                let head = if labeled.len() == n_rows {
                    Head::fit(name, &design, &head_labels, &settings.classifier, &mut report_round)?
                } else {
                    let head_design = design.select(&labeled);
                    Head::fit(name, &head_design, &head_labels, &settings.classifier, &mut report_round)?
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
            format_version: if features.settings().lexicon_weight.is_some() { 2 } else { 1 },
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            features,
            heads,
            training: TrainingSummary {
                data_file: data.data_file.clone(),
                data_sha256: data.data_sha256.clone(),
                rows: data.texts.len(),
                text_column: data.text_column.clone(),
                settings: settings.clone(),
                search: None,
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

    /// Records the search that chose this model's settings.
    pub fn set_search(&mut self, search: crate::search::SearchSummary) {
        self.training.search = Some(search);
    }

    /// The model format version of this model (see [`FORMAT_VERSION`]).
    pub fn format_version(&self) -> u32 {
        self.format_version
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
                    .map(|(feature, c)| (self.features.display_name(feature), c))
                    .collect();
                prediction
            })
            .collect()
    }

    /// The model as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a model always serializes")
    }

    /// The model in the binary format: [`BINARY_MAGIC`] then MessagePack with named fields.
    pub fn to_binary(&self) -> Vec<u8> {
        let mut bytes = BINARY_MAGIC.to_vec();
        rmp_serde::encode::write_named(&mut bytes, self).expect("a model always serializes");
        bytes
    }

    /// The model's bytes in `format`.
    pub fn to_bytes(&self, format: ModelFileFormat) -> Vec<u8> {
        match format {
            ModelFileFormat::Json => self.to_json(),
            ModelFileFormat::Binary => self.to_binary(),
        }
    }

    /// Writes the model to `path` atomically, in the format its name asks for
    /// ([`ModelFileFormat::for_path`]): a temporary file in the same directory, flushed, then
    /// renamed over `path`. A failed or interrupted save leaves any earlier file intact.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomically(path, &self.to_bytes(ModelFileFormat::for_path(path)))
    }

    /// Loads a model file of either format (told apart by its first bytes, not its name).
    pub fn load(path: &Path) -> Result<Model> {
        if path.is_dir() {
            return Err(Error::model(path, "is a directory, expected a model file"));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading model", e))?;
        Model::from_bytes(&bytes, path)
    }

    /// The model shipped inside the binary.
    pub fn shipped() -> Result<Model> {
        Model::from_bytes(SHIPPED_MODEL, Path::new(SHIPPED_MODEL_NAME))
    }

    /// Parses a model file of either format; `name` is used in messages.
    pub fn from_bytes(bytes: &[u8], name: &Path) -> Result<Model> {
        if let Some(payload) = bytes.strip_prefix(BINARY_MAGIC) {
            return Model::from_binary_payload(payload, name);
        }
        if !bytes.is_empty() && BINARY_MAGIC.starts_with(bytes) {
            return Err(Error::model(
                name,
                "is truncated (it ends inside the binary model's header); the file was cut short, so train it again or copy it again",
            ));
        }
        Model::from_json(bytes, name)
    }

    /// Parses the MessagePack that follows [`BINARY_MAGIC`]; `name` is used in messages.
    fn from_binary_payload(payload: &[u8], name: &Path) -> Result<Model> {
        let fail = |message: String| Error::model(name, message);
        let truncated = |e: &rmp_serde::decode::Error| {
            use rmp_serde::decode::Error as Decode;
            matches!(e, Decode::InvalidMarkerRead(io) | Decode::InvalidDataRead(io)
                if io.kind() == std::io::ErrorKind::UnexpectedEof)
        };
        let model: Model = match decode_whole::<Model>(payload) {
            Ok(model) => model,
            Err(model_error) => {
                if model_error.as_ref().is_ok_and(truncated) {
                    return Err(fail(
                        "is truncated (the binary model ends early); the file was cut short, so train it again or copy it again".into(),
                    ));
                }
                // As for JSON: the envelope says whether this is a foreign or newer file.
                if let Ok(envelope) = decode_whole::<Envelope>(payload) {
                    envelope.check().map_err(fail)?;
                }
                let reason = match model_error {
                    Ok(e) => e.to_string(),
                    Err(extra) => format!("{extra} bytes follow the model"),
                };
                return Err(fail(format!("is a stancekit binary model but is damaged: {reason}")));
            }
        };
        model.loaded().map_err(fail)
    }

    /// Parses model JSON; `name` is used in messages.
    pub fn from_json(bytes: &[u8], name: &Path) -> Result<Model> {
        let fail = |message: String| Error::model(name, message);
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(fail(
                "is empty, not a stancekit model; train one with `stancekit train` or omit --model to use the shipped one".into(),
            ));
        }
        // The happy path parses once; only a file that is not a model of this version is parsed
        // again, for its envelope, to say precisely what it is.
        let model: Model = match serde_json::from_slice(bytes) {
            Ok(model) => model,
            Err(model_error) => {
                let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
                    if e.is_eof() || (e.is_syntax() && error_at_end(bytes, &e)) {
                        fail(format!(
                            "is truncated ({e}); the file was cut short, so train it again or copy it again"
                        ))
                    } else if e.is_syntax() {
                        fail(format!("is not a stancekit model: it is not valid JSON ({e})"))
                    } else {
                        fail(format!("is not a stancekit model ({e})"))
                    }
                })?;
                envelope.check().map_err(fail)?;
                return Err(fail(format!("is a stancekit model but is damaged: {model_error}")));
            }
        };
        model.loaded().map_err(fail)
    }

    /// The checks every parsed model goes through, whatever its encoding: a version this build
    /// reads, the vocabulary index rebuilt, and weights and settings that cannot misbehave.
    fn loaded(mut self) -> std::result::Result<Model, String> {
        check_envelope(Some(&self.format), Some(self.format_version), Some(&self.crate_version))?;
        self.features.rebuild_index();
        self.check().map_err(|m| format!("is damaged: {m}"))?;
        Ok(self)
    }

    fn check(&self) -> std::result::Result<(), String> {
        self.features.check()?;
        if self.heads.is_empty() {
            return Err("it has no heads".into());
        }
        let mut names = std::collections::HashSet::new();
        for head in &self.heads {
            head.check(self.features.len())?;
            if head.name.trim().is_empty() {
                return Err("a head has no name".into());
            }
            if !names.insert(head.name.as_str()) {
                return Err(format!("it has two heads named '{}'", head.name));
            }
            let mut classes = std::collections::HashSet::new();
            if let Some(twice) = head.classes().iter().find(|c| !classes.insert(c.as_str())) {
                return Err(format!("head '{}' lists the class '{twice}' twice", head.name));
            }
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

/// The name of the training file in messages.
fn data_name(data: &TrainingData) -> String {
    if data.data_file.is_empty() {
        "the training data".to_string()
    } else {
        data.data_file.clone()
    }
}

/// Refuses, before any work, a head whose column is empty in every row or holds one class.
fn check_heads(data: &TrainingData) -> Result<()> {
    for (name, labels) in &data.heads {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for label in labels.iter().flatten() {
            *counts.entry(label.as_str()).or_insert(0) += 1;
        }
        let fail = |message: String| {
            Err(Error::Training {
                head: name.clone(),
                message,
            })
        };
        match counts.len() {
            0 => {
                return fail(format!(
                    "the column '{name}' of {} is empty in every row; fill it in or drop --label-column {name}",
                    data_name(data)
                ))
            }
            1 => {
                let (only, n) = counts.into_iter().next().expect("one class");
                return fail(format!(
                    "all {n} labeled rows of {} have the class '{only}'; a classifier needs at least two classes",
                    data_name(data)
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Rows the matrices of a training run hold besides the design of all rows: a copy of its
/// labeled rows for each head with unlabeled ones, and the replicated rows of each head with
/// balanced class weights. Heads train in parallel, so all of them can be alive at once.
/// Returns (extra rows, replicated rows among them).
fn extra_design_rows(data: &TrainingData, settings: &TrainSettings) -> (u128, u128) {
    let n = data.texts.len() as u128;
    let mut replicated = 0;
    let mut extra = 0;
    for (_, labels) in &data.heads {
        let mut counts: BTreeMap<&str, u128> = BTreeMap::new();
        for label in labels.iter().flatten() {
            *counts.entry(label.as_str()).or_insert(0) += 1;
        }
        let labeled: u128 = counts.values().sum();
        if labeled < n {
            extra += labeled;
        }
        if settings.classifier.class_weight == crate::classifier::ClassWeight::Balanced {
            let largest = counts.values().copied().max().unwrap_or(0);
            replicated += largest * counts.len() as u128;
        }
    }
    (extra + replicated, replicated)
}

/// Fails with the size and the settings that would fit when the matrices linfa fits on (see
/// [`Design`] and [`extra_design_rows`]) would take more than `budget` bytes.
fn check_memory(
    data: &TrainingData,
    settings: &TrainSettings,
    rows: &[SparseRow],
    n_features: usize,
    budget: u64,
) -> Result<()> {
    const BYTES: u128 = std::mem::size_of::<f32>() as u128;
    let n = data.texts.len();
    let (extra, replicated) = extra_design_rows(data, settings);
    let columns = design::columns(n, n_features) as u128;
    let needed = design::bytes_needed(n, n_features) + extra * columns * BYTES;
    if needed <= budget as u128 {
        return Ok(());
    }
    let matrix_rows = n as u128 + extra;
    // Dense rows with fewer features; at n features or more the row-space basis takes over,
    // whose size does not shrink with the features.
    let fitting_features = ((budget as u128 / (matrix_rows * BYTES).max(1)) as usize).min(n);
    let mut advice = Vec::new();
    if fitting_features == 0 {
        advice.push(format!(
            "even one feature would not fit with {matrix_rows} matrix rows; train on fewer rows"
        ));
    } else {
        advice.push(format!("--max-features {fitting_features}"));
        // The document frequency of every kept term, to find the --min-df that fits.
        let mut df = vec![0usize; n_features];
        for row in rows {
            for &index in &row.indices {
                df[index as usize] += 1;
            }
        }
        df.sort_unstable_by(|a, b| b.cmp(a));
        // Terms with df >= df[fitting_features] would be more than fit; one more than that works.
        let min_df = df[fitting_features] + 1;
        let kept = df.iter().take_while(|&&d| d >= min_df).count();
        if min_df > settings.tfidf.min_df && kept > 0 {
            advice.push(format!("--min-df {min_df} (keeps {kept} terms)"));
        }
    }
    if settings.classifier.class_weight == crate::classifier::ClassWeight::Balanced {
        advice.push("--class-weight none (saves the replicated rows)".into());
    }
    advice.push(format!("a larger {MEMORY_BUDGET_VARIABLE}"));
    Err(Error::Settings(format!(
        "training {} would need {} for the matrices linfa fits on ({matrix_rows} rows{} x {}), more than the memory budget of {}; what would fit: {}",
        data_name(data),
        human_bytes(needed),
        if replicated > 0 {
            format!(", {replicated} of them replicated for --class-weight balanced")
        } else {
            String::new()
        },
        if design::columns(n, n_features) < n_features {
            format!(
                "{n} columns, a basis of the rows that stands in for {n_features} features, plus the {n} x {n} Gram matrix in f64"
            )
        } else {
            format!("{n_features} features x 4 bytes")
        },
        human_bytes(budget as u128),
        advice.join(", or ")
    )))
}

/// Whether a JSON syntax error sits at the input's last character: a file cut inside a number
/// ("1.5e", "-") fails there as an invalid number rather than as an unexpected end.
fn error_at_end(bytes: &[u8], error: &serde_json::Error) -> bool {
    let content = bytes.trim_ascii_end();
    let line = 1 + content.iter().filter(|&&b| b == b'\n').count();
    let column = content.len() - content.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    error.line() == line && error.column() >= column
}

/// Decodes one MessagePack value that must fill `bytes` exactly: Err(Ok(e)) when it does not
/// decode, Err(Err(n)) when n bytes are left over.
fn decode_whole<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> std::result::Result<T, std::result::Result<rmp_serde::decode::Error, usize>> {
    let mut deserializer = rmp_serde::Deserializer::new(bytes);
    let value = T::deserialize(&mut deserializer).map_err(Ok)?;
    match deserializer.into_inner().len() {
        0 => Ok(value),
        left => Err(Err(left)),
    }
}

/// The fields every model file version has; read when a file does not parse as a model, so that a
/// foreign or newer file gets a precise message instead of a parse error deep inside.
#[derive(Deserialize)]
struct Envelope {
    format: Option<String>,
    format_version: Option<u32>,
    crate_version: Option<String>,
}

impl Envelope {
    fn check(&self) -> std::result::Result<(), String> {
        check_envelope(self.format.as_deref(), self.format_version, self.crate_version.as_deref())
    }
}

/// Checks that a file's envelope fields name a stancekit model of a version this build reads.
fn check_envelope(
    format: Option<&str>,
    format_version: Option<u32>,
    crate_version: Option<&str>,
) -> std::result::Result<(), String> {
    match format {
        Some(FORMAT_NAME) => {}
        Some(other) => return Err(format!("is a '{other}' file, not a stancekit model (format '{FORMAT_NAME}')")),
        None => {
            return Err(format!(
                "is not a stancekit model: it has no \"format\": \"{FORMAT_NAME}\" field"
            ))
        }
    }
    let version = format_version.unwrap_or(0);
    if version > FORMAT_VERSION {
        return Err(format!(
            "uses model format version {version} (written by stancekit {}), but this stancekit {} reads versions up to {FORMAT_VERSION}; upgrade stancekit",
            crate_version.unwrap_or("unknown"),
            env!("CARGO_PKG_VERSION"),
        ));
    }
    if version == 0 {
        return Err("has no valid \"format_version\"; it is damaged".into());
    }
    Ok(())
}

/// Temporary files being written by [`write_atomically`], removed by the Ctrl-C handler.
static UNFINISHED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Makes Ctrl-C (SIGINT) during a save remove the unfinished temporary file before the process
/// ends, with status 130 as a shell reports an interrupted command. Installed on the first
/// save, and only when SIGINT still has its default action: a program that embeds stancekit
/// and handles or ignores SIGINT itself keeps its own handling. Outside a save, Ctrl-C ends
/// the process as before (nothing is left behind then: an earlier model is only ever replaced
/// by a rename).
fn remove_unfinished_files_on_interrupt() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let _ = ctrlc::try_set_handler(|| {
            let unfinished = UNFINISHED.lock().map(|files| files.clone()).unwrap_or_default();
            for file in unfinished {
                let _ = std::fs::remove_file(file);
            }
            eprintln!("stancekit: interrupted");
            std::process::exit(130);
        });
    });
}

/// Checks that [`write_atomically`] could write `path` (not a directory, and a temporary file
/// can be created beside it), so that a long training run can be refused before it starts
/// rather than lost after it ends. Creates nothing that stays.
pub fn check_writable(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::file(path, "is a directory; give a file name for the output"));
    }
    let directory = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".stancekit-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map(drop)
        .map_err(|e| Error::io(path, "creating a temporary file beside", e))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
/// Interrupted with Ctrl-C, it removes the temporary file (see
/// [`remove_unfinished_files_on_interrupt`]); `path` is never left half-written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.is_dir() {
        return Err(Error::file(path, "is a directory; give a file name for the output"));
    }
    let directory = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    remove_unfinished_files_on_interrupt();
    let mut builder = tempfile::Builder::new();
    builder.prefix(".stancekit-").suffix(".tmp");
    // Temporary files are private (0600) by default; the result is an ordinary readable file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut temporary = builder
        .tempfile_in(directory)
        .map_err(|e| Error::io(path, "creating a temporary file beside", e))?;
    let temporary_path = temporary.path().to_path_buf();
    if let Ok(mut files) = UNFINISHED.lock() {
        files.push(temporary_path.clone());
    }
    let result = temporary
        .write_all(bytes)
        .and_then(|_| temporary.as_file().sync_all())
        .map_err(|e| Error::io(path, "writing", e))
        .and_then(|_| {
            temporary
                .persist(path)
                .map(drop)
                .map_err(|e| Error::io(path, "replacing", e.error))
        });
    if let Ok(mut files) = UNFINISHED.lock() {
        files.retain(|f| f != &temporary_path);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy_data() -> TrainingData {
        let texts: Vec<String> = (0..40)
            .map(|i| {
                let topic = ["peace", "war", "grain", "ships", "oil", "gas", "law"][i % 7];
                let when = ["now", "later", "soon", "never", "again", "today", "maybe", "often", "rarely", "always", "twice"];
                format!("talks about {topic} and {}", when[i % 11])
            })
            .collect();
        let stance: Vec<Option<String>> = (0..40).map(|i| Some(["a", "b"][i % 2].to_string())).collect();
        let partial: Vec<Option<String>> = (0..40)
            .map(|i| (i % 4 != 0).then(|| ["x", "y", "y"][i % 3].to_string()))
            .collect();
        TrainingData {
            texts,
            heads: vec![("stance".into(), stance), ("other".into(), partial)],
            data_file: "toy.csv".into(),
            data_sha256: String::new(),
            text_column: "text".into(),
        }
    }

    fn settings() -> TrainSettings {
        TrainSettings {
            tfidf: TfidfSettings {
                min_df: 1,
                ..TfidfSettings::default()
            },
            ..TrainSettings::default()
        }
    }

    #[test]
    fn the_default_budget_follows_the_available_memory() {
        assert_eq!(budget_for(Some(10 << 30)), 8 << 30);
        assert_eq!(budget_for(None), DEFAULT_MEMORY_BUDGET);
        if std::path::Path::new("/proc/meminfo").exists() {
            assert!(available_memory().is_some_and(|bytes| bytes > 0));
        }
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("4GiB"), Some(4 << 30));
        assert_eq!(parse_size("4 g"), Some(4 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1.5K"), Some(1536));
        assert_eq!(parse_size("2GB"), Some(2_000_000_000));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("1e99"), None);
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(5 << 30), "5.00 GiB");
    }

    #[test]
    fn a_tiny_memory_budget_is_refused_with_settings_that_fit() {
        let data = toy_data();
        let error = Model::train_within(&data, &settings(), 1_000, &mut |_| {}).unwrap_err();
        assert!(matches!(error, Error::Settings(_)), "{error:?}");
        let message = error.to_string();
        // 40 shared rows (stance is complete) plus 30 for the partly labeled head.
        assert!(message.contains("training toy.csv would need"), "{message}");
        assert!(message.contains("(70 rows x "), "{message}");
        assert!(message.contains("more than the memory budget of 1000 B"), "{message}");
        // 1000 / (70 x 4) = 3 features.
        assert!(message.contains("--max-features 3"), "{message}");
        let fitting = TrainSettings {
            tfidf: TfidfSettings {
                min_df: 1,
                max_features: Some(3),
                ..TfidfSettings::default()
            },
            ..TrainSettings::default()
        };
        let model = Model::train_within(&data, &fitting, 1_000, &mut |_| {}).unwrap();
        assert_eq!(model.features().len(), 3);
        // Balanced class weights count their replicated rows.
        let mut balanced = fitting.clone();
        balanced.classifier.class_weight = crate::classifier::ClassWeight::Balanced;
        let message = Model::train_within(&data, &balanced, 1_000, &mut |_| {}).unwrap_err().to_string();
        assert!(message.contains("replicated for --class-weight balanced"), "{message}");
        // The default budget is far above this.
        assert!(Model::train_within(&data, &settings(), DEFAULT_MEMORY_BUDGET, &mut |_| {}).is_ok());
    }

    #[test]
    fn heads_without_two_classes_are_refused_before_any_work() {
        let mut data = toy_data();
        data.heads[1].1 = vec![None; 40];
        let message = Model::train_within(&data, &settings(), u64::MAX, &mut |_| {}).unwrap_err().to_string();
        assert!(message.contains("the column 'other' of toy.csv is empty in every row"), "{message}");
        data.heads[1].1 = vec![Some("x".into()); 40];
        let message = Model::train_within(&data, &settings(), u64::MAX, &mut |_| {}).unwrap_err().to_string();
        assert!(message.contains("all 40 labeled rows of toy.csv have the class 'x'"), "{message}");
    }

    #[test]
    fn loading_refuses_models_that_would_misbehave() {
        let model = Model::train_within(&toy_data(), &settings(), u64::MAX, &mut |_| {}).unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&model.to_json()).unwrap();
        let load = |json: &serde_json::Value| Model::from_json(json.to_string().as_bytes(), Path::new("m.json"));
        assert!(load(&json).is_ok());
        json["features"]["pipeline"]["word_ngrams"]["min"] = 0.into();
        assert!(load(&json).unwrap_err().to_string().contains("n-gram range 0-2 is invalid"));
        json["features"]["pipeline"]["word_ngrams"]["min"] = 1.into();
        let first = json["heads"][0].clone();
        json["heads"].as_array_mut().unwrap().push(first);
        assert!(load(&json).unwrap_err().to_string().contains("two heads named 'stance'"));
    }

    #[test]
    fn a_model_file_cut_anywhere_is_reported_as_truncated() {
        let model = Model::train_within(&toy_data(), &settings(), u64::MAX, &mut |_| {}).unwrap();
        // Every cut, including ones inside JSON numbers ("1.5e", "-") and literals and inside the
        // binary header.
        for (name, bytes) in [("m.json", model.to_json()), ("m.bin", model.to_binary())] {
            for cut in (1..bytes.len()).step_by(5).chain(bytes.len() - 20..bytes.len()) {
                let error = Model::from_bytes(&bytes[..cut], Path::new(name)).unwrap_err().to_string();
                assert!(error.contains("is truncated"), "{name} cut at {cut} of {}: {error}", bytes.len());
            }
        }
    }

    #[test]
    fn binary_and_json_files_hold_the_same_model() {
        let model = Model::train_within(&toy_data(), &settings(), u64::MAX, &mut |_| {}).unwrap();
        let binary = model.to_binary();
        assert!(binary.starts_with(BINARY_MAGIC));
        assert!(binary.len() < model.to_json().len());
        let loaded = Model::from_bytes(&binary, Path::new("m.bin")).unwrap();
        // Every number survives exactly: the JSON of the reloaded model is byte-identical.
        assert_eq!(loaded.to_json(), model.to_json());
        assert_eq!(loaded.to_binary(), binary);
        let texts = ["talks about peace now", "war and ships again"];
        assert_eq!(loaded.predict(&texts), model.predict(&texts));

        let dir = tempfile::tempdir().unwrap();
        for (name, format) in [("m.bin", ModelFileFormat::Binary), ("M.BIN", ModelFileFormat::Binary), ("m.json", ModelFileFormat::Json), ("model", ModelFileFormat::Json)] {
            let path = dir.path().join(name);
            assert_eq!(ModelFileFormat::for_path(&path), format, "{name}");
            model.save(&path).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), model.to_bytes(format), "{name}");
            assert_eq!(Model::load(&path).unwrap().to_json(), model.to_json(), "{name}");
        }
    }

    #[test]
    fn the_shipped_binary_model_is_the_committed_json_model() {
        let json = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/stancekit-news.json")).unwrap();
        assert!(Model::shipped().unwrap().to_json() == json, "run `stancekit convert models/stancekit-news.json models/stancekit-news.bin`");
    }

    #[test]
    fn binary_files_of_newer_versions_or_other_programs_are_named_as_such() {
        let model = Model::train_within(&toy_data(), &settings(), u64::MAX, &mut |_| {}).unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&model.to_json()).unwrap();
        let binary = |json: &serde_json::Value| {
            let mut bytes = BINARY_MAGIC.to_vec();
            bytes.extend(rmp_serde::to_vec_named(json).unwrap());
            Model::from_bytes(&bytes, Path::new("m.bin"))
        };
        assert!(binary(&json).is_ok());
        json["format_version"] = 99.into();
        json["heads"] = "changed in version 99".into();
        let error = binary(&json).unwrap_err().to_string();
        assert!(error.contains("format version 99") && error.contains("upgrade"), "{error}");
        json["format"] = "other-program".into();
        let error = binary(&json).unwrap_err().to_string();
        assert!(error.contains("not a stancekit model"), "{error}");
        let error = Model::from_bytes(&[BINARY_MAGIC, b"\xc1"].concat(), Path::new("m.bin")).unwrap_err().to_string();
        assert!(error.contains("is a stancekit binary model but is damaged"), "{error}");
        let longer = [model.to_binary(), b"tail".to_vec()].concat();
        let error = Model::from_bytes(&longer, Path::new("m.bin")).unwrap_err().to_string();
        assert!(error.contains("is a stancekit binary model but is damaged: 4 bytes follow the model"), "{error}");
    }

    #[test]
    fn saving_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let error = write_atomically(&dir.path().join("missing/m.json"), b"x").unwrap_err();
        assert!(error.to_string().contains("missing/m.json"), "{error}");
        assert!(check_writable(&path).is_ok());
        assert!(check_writable(&dir.path().join("missing/m.json")).is_err());
        assert!(check_writable(dir.path()).unwrap_err().to_string().contains("is a directory"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let pending = UNFINISHED.lock().unwrap();
        assert!(!pending.iter().any(|file| file.starts_with(dir.path())), "{pending:?}");
    }
}
