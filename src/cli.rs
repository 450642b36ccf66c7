//! The command-line interface: argument definitions, validation into settings, and the
//! train / predict / report / eval / explain commands built on the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::classifier::{ClassWeight, ClassifierSettings};
use crate::cv::cross_validate;
use crate::data::{self, Columns, InputFormat, Source};
use crate::error::{Error, Result};
use crate::eval::{evaluate, HeadEvaluation};
use crate::model::{sha256_file, Model, TrainEvent, TrainSettings, TrainingData};
use crate::output::{self, OutputFormat, PredictionWriter};
use crate::predict::{predict_sources, LabeledSentence, PredictOptions, Sink};
use crate::report::ReportArticle;
use crate::summary::{Summary, SummaryBuilder};
use crate::text::{NgramRange, StemmerChoice, TextPipeline};
use crate::tfidf::{Norm, TfidfSettings};

/// Label the sentences of news articles by stance and sentiment.
#[derive(Debug, Parser)]
#[command(name = "stancekit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model with one head per label column and write it to a file.
    Train(TrainArgs),
    /// Label sentences of articles or of CSV/TSV/JSONL files, with their speakers; or summarise
    /// each article with --summary.
    Predict(PredictArgs),
    /// Write one self-contained HTML page showing articles coloured by stance, with
    /// probabilities and deciding terms on hover, speakers and stance shares.
    Report(ReportArgs),
    /// List the terms with the largest positive and negative weights per class of every head.
    Explain(ExplainArgs),
    /// Score a model on labeled data (accuracy, per-class metrics, confusion matrix), or
    /// cross-validate training settings with --cv.
    Eval(EvalArgs),
    /// Rewrite a model file in the other format: JSON, or the compact binary format (an output
    /// name ending in .bin) that loads nearly twice as fast. The model is unchanged.
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Labeled sentences: CSV, TSV or JSONL (chosen by extension; see --input-format).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// The column holding the sentences.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub text_column: String,
    /// A label column to learn; repeat for several heads (e.g. stance and sentiment).
    #[arg(long = "label-column", value_name = "NAME", required = true)]
    pub label_columns: Vec<String>,
    /// Where to write the model: JSON, or the compact binary format when the name ends in .bin
    /// (see `stancekit convert`). Written atomically: a failed run keeps the old file.
    #[arg(long, short, value_name = "MODEL")]
    pub output: PathBuf,
    /// Format of --data, when its extension does not say.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten, next_help_heading = "Settings search")]
    pub search: SearchArgs,
    /// Print only the final line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `train --search`: choose settings by cross-validation before the final fit.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Choose --alpha (and, if given, n-gram ranges) by K-fold cross-validation on --data,
    /// then train on all of it with the best; the search table is stored in the model.
    #[arg(long)]
    pub search: bool,
    /// Alphas to try.
    #[arg(long, value_delimiter = ',', default_value = "0.03,0.1,0.3,1,3", value_name = "A,B,...")]
    pub search_alphas: Vec<f64>,
    /// Word n-gram ranges to try [default: the --word-ngrams value].
    #[arg(long, value_delimiter = ',', value_name = "RANGE,...")]
    pub search_word_ngrams: Vec<String>,
    /// Character n-gram ranges to try, "off" included [default: the --char-ngrams value].
    #[arg(long, value_delimiter = ',', value_name = "RANGE|off,...")]
    pub search_char_ngrams: Vec<String>,
    /// Lexicon weights to try, 0 meaning no lexicon features [default: the --lexicon-weight value].
    #[arg(long, value_delimiter = ',', value_name = "W,...")]
    pub search_lexicon_weights: Vec<f32>,
    /// Folds of the search.
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub search_folds: usize,
    /// What the search maximizes (averaged over heads): accuracy, macro-f1, weighted-f1 or
    /// f1-avg:CLASS,CLASS (the mean F1 of those classes, e.g. SemEval-2016's f1-avg:FAVOR,AGAINST).
    #[arg(long, default_value = "macro-f1", value_name = "METRIC")]
    pub metric: String,
    /// Seed of the fold shuffle.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
}

