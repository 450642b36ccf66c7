//! Writers for predictions, one per output format: a table for people, JSON Lines and CSV for
//! programs, all with the same fields (per head the label and probabilities, and the speaker and
//! mark of each sentence).

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::predict::LabeledSentence;

/// How predictions are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Aligned columns: id, label and probability per head, mark, speaker, sentence.
    Table,
    /// One JSON object per sentence: id, text, per head {label, probabilities}, speaker, mark
    /// and speaker_cue.
    Jsonl,
    /// A header, then one row per sentence: id, text, per head the label, one probability
    /// column per class (`HEAD_p_CLASS`) and, with --explain, `HEAD_terms`; then speaker, mark
    /// and speaker_cue.
    Csv,
}

/// Writes predictions in one format.
pub trait PredictionWriter {
    /// Writes one labeled sentence.
    fn write(&mut self, sentence: &LabeledSentence) -> std::io::Result<()>;
    /// Finishes the output (flushes buffers).
    fn finish(&mut self) -> std::io::Result<()>;
}

/// Builds the writer for `format` over `out`.
/// `explained`: predictions carry terms, and the CSV header gets a `HEAD_terms` column.
pub fn writer<'a, W: Write + 'a>(
    format: OutputFormat,
    model: &'a Model,
    explained: bool,
    out: W,
) -> Box<dyn PredictionWriter + 'a> {
    match format {
        OutputFormat::Table => Box::new(TableWriter::new(model, out)),
        OutputFormat::Jsonl => Box::new(JsonlWriter { model, out }),
        OutputFormat::Csv => Box::new(CsvWriter::new(model, explained, out)),
    }
}

