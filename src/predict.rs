//! Streaming prediction: reads sentences in chunks, labels each chunk in parallel and writes
//! the results in input order, so memory stays bounded whatever the input size.

use rayon::prelude::*;

use crate::classifier::HeadPrediction;
use crate::data::{Columns, InputFormat, Record, RecordReader, Source};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::output::PredictionWriter;

/// Sentences read and labeled together; bounds memory and keeps all cores busy.
pub const CHUNK_SIZE: usize = 4096;

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

/// Labels every sentence of `sources`, in order, through `writer`, with the threads of `pool`.
/// Returns the number of sentences written.
pub fn predict_sources(
    model: &Model,
    sources: &[Source],
    options: &PredictOptions,
    writer: &mut dyn PredictionWriter,
    pool: &rayon::ThreadPool,
) -> Result<usize> {
    let mut written = 0;
    for source in sources {
        let format = options.input_format.unwrap_or_else(|| match source {
            Source::Path(path) => InputFormat::from_path(path),
            Source::Stdin => InputFormat::Text,
        });
        let mut reader = RecordReader::open(source, format, &options.columns)?;
        loop {
            let chunk: Vec<Record> = reader
                .by_ref()
                .take(CHUNK_SIZE)
                .collect::<Result<_>>()?;
            if chunk.is_empty() {
                break;
            }
            let predictions = pool.install(|| predict_records_explained(model, &chunk, options.explain));
            for (record, predictions) in chunk.iter().zip(predictions) {
                writer.write(record, &predictions).map_err(Error::stdout)?;
            }
            written += chunk.len();
        }
    }
    writer.finish().map_err(Error::stdout)?;
    Ok(written)
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