/// Text, feature and classifier settings of `train`.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Word n-gram lengths, MIN-MAX.
    #[arg(long, default_value = "1-2", value_name = "MIN-MAX")]
    pub word_ngrams: String,
    /// Character n-grams inside words, MIN-MAX (e.g. 2-5), or "off".
    #[arg(long, default_value = "off", value_name = "MIN-MAX|off")]
    pub char_ngrams: String,
    /// Do not stem words (default: Snowball English stemming).
    #[arg(long)]
    pub no_stemming: bool,
    /// Keep numbers as they are (default: every token with a digit becomes <num>).
    #[arg(long)]
    pub keep_numbers: bool,
    /// Also mark up to N words after a negation ("not", "never", "without", "-n't", ...) in the
    /// same clause as negated terms ("did not blame them" gives ~blame, ~them); 0 turns it off.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub negation_scope: usize,
    /// With --negation-scope: a negated word replaces the word in the word n-grams ("not
    /// ~blame") instead of adding a ~blame term beside it.
    #[arg(long, requires = "negation_scope")]
    pub negation_replaces: bool,
    /// Keep terms that occur in at least this many training sentences.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub min_df: usize,
    /// Drop terms that occur in more than this fraction of training sentences.
    #[arg(long, default_value_t = 1.0, value_name = "FRACTION")]
    pub max_df: f64,
    /// Keep at most this many terms, the most frequent first.
    #[arg(long, value_name = "N")]
    pub max_features: Option<usize>,
    /// Use raw term counts instead of 1 + ln(count).
    #[arg(long)]
    pub no_sublinear_tf: bool,
    /// Use ln(n / df) + 1 instead of the smoothed ln((1 + n) / (1 + df)) + 1.
    #[arg(long)]
    pub no_smooth_idf: bool,
    /// Row normalization: l2-per-kind divides words and character n-grams by their own norms
    /// (the same as l2 without character n-grams), l2 divides the whole row by one norm.
    #[arg(long, value_enum, default_value = "l2-per-kind")]
    pub norm: Norm,
    /// Add four sentiment-lexicon features (VADER's positive and negative word shares and
    /// overall score) to every sentence, multiplied by W; 0 turns them off. They give a tone to
    /// words the training sentences never used.
    #[arg(long, default_value_t = 0.0, value_name = "W", allow_negative_numbers = true)]
    pub lexicon_weight: f32,
    /// L2 regularization strength (scikit-learn's 1/C); larger means simpler models.
    #[arg(long, default_value_t = 1.0, value_name = "ALPHA")]
    pub alpha: f64,
    /// Most L-BFGS iterations per head.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_iterations: u64,
    /// Stop when the largest gradient component per row is at most this.
    #[arg(long, default_value_t = 1e-4, value_name = "TOL")]
    pub tolerance: f64,
    /// Class weighting: "balanced" makes every class weigh as much as the largest (by
    /// replicating rows of smaller classes; linfa-logistic has no sample weights).
    #[arg(long, value_enum, default_value = "none")]
    pub class_weight: ClassWeight,
}

/// Parses a character n-gram range, where "off" (or "none") means no character n-grams.
fn parse_char_ngrams(text: &str) -> Result<Option<NgramRange>> {
    match text.trim() {
        "off" | "none" | "" => Ok(None),
        range => Ok(Some(NgramRange::parse(range)?)),
    }
}

impl SettingsArgs {
    /// Validates the flags into training settings.
    pub fn to_settings(&self) -> Result<TrainSettings> {
        let char_ngrams = parse_char_ngrams(&self.char_ngrams)?;
        let settings = TrainSettings {
            pipeline: TextPipeline {
                lowercase: true,
                replace_numbers: !self.keep_numbers,
                stemmer: if self.no_stemming {
                    StemmerChoice::None
                } else {
                    StemmerChoice::English
                },
                word_ngrams: NgramRange::parse(&self.word_ngrams)?,
                char_ngrams,
                stop_words: Vec::new(),
                negation_scope: (self.negation_scope > 0).then_some(self.negation_scope),
                negation_replaces: self.negation_replaces,
            },
            tfidf: TfidfSettings {
                min_df: self.min_df,
                max_df: self.max_df,
                max_features: self.max_features,
                sublinear_tf: !self.no_sublinear_tf,
                smooth_idf: !self.no_smooth_idf,
                norm: self.norm,
                lexicon_weight: (self.lexicon_weight != 0.0).then_some(self.lexicon_weight),
            },
            classifier: ClassifierSettings {
                alpha: self.alpha,
                max_iterations: self.max_iterations,
                tolerance: self.tolerance,
                class_weight: self.class_weight,
            },
        };
        settings.validate()?;
        Ok(settings)
    }
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Model file; without it, the model shipped inside stancekit is used.
    #[arg(long, short, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Output format [default: table on a terminal, jsonl otherwise; with --summary, table].
    #[arg(long, short, value_enum)]
    pub format: Option<OutputFormat>,
    /// Add, per head, the terms that pushed the chosen label up most (weight x TF-IDF value).
    #[arg(long)]
    pub explain: bool,
    /// With --explain: how many terms per head.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub top: usize,
    /// Instead of a line per sentence, one summary per input: counts and shares of every label,
    /// the dominant stance of each speaker, and the most confident sentences per stance. A table
    /// unless --format jsonl (one JSON object per input).
    #[arg(long, conflicts_with = "explain")]
    pub summary: bool,
    #[command(flatten)]
    pub inputs: InputsArgs,
}