/// Terms as "term (+0.412); other (+0.101)".
fn terms_text(terms: &[(String, f64)]) -> String {
    terms
        .iter()
        .map(|(term, c)| format!("{term} ({c:+.3})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Rounds a probability for output: six decimals are plenty and keep lines short.
fn rounded(p: f64) -> f64 {
    (p * 1e6).round() / 1e6
}

struct JsonlWriter<'a, W: Write> {
    model: &'a Model,
    out: W,
}

impl<W: Write> PredictionWriter for JsonlWriter<'_, W> {
    fn write(&mut self, sentence: &LabeledSentence) -> std::io::Result<()> {
        let (record, predictions) = (&sentence.record, &sentence.predictions);
        let mut object = serde_json::Map::new();
        object.insert("id".into(), record.id.clone().into());
        object.insert("text".into(), record.text.clone().into());
        for (head, prediction) in self.model.heads().iter().zip(predictions) {
            let probabilities: serde_json::Map<String, serde_json::Value> = head
                .classes()
                .iter()
                .zip(&prediction.probabilities)
                .map(|(class, &p)| (class.clone(), rounded(p).into()))
                .collect();
            let mut value = serde_json::Map::new();
            value.insert("label".into(), head.classes()[prediction.label].clone().into());
            value.insert("probabilities".into(), probabilities.into());
            if !prediction.terms.is_empty() {
                let terms: Vec<serde_json::Value> = prediction
                    .terms
                    .iter()
                    .map(|(term, c)| serde_json::json!({"term": term, "contribution": rounded(*c)}))
                    .collect();
                value.insert("terms".into(), terms.into());
            }
            object.insert(head.name.clone(), value.into());
        }
        let attribution = &sentence.attribution;
        object.insert("speaker".into(), attribution.speaker.clone().into());
        object.insert("mark".into(), attribution.mark.as_str().into());
        object.insert("speaker_cue".into(), attribution.cue.clone().into());
        serde_json::to_writer(&mut self.out, &object)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

struct CsvWriter<'a, W: Write> {
    model: &'a Model,
    explained: bool,
    out: csv::Writer<W>,
    header_written: bool,
}

impl<'a, W: Write> CsvWriter<'a, W> {
    fn new(model: &'a Model, explained: bool, out: W) -> Self {
        CsvWriter {
            model,
            explained,
            out: csv::Writer::from_writer(out),
            header_written: false,
        }
    }
}

fn csv_to_io(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> PredictionWriter for CsvWriter<'_, W> {
    fn write(&mut self, sentence: &LabeledSentence) -> std::io::Result<()> {
        let (record, predictions) = (&sentence.record, &sentence.predictions);
        if !self.header_written {
            let mut header = vec!["id".to_string(), "text".to_string()];
            for head in self.model.heads() {
                header.push(head.name.clone());
                for class in head.classes() {
                    header.push(format!("{}_p_{class}", head.name));
                }
                if self.explained {
                    header.push(format!("{}_terms", head.name));
                }
            }
            header.extend(["speaker", "mark", "speaker_cue"].map(String::from));
            self.out.write_record(&header).map_err(csv_to_io)?;
            self.header_written = true;
        }
        let mut row = vec![record.id.clone(), record.text.clone()];
        for (head, prediction) in self.model.heads().iter().zip(predictions) {
            row.push(head.classes()[prediction.label].clone());
            row.extend(prediction.probabilities.iter().map(|&p| rounded(p).to_string()));
            if self.explained {
                row.push(terms_text(&prediction.terms));
            }
        }
        let attribution = &sentence.attribution;
        row.push(attribution.speaker.clone().unwrap_or_default());
        row.push(attribution.mark.as_str().to_string());
        row.push(attribution.cue.clone());
        self.out.write_record(&row).map_err(csv_to_io)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

struct TableWriter<'a, W: Write> {
    model: &'a Model,
    out: W,
    label_widths: Vec<usize>,
    id_width: usize,
    header_written: bool,
}

impl<'a, W: Write> TableWriter<'a, W> {
    fn new(model: &'a Model, out: W) -> Self {
        let label_widths = model
            .heads()
            .iter()
            .map(|h| {
                h.classes()
                    .iter()
                    .map(|c| c.chars().count())
                    .chain([h.name.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        TableWriter {
            model,
            out,
            label_widths,
            id_width: 0,
            header_written: false,
        }
    }
}

/// Width of the table's speaker column; longer names are cut with "…" (JSONL and CSV have them whole).
pub const TABLE_SPEAKER_WIDTH: usize = 20;

/// `text` cut to `width` characters, the last one "…" when cut.
pub fn truncated(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('\u{2026}');
    cut
}

impl<W: Write> PredictionWriter for TableWriter<'_, W> {
    fn write(&mut self, sentence: &LabeledSentence) -> std::io::Result<()> {
        let (record, predictions) = (&sentence.record, &sentence.predictions);
        if !self.header_written {
            // Streaming output cannot know the longest id ahead; the first one sets the width,
            // with room for sentence numbers of up to three digits.
            self.id_width = (record.id.chars().count() + 2).clamp(2, 60);
            write!(self.out, "{:<w$}", "id", w = self.id_width)?;
            for (head, width) in self.model.heads().iter().zip(&self.label_widths) {
                write!(self.out, "  {:<width$} {:>5}", head.name, "p")?;
            }
            writeln!(self.out, "  {:<9}  {:<w$}  text", "mark", "speaker", w = TABLE_SPEAKER_WIDTH)?;
            self.header_written = true;
        }
        write!(self.out, "{:<w$}", record.id, w = self.id_width)?;
        for ((head, prediction), width) in self
            .model
            .heads()
            .iter()
            .zip(predictions)
            .zip(&self.label_widths)
        {
            write!(
                self.out,
                "  {:<width$} {:>5.2}",
                head.classes()[prediction.label],
                prediction.probabilities[prediction.label]
            )?;
        }
        let speaker = sentence.attribution.speaker.as_deref().unwrap_or("-");
        writeln!(
            self.out,
            "  {:<9}  {:<w$}  {}",
            sentence.attribution.mark.as_str(),
            truncated(speaker, TABLE_SPEAKER_WIDTH),
            record.text,
            w = TABLE_SPEAKER_WIDTH
        )?;
        for (head, prediction) in self.model.heads().iter().zip(predictions) {
            if !prediction.terms.is_empty() {
                writeln!(
                    self.out,
                    "{:w$}  why {}={}: {}",
                    "",
                    head.name,
                    head.classes()[prediction.label],
                    terms_text(&prediction.terms),
                    w = self.id_width
                )?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
