//! Prediction over many inputs: articles are read, attributed to speakers and labeled in
//! parallel, a batch of whole articles at a time; tables stream in chunks. Results reach the
//! caller in input order, so memory stays bounded and the output is the same for any number of
//! threads.

use rayon::prelude::*;

use crate::classifier::HeadPrediction;
use crate::data::{Columns, InputFormat, Record, RecordReader, Source};
use crate::error::Result;
use crate::model::Model;
use crate::speakers::{self, Attribution};

/// Sentences of a table read and labeled together; bounds memory and keeps all cores busy.
pub const CHUNK_SIZE: usize = 4096;

/// Articles labeled together, per worker thread: enough to keep every core busy on short
/// articles, few enough to bound memory on long ones.
pub const ARTICLES_PER_THREAD: usize = 8;

/// Options of a prediction run.
#[derive(Clone, Debug)]
pub struct PredictOptions {
    /// The format of every input; `None` guesses it from each file's extension (standard input
    /// is read as a plain-text article).
    pub input_format: Option<InputFormat>,
    /// Text and id columns of tabular inputs.
    pub columns: Columns,
    /// Add the top N contributing terms per head to each prediction (0: no explanation).
    pub explain: usize,
}

impl PredictOptions {
    /// The format `source` is read as.
    pub fn format_of(&self, source: &Source) -> InputFormat {
        self.input_format.unwrap_or_else(|| match source {
            Source::Path(path) => InputFormat::from_path(path),
            Source::Stdin => InputFormat::Text,
        })
    }
}

/// One labeled sentence: the record, who speaks in it, and one prediction per head (in the
/// model's head order).
#[derive(Clone, Debug)]
pub struct LabeledSentence {
    pub record: Record,
    pub attribution: Attribution,
    pub predictions: Vec<HeadPrediction>,
}

/// Receives the labeled sentences of every input, in input order.
pub trait Sink {
    /// The next sentences of `source`, in order: an article arrives whole, a table in chunks.
    /// `last` is true on the final call for `source` (its sentences may then be empty).
    fn sentences(&mut self, source: &Source, sentences: Vec<LabeledSentence>, last: bool) -> Result<()>;
}

/// Labels every sentence of `sources` with the threads of `pool` and hands them to `sink` in
/// input order; `done` is called once per finished input (from any thread). Articles get
/// speakers from [`speakers::attribute`] over the whole article; each row of a table is
/// attributed on its own (a pronoun there has nothing to refer to, so only named attributions
/// give a speaker). Returns the number of sentences.
pub fn predict_sources(
    model: &Model,
    sources: &[Source],
    options: &PredictOptions,
    sink: &mut dyn Sink,
    pool: &rayon::ThreadPool,
    done: &(dyn Fn() + Sync),
) -> Result<usize> {
    let batch = (pool.current_num_threads() * ARTICLES_PER_THREAD).max(1);
    let mut written = 0;
    let mut next = 0;
    while next < sources.len() {
        if options.format_of(&sources[next]).is_tabular() {
            written += predict_table(model, &sources[next], options, sink, pool)?;
            done();
            next += 1;
            continue;
        }
        let end = (next..sources.len())
            .take(batch)
            .take_while(|&i| !options.format_of(&sources[i]).is_tabular())
            .last()
            .map_or(next + 1, |i| i + 1);
        let labeled: Vec<Result<Vec<LabeledSentence>>> = pool.install(|| {
            sources[next..end]
                .par_iter()
                .map(|source| {
                    let result = label_article(model, source, options);
                    done();
                    result
                })
                .collect()
        });
        for (source, sentences) in sources[next..end].iter().zip(labeled) {
            let sentences = sentences?;
            written += sentences.len();
            sink.sentences(source, sentences, true)?;
        }
        next = end;
    }
    Ok(written)
}

/// Reads, attributes and labels one article.
pub fn label_article(model: &Model, source: &Source, options: &PredictOptions) -> Result<Vec<LabeledSentence>> {
    let records: Vec<Record> = RecordReader::open(source, InputFormat::Text, &options.columns)?.collect::<Result<_>>()?;
    let attributions = speakers::attribute(records.iter().map(|r| (r.text.as_str(), r.line)));
    let predictions = predict_records_explained(model, &records, options.explain);
    Ok(labeled_sentences(records, attributions, predictions))
}