/// The inputs of `predict` and `report`, and how to read them.
#[derive(Debug, Args)]
pub struct InputsArgs {
    /// Format of every input; by default .csv/.tsv/.jsonl files are tables and anything else
    /// (and standard input) is a plain-text article split into sentences.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// The column holding the sentences in tabular inputs.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub text_column: String,
    /// The column whose value is echoed as the sentence id, when present.
    #[arg(long, default_value = "id", value_name = "NAME")]
    pub id_column: String,
    /// Worker threads [default: all cores]. The output is the same for any value.
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Also read the inputs listed in this file, one path a line (blank lines and lines starting
    /// with # are skipped), after those on the command line.
    #[arg(long, value_name = "LIST")]
    pub files_from: Option<PathBuf>,
    /// Articles (plain text), directories (their .txt files, sorted by name) or sentence files
    /// (CSV, TSV, JSONL); `-` reads standard input. Several inputs are read in parallel and
    /// written in the order given.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
}

impl InputsArgs {
    /// The sources named; standard input when none is named and it is not a terminal.
    fn sources(&self) -> Result<Vec<Source>> {
        gather_sources(&self.inputs, self.files_from.as_deref())
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Model file; without it, the model shipped inside stancekit is used.
    #[arg(long, short, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Where to write the HTML page. Written atomically: a failed run leaves an earlier file
    /// untouched.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// The page's title.
    #[arg(long, default_value = "stancekit report", value_name = "TEXT")]
    pub title: String,
    /// Terms per head shown when hovering a sentence (0: none).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    pub inputs: InputsArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Model file; without it, the shipped model is explained.
    #[arg(long, short, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Terms per class and direction.
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub top: usize,
    /// Only this head.
    #[arg(long, value_name = "NAME")]
    pub head: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The model file to read (JSON or binary).
    #[arg(value_name = "MODEL")]
    pub input: PathBuf,
    /// Where to write it: binary when the name ends in .bin, JSON otherwise. Written atomically.
    #[arg(value_name = "OUTPUT")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model file; without it, the shipped model is evaluated.
    #[arg(long, short, value_name = "MODEL", conflicts_with = "cv")]
    pub model: Option<PathBuf>,
    /// Instead of scoring a model, cross-validate the training settings with K stratified folds
    /// of --data (needs --label-column).
    #[arg(long, value_name = "K", requires = "label_columns")]
    pub cv: Option<usize>,
    /// Seed of the fold shuffle.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
    /// With --cv: a label column to learn; repeat for several heads. Folds are stratified by
    /// the first.
    #[arg(long = "label-column", value_name = "NAME")]
    pub label_columns: Vec<String>,
    #[command(flatten, next_help_heading = "Training settings (with --cv)")]
    pub settings: SettingsArgs,
    /// Labeled sentences (CSV, TSV or JSONL) with a column named after each head to score.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// The column holding the sentences.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub text_column: String,
    /// Format of --data, when its extension does not say.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// Report format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Write a confusion-matrix heatmap and a reliability diagram per head as SVG files into
    /// this directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Exit with status 1 when any head's accuracy is below this.
    #[arg(long, value_name = "FRACTION")]
    pub min_accuracy: Option<f64>,
    /// Exit with status 1 when any head's macro-F1 is below this.
    #[arg(long, value_name = "FRACTION")]
    pub min_macro_f1: Option<f64>,
}

/// How `eval` prints its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

/// How a command ended when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// An eval threshold was not met.
    GateFailed,
}

/// Parses the command line, runs the command and maps the result to an exit code:
/// 0 success, 1 an eval gate failed, 2 an error (message on stderr).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::GateFailed) => ExitCode::from(1),
        Err(Error::BrokenPipe) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stancekit: error: {error}");
            ExitCode::from(2)
        }
    }
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Train(args) => train(args),
        Command::Predict(args) => predict(args),
        Command::Report(args) => report(args),
        Command::Eval(args) => eval(args),
        Command::Explain(args) => explain(args),
        Command::Convert(args) => convert(args),
    }
}

fn convert(args: ConvertArgs) -> Result<Outcome> {
    let model = Model::load(&args.input)?;
    model.save(&args.output)?;
    let format = match crate::model::ModelFileFormat::for_path(&args.output) {
        crate::model::ModelFileFormat::Json => "JSON",
        crate::model::ModelFileFormat::Binary => "binary",
    };
    let size = std::fs::metadata(&args.output).map(|m| m.len()).unwrap_or(0);
    eprintln!("wrote {} ({format}, {:.1} MB)", args.output.display(), size as f64 / 1e6);
    Ok(Outcome::Success)
}

fn load_model(path: Option<&Path>) -> Result<Model> {
    match path {
        Some(path) => Model::load(path),
        None => Model::shipped(),
    }
}

fn data_format(path: &Path, given: Option<InputFormat>) -> InputFormat {
    given.unwrap_or_else(|| InputFormat::from_path(path))
}

/// True when `output` names the same file as `input` (existing or not).
fn same_file(input: &Path, output: &Path) -> bool {
    let canonical = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
            _ => std::env::current_dir().ok()?,
        };
        Some(parent.join(p.file_name()?))
    };
    matches!((canonical(input), canonical(output)), (Some(a), Some(b)) if a == b)
}

fn train(args: TrainArgs) -> Result<Outcome> {
    let started = Instant::now();
    let mut settings = args.settings.to_settings()?;
    let metric: crate::metrics::Metric = args.search.metric.parse()?;
    let space = if args.search.search {
        let word_ngrams = if args.search.search_word_ngrams.is_empty() {
            vec![settings.pipeline.word_ngrams]
        } else {
            args.search.search_word_ngrams.iter().map(|r| NgramRange::parse(r)).collect::<Result<_>>()?
        };
        let char_ngrams = if args.search.search_char_ngrams.is_empty() {
            vec![settings.pipeline.char_ngrams]
        } else {
            args.search.search_char_ngrams.iter().map(|r| parse_char_ngrams(r)).collect::<Result<_>>()?
        };
        let lexicon_weights = if args.search.search_lexicon_weights.is_empty() {
            vec![settings.tfidf.lexicon_weight]
        } else {
            args.search.search_lexicon_weights.iter().map(|&w| (w != 0.0).then_some(w)).collect()
        };
        Some(crate::search::SearchSpace {
            alphas: args.search.search_alphas.clone(),
            word_ngrams,
            char_ngrams,
            lexicon_weights,
        })
    } else {
        None
    };
    if same_file(&args.data, &args.output) {
        return Err(Error::Settings(format!(
            "--output {} is the training file itself; choose another path",
            args.output.display()
        )));
    }
    // Fail now, not after a long training run, when the model cannot be written.
    crate::model::check_writable(&args.output)?;
    let training = read_training_data(&args.data, args.input_format, &args.text_column, &args.label_columns)?;

    let quiet = args.quiet;
    let mut stdout = std::io::stdout().lock();
    let mut lines: Vec<String> = Vec::new();
    if !quiet {
        lines.push(format!(
            "read {} rows from {} (sha256 {})",
            training.texts.len(),
            args.data.display(),
            &training.data_sha256[..16]
        ));
    }
    let search = match &space {
        Some(space) => {
            let bar = progress_bar(0, "search", quiet);
            let summary = crate::search::search(
                &training,
                &settings,
                space,
                &metric,
                args.search.search_folds,
                args.search.seed,
                &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                },
            )?;
            bar.finish_and_clear();
            settings = crate::search::apply(&settings, &summary);
            if !quiet {
                lines.push(summary.to_text().trim_end().to_string());
            }
            Some(summary)
        }
        None => None,
    };
    let mut head_lines: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    // One bar per head, in iterations; hidden when stderr is not a terminal or with --quiet.
    let bars = indicatif::MultiProgress::new();
    let head_bars: Vec<indicatif::ProgressBar> = args
        .label_columns
        .iter()
        .map(|name| {
            let bar = bars.add(indicatif::ProgressBar::new(settings.classifier.max_iterations));
            style_bar(&bar, &format!("training {name}"));
            if quiet {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            bar
        })
        .collect();
    let bar_of = |name: &str| args.label_columns.iter().position(|n| n == name).map(|i| &head_bars[i]);
    let model = Model::train(&training, &settings, &mut |event| match event {
        TrainEvent::Vocabulary { terms, seconds } if !quiet => lines.push(format!(
            "vocabulary: {terms} terms ({}) in {seconds:.2} s",
            describe_features(&settings)
        )),
        TrainEvent::Round {
            head,
            iterations,
            loss,
        } => {
            if let Some(bar) = bar_of(head) {
                bar.set_position(iterations);
                bar.set_message(format!("loss {loss:.4}"));
            }
        }
        TrainEvent::HeadDone { head, seconds } => {
            if let Some(bar) = bar_of(&head.name) {
                bar.finish_and_clear();
            }
            let fit = &head.fit;
            let skipped = training.texts.len() - fit.rows;
            // Heads train in parallel; their lines are printed in --label-column order.
            let order = args.label_columns.iter().position(|n| n == &head.name).unwrap_or(0);
            let lines = head_lines.entry(order).or_default();
            if !quiet {
                lines.push(format!(
                    "head {}: {} classes, {} rows{}; {} iterations ({}), loss {:.4}, training accuracy {:.3}, {:.1} s",
                    head.name,
                    head.classes().len(),
                    fit.rows,
                    if skipped > 0 {
                        format!(" ({skipped} without a label skipped)")
                    } else {
                        String::new()
                    },
                    fit.iterations,
                    if fit.reached_iteration_limit { "iteration limit reached" } else { "converged" },
                    fit.final_loss,
                    fit.training_accuracy,
                    seconds
                ));
                let counts: Vec<String> = fit
                    .rows_per_class
                    .iter()
                    .map(|(class, n)| format!("{class} {n}"))
                    .collect();
                lines.push(format!("  rows per class: {}", counts.join(", ")));
            }
            if fit.reached_iteration_limit {
                eprintln!(
                    "stancekit: warning: head '{}' stopped at the {}-iteration limit with gradient {:.2e} above the tolerance {:.0e}; raise --max-iterations or --tolerance",
                    head.name, fit.iterations, fit.gradient_max, settings.classifier.tolerance
                );
            }
        }
        _ => {}
    })?;
    lines.extend(head_lines.into_values().flatten());
    let mut model = model;
    if let Some(summary) = search {
        model.set_search(summary);
    }
    model.save(&args.output)?;
    let size = std::fs::metadata(&args.output).map(|m| m.len()).unwrap_or(0);
    lines.push(format!(
        "wrote {} ({:.1} MB) in {:.1} s",
        args.output.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    ));
    for line in lines {
        writeln!(stdout, "{line}").map_err(Error::stdout)?;
    }
    Ok(Outcome::Success)
}