/// Joins records with their attributions and predictions, in order.
fn labeled_sentences(
    records: Vec<Record>,
    attributions: Vec<Attribution>,
    predictions: Vec<Vec<HeadPrediction>>,
) -> Vec<LabeledSentence> {
    records
        .into_iter()
        .zip(attributions)
        .zip(predictions)
        .map(|((record, attribution), predictions)| LabeledSentence {
            record,
            attribution,
            predictions,
        })
        .collect()
}

/// Streams a table through three stages that overlap: a thread reads chunks, a thread labels
/// each chunk with the threads of `pool`, and the caller's thread hands labeled chunks to `sink`.
/// Channels of two chunks between the stages keep memory bounded and the order fixed, so the
/// output is the same for any number of threads; only the labeling stage is parallel, and
/// reading and writing no longer wait for it.
fn predict_table(
    model: &Model,
    source: &Source,
    options: &PredictOptions,
    sink: &mut dyn Sink,
    pool: &rayon::ThreadPool,
) -> Result<usize> {
    let reader = RecordReader::open(source, options.format_of(source), &options.columns)?;
    std::thread::scope(|scope| {
        let (chunk_sender, chunks) = std::sync::mpsc::sync_channel::<Result<Vec<Record>>>(2);
        let (labeled_sender, labeled) = std::sync::mpsc::sync_channel::<Result<Vec<LabeledSentence>>>(2);
        scope.spawn(move || {
            let mut reader = reader;
            loop {
                let chunk: Result<Vec<Record>> = reader.by_ref().take(CHUNK_SIZE).collect();
                let end = matches!(&chunk, Ok(c) if c.is_empty()) || chunk.is_err();
                // A closed channel means the writer stopped (an error downstream): stop too.
                if chunk_sender.send(chunk).is_err() || end {
                    return;
                }
            }
        });
        scope.spawn(move || {
            for chunk in chunks {
                let sentences = chunk.map(|chunk| pool.install(|| label_chunk(model, chunk, options.explain)));
                let end = matches!(&sentences, Ok(s) if s.is_empty()) || sentences.is_err();
                if labeled_sender.send(sentences).is_err() || end {
                    return;
                }
            }
        });
        let mut written = 0;
        for sentences in labeled {
            let sentences = sentences?;
            if sentences.is_empty() {
                sink.sentences(source, Vec::new(), true)?;
                return Ok(written);
            }
            written += sentences.len();
            sink.sentences(source, sentences, false)?;
        }
        unreachable_end()
    })
}

/// The labeling stage ends only after sending an empty chunk or an error, both handled above.
fn unreachable_end() -> Result<usize> {
    Err(crate::error::Error::Settings("the labeling stage stopped before the end of the input".into()))
}

/// Attributes and labels one chunk of table rows; each row is attributed on its own.
fn label_chunk(model: &Model, chunk: Vec<Record>, explain: usize) -> Vec<LabeledSentence> {
    let (predictions, attributions) = rayon::join(
        || predict_records_explained(model, &chunk, explain),
        || {
            chunk
                .par_iter()
                .map(|r| speakers::attribute([(r.text.as_str(), 0)]).remove(0))
                .collect::<Vec<_>>()
        },
    );
    labeled_sentences(chunk, attributions, predictions)
}

/// Labels records in parallel; the result follows the input order.
pub fn predict_records(model: &Model, records: &[Record]) -> Vec<Vec<HeadPrediction>> {
    predict_records_explained(model, records, 0)
}

/// Labels records in parallel, each prediction with its `top` contributing terms (none when 0).
pub fn predict_records_explained(model: &Model, records: &[Record], top: usize) -> Vec<Vec<HeadPrediction>> {
    records
        .par_iter()
        .map_init(
            || model.features().tokenizer(),
            |tokenizer, record| {
                let row = model.features().transform_one(tokenizer, &record.text);
                if top == 0 {
                    model.predict_row(&row)
                } else {
                    model.predict_row_explained(&row, top)
                }
            },
        )
        .collect()
}