/// Reads labeled training rows after checking the label columns and the file's format.
fn read_training_data(
    path: &Path,
    input_format: Option<InputFormat>,
    text_column: &str,
    label_columns: &[String],
) -> Result<TrainingData> {
    let mut seen = std::collections::HashSet::new();
    for name in label_columns {
        if !seen.insert(name) {
            return Err(Error::Settings(format!("--label-column {name} is given twice")));
        }
        if name == text_column {
            return Err(Error::Settings(format!("--label-column {name} is also the text column")));
        }
    }
    if path.is_dir() {
        return Err(Error::file(path, "is a directory, expected a data file"));
    }
    let format = data_format(path, input_format);
    if !format.is_tabular() {
        return Err(Error::file(
            path,
            "is not a CSV, TSV or JSONL file by its extension; training needs labeled rows (set --input-format if the extension is unusual)",
        ));
    }
    let columns = Columns {
        text: text_column.to_string(),
        id: "id".into(),
        labels: label_columns.to_vec(),
    };
    let records = data::read_records(path, format, &columns)?;
    let data_file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(TrainingData::from_records(
        records,
        label_columns,
        &data_file,
        &sha256_file(path)?,
        text_column,
    ))
}

fn cross_validation(args: &EvalArgs, k: usize) -> Result<Outcome> {
    let started = Instant::now();
    let settings = args.settings.to_settings()?;
    let training = read_training_data(&args.data, args.input_format, &args.text_column, &args.label_columns)?;
    let bar = progress_bar(k as u64, "cross-validation folds", false);
    let result = cross_validate(&training, &settings, k, args.seed, &|_| bar.inc(1))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let text = match args.format {
        ReportFormat::Json => {
            let document = serde_json::json!({
                "data": args.data.display().to_string(),
                "rows": training.texts.len(),
                "settings": settings,
                "seconds": seconds,
                "cv": result,
            });
            serde_json::to_string_pretty(&document).expect("reports serialize") + "\n"
        }
        ReportFormat::Table => {
            let mut out = format!(
                "{k}-fold stratified cross-validation (seed {}) of {}, {} rows, {}: {seconds:.1} s\n",
                args.seed,
                args.data.display(),
                training.texts.len(),
                describe_features(&settings),
            );
            for head in &result.heads {
                out.push_str(&format!(
                    "\n== {}\naccuracy     {}\nmacro-F1     {}\nweighted-F1  {}\nF1 per class: {}\ncalibration of pooled held-out probabilities: expected calibration error {:.3}, Brier score {:.3}\n\npooled held-out predictions:\n{}",
                    head.head,
                    head.accuracy,
                    head.macro_f1,
                    head.weighted_f1,
                    head.class_f1
                        .iter()
                        .map(|(class, f1)| format!("{class} {f1}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    head.calibration.expected_calibration_error,
                    head.calibration.brier_score,
                    head.pooled.to_text()
                ));
            }
            out
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).map_err(Error::stdout)?;
    stdout.flush().map_err(Error::stdout)?;
    if let Some(dir) = &args.plot {
        for head in &result.heads {
            let written = crate::plot::write_head_plots(dir, &head.head, &head.pooled, &head.calibration)?;
            report_written(&written);
        }
    }
    let scores: Vec<(&str, f64, f64)> = result
        .heads
        .iter()
        .map(|h| (h.head.as_str(), h.accuracy.mean, h.macro_f1.mean))
        .collect();
    Ok(gate(args, &scores))
}

/// A progress bar on standard error; indicatif draws nothing when stderr is not a terminal,
/// and `hidden` hides it in any case.
fn progress_bar(length: u64, label: &str, hidden: bool) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(length);
    style_bar(&bar, label);
    bar
}

fn style_bar(bar: &indicatif::ProgressBar, label: &str) {
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
}

fn describe_features(settings: &TrainSettings) -> String {
    let pipeline = &settings.pipeline;
    let mut parts = vec![format!("word {}-grams", pipeline.word_ngrams)];
    if let Some(range) = pipeline.char_ngrams {
        parts.push(format!("char {range}-grams"));
    }
    if let Some(scope) = pipeline.negation_scope {
        let mode = if pipeline.negation_replaces { ", replacing" } else { "" };
        parts.push(format!("negation scope {scope}{mode}"));
    }
    if let Some(weight) = settings.tfidf.lexicon_weight {
        parts.push(format!("lexicon weight {weight}"));
    }
    parts.push(format!("min_df {}", settings.tfidf.min_df));
    if let Some(limit) = settings.tfidf.max_features {
        parts.push(format!("max_features {limit}"));
    }
    parts.join(", ")
}

/// The sources named by `inputs` and `files_from`; standard input when none is named and it is
/// not a terminal.
fn gather_sources(inputs: &[String], files_from: Option<&Path>) -> Result<Vec<Source>> {
    if inputs.is_empty() && files_from.is_none() {
        if std::io::stdin().is_terminal() {
            return Err(Error::Settings(
                "no input: name articles, directories or CSV/TSV/JSONL files, give --files-from, or pipe text in with `-`".into(),
            ));
        }
        return Ok(vec![Source::Stdin]);
    }
    crate::inputs::expand(inputs, files_from)
}

fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    let jobs = match jobs {
        Some(0) => return Err(Error::Settings("--jobs must be at least 1".into())),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| Error::Settings(format!("cannot start {jobs} worker threads: {e}")))
}

/// Writes every sentence as it comes.
struct WriterSink<'a> {
    writer: Box<dyn PredictionWriter + 'a>,
}

impl Sink for WriterSink<'_> {
    fn sentences(&mut self, _: &Source, sentences: Vec<LabeledSentence>, _: bool) -> Result<()> {
        for sentence in &sentences {
            self.writer.write(sentence).map_err(Error::stdout)?;
        }
        Ok(())
    }
}

/// Writes one summary per input when its last sentence has come.
struct SummarySink<'a, W: Write> {
    model: &'a Model,
    format: OutputFormat,
    out: W,
    current: Option<SummaryBuilder>,
    written: usize,
}

impl<W: Write> Sink for SummarySink<'_, W> {
    fn sentences(&mut self, source: &Source, sentences: Vec<LabeledSentence>, last: bool) -> Result<()> {
        let builder = self
            .current
            .get_or_insert_with(|| SummaryBuilder::new(self.model, &source.display_name()));
        for sentence in &sentences {
            builder.add(sentence);
        }
        if last {
            let summary = self.current.take().expect("a summary is being built").finish();
            let text = match self.format {
                OutputFormat::Jsonl => serde_json::to_string(&summary.to_json(self.model)).expect("summaries serialize") + "\n",
                _ => {
                    let separator = if self.written > 0 { "\n" } else { "" };
                    format!("{separator}{}", summary.to_table(self.model))
                }
            };
            self.out.write_all(text.as_bytes()).map_err(Error::stdout)?;
            self.written += 1;
        }
        Ok(())
    }
}

/// Gathers whole inputs for the HTML report.
struct ReportSink<'a> {
    model: &'a Model,
    articles: Vec<ReportArticle>,
    pending: Vec<LabeledSentence>,
}

impl Sink for ReportSink<'_> {
    fn sentences(&mut self, source: &Source, sentences: Vec<LabeledSentence>, last: bool) -> Result<()> {
        self.pending.extend(sentences);
        if last {
            let sentences = std::mem::take(&mut self.pending);
            let name = source.display_name();
            let summary = Summary::of(self.model, &name, &sentences);
            self.articles.push(ReportArticle { name, sentences, summary });
        }
        Ok(())
    }
}

fn predict(args: PredictArgs) -> Result<Outcome> {
    let model = load_model(args.model.as_deref())?;
    let sources = args.inputs.sources()?;
    let pool = thread_pool(args.inputs.jobs)?;
    let stdout = std::io::stdout();
    let format = match (args.format, args.summary) {
        (Some(OutputFormat::Csv), true) => {
            return Err(Error::Settings("--summary writes a table or JSON Lines (--format table or jsonl), not CSV".into()))
        }
        (Some(format), _) => format,
        (None, true) => OutputFormat::Table,
        (None, false) if stdout.is_terminal() => OutputFormat::Table,
        (None, false) => OutputFormat::Jsonl,
    };
    if args.explain && args.top == 0 {
        return Err(Error::Settings("--top must be at least 1".into()));
    }
    let options = PredictOptions {
        input_format: args.inputs.input_format,
        columns: Columns::text_only(&args.inputs.text_column, &args.inputs.id_column),
        explain: if args.explain { args.top } else { 0 },
    };
    // The bar goes to standard error; it would garble a table on the same terminal.
    let bar = progress_bar(sources.len() as u64, "inputs", stdout.is_terminal() || sources.len() < 2);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let done = || bar.inc(1);
    if args.summary {
        let mut sink = SummarySink { model: &model, format, out: &mut out, current: None, written: 0 };
        predict_sources(&model, &sources, &options, &mut sink, &pool, &done)?;
    } else {
        let mut sink = WriterSink { writer: output::writer(format, &model, args.explain, &mut out) };
        predict_sources(&model, &sources, &options, &mut sink, &pool, &done)?;
        sink.writer.finish().map_err(Error::stdout)?;
    }
    out.flush().map_err(Error::stdout)?;
    bar.finish_and_clear();
    Ok(Outcome::Success)
}

fn report(args: ReportArgs) -> Result<Outcome> {
    let model = load_model(args.model.as_deref())?;
    let sources = args.inputs.sources()?;
    for source in &sources {
        if let Source::Path(path) = source {
            if same_file(path, &args.output) {
                return Err(Error::file(&args.output, "is also an input; give the report another name"));
            }
        }
    }
    crate::model::check_writable(&args.output)?;
    let pool = thread_pool(args.inputs.jobs)?;
    let options = PredictOptions {
        input_format: args.inputs.input_format,
        columns: Columns::text_only(&args.inputs.text_column, &args.inputs.id_column),
        explain: args.top,
    };
    let bar = progress_bar(sources.len() as u64, "articles", sources.len() < 2);
    let mut sink = ReportSink { model: &model, articles: Vec::new(), pending: Vec::new() };
    let sentences = predict_sources(&model, &sources, &options, &mut sink, &pool, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let model_name = args
        .model
        .as_ref()
        .map_or_else(|| crate::model::SHIPPED_MODEL_NAME.to_string(), |p| p.display().to_string());
    let page = crate::report::render(&model, &model_name, &args.title, &sink.articles);
    crate::model::write_atomically(&args.output, page.as_bytes())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "wrote {} ({} articles, {} sentences, {:.1} MB)",
        args.output.display(),
        sink.articles.len(),
        sentences,
        page.len() as f64 / 1e6
    )
    .map_err(Error::stdout)?;
    Ok(Outcome::Success)
}

fn eval(args: EvalArgs) -> Result<Outcome> {
    for (flag, value) in [("--min-accuracy", args.min_accuracy), ("--min-macro-f1", args.min_macro_f1)] {
        if let Some(v) = value {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::Settings(format!("{flag} must be a fraction between 0 and 1, got {v}")));
            }
        }
    }
    if let Some(k) = args.cv {
        return cross_validation(&args, k);
    }
    let model = load_model(args.model.as_deref())?;
    let format = data_format(&args.data, args.input_format);
    let evaluations = evaluate(&model, &args.data, format, &args.text_column)?;
    let mut stdout = std::io::stdout().lock();
    let text = match args.format {
        ReportFormat::Table => report_text(&evaluations),
        ReportFormat::Json => {
            let heads: serde_json::Map<String, serde_json::Value> = evaluations
                .iter()
                .map(|e| {
                    let mut value = serde_json::to_value(&e.report).expect("reports serialize");
                    value["calibration"] = serde_json::to_value(&e.calibration).expect("serializes");
                    (e.head.clone(), value)
                })
                .collect();
            let document = serde_json::json!({
                "model": args.model.as_ref().map_or("shipped".to_string(), |p| p.display().to_string()),
                "data": args.data.display().to_string(),
                "heads": heads,
            });
            serde_json::to_string_pretty(&document).expect("reports serialize") + "\n"
        }
    };
    stdout.write_all(text.as_bytes()).map_err(Error::stdout)?;
    stdout.flush().map_err(Error::stdout)?;

    if let Some(dir) = &args.plot {
        for evaluation in &evaluations {
            let written = crate::plot::write_head_plots(dir, &evaluation.head, &evaluation.report, &evaluation.calibration)?;
            report_written(&written);
        }
    }
    let scores: Vec<(&str, f64, f64)> = evaluations
        .iter()
        .map(|e| (e.head.as_str(), e.report.accuracy, e.report.macro_avg.f1))
        .collect();
    Ok(gate(&args, &scores))
}

/// Tells on stderr which files were written, so stdout stays the report.
fn report_written(paths: &[PathBuf]) {
    for path in paths {
        eprintln!("wrote {}", path.display());
    }
}

/// Applies the --min-* thresholds to (head, accuracy, macro-F1) scores.
fn gate(args: &EvalArgs, scores: &[(&str, f64, f64)]) -> Outcome {
    let mut failures = Vec::new();
    for &(head, accuracy, macro_f1) in scores {
        if let Some(min) = args.min_accuracy {
            if accuracy < min {
                failures.push(format!("{head} accuracy {accuracy:.4} < {min}"));
            }
        }
        if let Some(min) = args.min_macro_f1 {
            if macro_f1 < min {
                failures.push(format!("{head} macro-F1 {macro_f1:.4} < {min}"));
            }
        }
    }
    if failures.is_empty() {
        Outcome::Success
    } else {
        eprintln!("stancekit: eval gate failed: {}", failures.join("; "));
        Outcome::GateFailed
    }
}

fn explain(args: ExplainArgs) -> Result<Outcome> {
    if args.top == 0 {
        return Err(Error::Settings("--top must be at least 1".into()));
    }
    let model = load_model(args.model.as_deref())?;
    let heads: Vec<&crate::classifier::Head> = match &args.head {
        Some(name) => vec![model.head(name).ok_or_else(|| {
            let names: Vec<&str> = model.heads().iter().map(|h| h.name.as_str()).collect();
            Error::Settings(format!("--head {name}: the model has no such head (heads: {})", names.join(", ")))
        })?],
        None => model.heads().iter().collect(),
    };
    let features = model.features();
    let named = |list: Vec<(usize, f32)>| -> Vec<(String, f32)> {
        list.into_iter()
            .map(|(feature, weight)| (features.display_name(feature), weight))
            .collect()
    };
    let mut document = serde_json::Map::new();
    let mut text = String::new();
    for head in heads {
        let mut classes = serde_json::Map::new();
        text.push_str(&format!("== {}\n", head.name));
        for (class_index, class) in head.classes().iter().enumerate() {
            let (positive, negative) = head.extreme_weights(class_index, args.top);
            let (positive, negative) = (named(positive), named(negative));
            let list = |terms: &[(String, f32)]| {
                terms.iter().map(|(t, w)| format!("{t} {w:+.2}")).collect::<Vec<_>>().join(", ")
            };
            text.push_str(&format!(
                "{class} (intercept {:+.2})\n  for:     {}\n  against: {}\n",
                head.intercept()[class_index],
                list(&positive),
                list(&negative)
            ));
            classes.insert(
                class.clone(),
                serde_json::json!({
                    "intercept": head.intercept()[class_index],
                    "positive": positive.iter().map(|(t, w)| serde_json::json!({"term": t, "weight": w})).collect::<Vec<_>>(),
                    "negative": negative.iter().map(|(t, w)| serde_json::json!({"term": t, "weight": w})).collect::<Vec<_>>(),
                }),
            );
        }
        document.insert(head.name.clone(), classes.into());
    }
    let output = match args.format {
        ReportFormat::Table => text,
        ReportFormat::Json => serde_json::to_string_pretty(&document).expect("serializes") + "\n",
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes()).map_err(Error::stdout)?;
    stdout.flush().map_err(Error::stdout)?;
    Ok(Outcome::Success)
}

fn report_text(evaluations: &[HeadEvaluation]) -> String {
    let mut out = String::new();
    for (i, evaluation) in evaluations.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "== {} ({} rows; accuracy {:.3}, macro-F1 {:.3})\n",
            evaluation.head, evaluation.rows, evaluation.report.accuracy, evaluation.report.macro_avg.f1
        ));
        out.push_str(&evaluation.report.to_text());
        out.push_str(&format!(
            "calibration: expected calibration error {:.3} (10 bins), Brier score {:.3}\n",
            evaluation.calibration.expected_calibration_error, evaluation.calibration.brier_score
        ));
    }
    out
}
