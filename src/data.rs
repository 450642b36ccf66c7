//! Reads sentence files (CSV, TSV, JSON Lines) and plain-text articles into records, naming
//! the file and line of every problem.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sentences::split_sentences;

/// The layout of an input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// Comma-separated values with a header row (RFC 4180 quoting).
    Csv,
    /// Tab-separated values with a header row; no quoting, so fields hold no tabs or newlines.
    Tsv,
    /// One JSON object per line.
    Jsonl,
    /// A plain-text article, split into sentences.
    Text,
}

impl InputFormat {
    /// Guesses the format from a file name: .csv, .tsv/.tab, .jsonl/.ndjson; anything else is
    /// a plain-text article.
    pub fn from_path(path: &Path) -> InputFormat {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => InputFormat::Csv,
            Some("tsv") | Some("tab") => InputFormat::Tsv,
            Some("jsonl") | Some("ndjson") => InputFormat::Jsonl,
            _ => InputFormat::Text,
        }
    }

    /// Whether the format carries named columns.
    pub fn is_tabular(self) -> bool {
        !matches!(self, InputFormat::Text)
    }
}

/// Which columns to read.
#[derive(Clone, Debug)]
pub struct Columns {
    /// The column holding the sentence.
    pub text: String,
    /// The column holding an identifier; used when present, never required.
    pub id: String,
    /// Label columns that must be present (values may be empty).
    pub labels: Vec<String>,
}

impl Columns {
    /// Text and id columns with the given names and no label columns.
    pub fn text_only(text: &str, id: &str) -> Self {
        Columns {
            text: text.to_string(),
            id: id.to_string(),
            labels: Vec::new(),
        }
    }
}

/// One sentence read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The line where the record starts (1-based; the header is line 1 in CSV and TSV).
    pub line: u64,
    /// The record's id: the id column when present, otherwise `FILE:N` for article sentences
    /// and `N` (the 1-based record number) for table rows.
    pub id: String,
    /// The sentence.
    pub text: String,
    /// One entry per requested label column; `None` where the cell is empty.
    pub labels: Vec<Option<String>>,
}

/// Where a record stream comes from: a named file or standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Path(PathBuf),
    Stdin,
}

impl Source {
    /// `-` means standard input.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(arg))
        }
    }

    /// The name used in messages and article ids.
    pub fn display_name(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }

    fn open(&self) -> Result<Box<dyn BufRead + Send>> {
        match self {
            Source::Stdin => Ok(Box::new(BufReader::new(std::io::stdin()))),
            Source::Path(path) => {
                if path.is_dir() {
                    return Err(Error::file(path, "is a directory, expected a file"));
                }
                let file = File::open(path).map_err(|e| Error::io(path, "opening", e))?;
                Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
            }
        }
    }
}

/// Reads every record of a labeled or unlabeled sentence file into memory. A value of the id
/// column that repeats is an error here (see [`DuplicateIds`]): this is how `train` and `eval`
/// read their data.
pub fn read_records(path: &Path, format: InputFormat, columns: &Columns) -> Result<Vec<Record>> {
    let source = Source::Path(path.to_path_buf());
    let records: Vec<Record> = RecordReader::open(&source, format, columns)?
        .duplicate_ids(DuplicateIds::Error)
        .collect::<Result<_>>()?;
    if records.is_empty() {
        return Err(Error::file(path, "has no data rows"));
    }
    Ok(records)
}

/// The column names of a CSV or TSV file's header, or the field names of a JSONL file's first
/// object.
pub fn column_names(path: &Path, format: InputFormat) -> Result<Vec<String>> {
    let input = Source::Path(path.to_path_buf()).open()?;
    match format {
        InputFormat::Csv | InputFormat::Tsv => Ok(read_header(input, path, format)?.1),
        InputFormat::Jsonl => {
            for (index, line) in input.split(b'\n').enumerate() {
                let bytes = line.map_err(|e| Error::io(path, "reading", e))?;
                let line_number = index as u64 + 1;
                let text = decode_line(path, line_number, &bytes)?
                    .trim_start_matches('\u{feff}')
                    .trim();
                if text.is_empty() {
                    continue;
                }
                let value: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| Error::data(path, line_number, format!("not valid JSON: {e}")))?;
                return Ok(value
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default());
            }
            Err(Error::file(path, "has no data rows"))
        }
        InputFormat::Text => Ok(Vec::new()),
    }
}

/// What a reader does when the id column of a table repeats a value. Only ids read from the
/// id column count: row numbers and `FILE:N` article ids are unique by construction.
///
/// The choice, for the user who wants to be told rather than surprised:
/// - `train` and `eval` read with [`DuplicateIds::Error`]. A repeated id in labeled data is
///   nearly always a file concatenated twice or rows copied by mistake; such rows count twice in
///   the fit and the metrics, and in `eval --cv` a copy can sit in a training fold while its twin
///   is held out, which inflates the scores. Refusing, with both lines named, is what a careful
///   user wants.
/// - `predict` reads with [`DuplicateIds::Warn`]: every input row still gets exactly one output
///   row, in input order, so nothing is lost or mixed up, but a join on the id column would be
///   ambiguous, so one warning per file on standard error says how many ids repeat and where the
///   first one is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateIds {
    /// Fail on the first repeated id, naming both lines.
    Error,
    /// Print one warning per file at its end (at most [`WARN_TRACKED_IDS`] ids are remembered,
    /// as 64-bit hashes, so memory stays bounded on any input).
    Warn,
    /// Do not check.
    Allow,
}

/// How many distinct ids [`DuplicateIds::Warn`] remembers per file (about 32 MB).
pub const WARN_TRACKED_IDS: usize = 1_000_000;

/// Remembers the ids read so far.
struct IdCheck {
    policy: DuplicateIds,
    exact: std::collections::HashMap<String, u64>,
    hashed: std::collections::HashMap<u64, u64>,
    repeated: u64,
    first: Option<(String, u64, u64)>,
}

impl IdCheck {
    fn new(policy: DuplicateIds) -> Self {
        IdCheck {
            policy,
            exact: Default::default(),
            hashed: Default::default(),
            repeated: 0,
            first: None,
        }
    }

    /// Records `id` read on `line`; an error under [`DuplicateIds::Error`] when it was seen.
    fn see(&mut self, path: &Path, id: &str, line: u64) -> Result<()> {
        let earlier = match self.policy {
            DuplicateIds::Allow => None,
            DuplicateIds::Error => match self.exact.get(id) {
                Some(&earlier) => Some(earlier),
                None => {
                    self.exact.insert(id.to_string(), line);
                    None
                }
            },
            DuplicateIds::Warn => {
                use std::hash::{Hash, Hasher};
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                id.hash(&mut hasher);
                let key = hasher.finish();
                match self.hashed.get(&key) {
                    Some(&earlier) => Some(earlier),
                    None => {
                        if self.hashed.len() < WARN_TRACKED_IDS {
                            self.hashed.insert(key, line);
                        }
                        None
                    }
                }
            }
        };
        let Some(earlier) = earlier else { return Ok(()) };
        if self.policy == DuplicateIds::Error {
            return Err(Error::data(
                path,
                line,
                format!(
                    "the id '{id}' is also on line {earlier}; ids must be unique in training and evaluation data (a repeated row counts twice and can land in both a training and a held-out fold); remove or renumber the repeated rows"
                ),
            ));
        }
        self.repeated += 1;
        if self.first.is_none() {
            self.first = Some((id.to_string(), earlier, line));
        }
        Ok(())
    }

    /// The end-of-file warning of [`DuplicateIds::Warn`], printed once.
    fn warn_at_end(&mut self, path: &Path) {
        if let Some((id, earlier, line)) = self.first.take() {
            eprintln!(
                "stancekit: warning: {}: {} row(s) repeat an earlier id, the first '{id}' on lines {earlier} and {line}; every row is still labeled, in input order, but the ids do not identify rows uniquely",
                path.display(),
                self.repeated
            );
        }
    }
}

/// Streams records from a file or standard input, one at a time, in file order.
pub struct RecordReader {
    inner: ReaderKind,
    path: PathBuf,
    ids: IdCheck,
    finished: bool,
}

enum ReaderKind {
    Delimited {
        reader: DelimitedReader,
        text_index: usize,
        id_index: Option<usize>,
        label_indices: Vec<usize>,
        record: csv::ByteRecord,
        count: u64,
    },
    Jsonl {
        lines: std::io::Split<Box<dyn BufRead + Send>>,
        columns: Columns,
        line: u64,
        count: u64,
    },
    Article {
        sentences: std::vec::IntoIter<Record>,
    },
}

impl RecordReader {
    /// Opens `source` as `format` and checks its header against `columns`. Repeated ids are
    /// warned about (see [`DuplicateIds`]; change it with [`RecordReader::duplicate_ids`]).
    pub fn open(source: &Source, format: InputFormat, columns: &Columns) -> Result<Self> {
        let input = source.open()?;
        RecordReader::from_reader(input, &source.display_name(), format, columns)
    }

    /// Reads records from any buffered reader (a file, a network stream, bytes in memory);
    /// `name` stands for the input in messages and article ids.
    pub fn from_reader(
        input: Box<dyn BufRead + Send>,
        name: &str,
        format: InputFormat,
        columns: &Columns,
    ) -> Result<Self> {
        let path = PathBuf::from(name);
        let inner = match format {
            InputFormat::Csv | InputFormat::Tsv => open_delimited(input, &path, format, columns)?,
            InputFormat::Jsonl => ReaderKind::Jsonl {
                lines: input.split(b'\n'),
                columns: columns.clone(),
                line: 0,
                count: 0,
            },
            InputFormat::Text => {
                if !columns.labels.is_empty() {
                    return Err(Error::file(
                        &path,
                        "is read as a plain-text article, which has no label columns; give a CSV, TSV or JSONL file (or set --input-format)",
                    ));
                }
                ReaderKind::Article {
                    sentences: read_article(input, &path, name)?.into_iter(),
                }
            }
        };
        Ok(RecordReader {
            inner,
            path,
            ids: IdCheck::new(DuplicateIds::Warn),
            finished: false,
        })
    }

    /// Sets what a repeated value of the id column does (default: [`DuplicateIds::Warn`]).
    pub fn duplicate_ids(mut self, policy: DuplicateIds) -> Self {
        self.ids = IdCheck::new(policy);
        self
    }

    /// The file name used in messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Iterator for RecordReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let item = self.next_record();
        match &item {
            None => {
                self.finished = true;
                self.ids.warn_at_end(&self.path);
            }
            Some(Err(_)) => {
                // Nothing after an error is trustworthy (and some errors would repeat forever).
                self.finished = true;
            }
            Some(Ok((_, None))) => {}
            Some(Ok((record, Some(explicit_id)))) => {
                if let Err(error) = self.ids.see(&self.path, explicit_id, record.line) {
                    self.finished = true;
                    return Some(Err(error));
                }
            }
        }
        item.map(|result| result.map(|(record, _)| record))
    }
}

impl RecordReader {
    /// The next record and, when its id came from the id column, that id.
    fn next_record(&mut self) -> Option<Result<(Record, Option<String>)>> {
        match &mut self.inner {
            ReaderKind::Delimited {
                reader,
                text_index,
                id_index,
                label_indices,
                record,
                count,
            } => {
                let result = reader.read_byte_record(record);
                // A quote that is never closed swallows the rest of the file into one field;
                // the csv crate accepts that silently, so the tracker tells.
                if let Some(opened) = reader.get_ref().unclosed_quote() {
                    return Some(Err(unclosed_quote_error(&self.path, opened)));
                }
                match result {
                    Ok(false) => None,
                    Ok(true) => {
                        *count += 1;
                        let line = reader
                            .get_mut()
                            .next_record_line()
                            .or_else(|| record.position().map(|p| p.line()))
                            .unwrap_or(0);
                        Some(delimited_record(
                            &self.path,
                            record,
                            line,
                            *text_index,
                            *id_index,
                            label_indices,
                            *count,
                        ))
                    }
                    Err(e) => {
                        // A ragged record was read whole, so it had its line counted.
                        let line = match e.kind() {
                            csv::ErrorKind::UnequalLengths { .. } => reader.get_mut().next_record_line(),
                            _ => None,
                        };
                        Some(Err(csv_error(&self.path, e, line)))
                    }
                }
            }
            ReaderKind::Jsonl {
                lines,
                columns,
                line,
                count,
            } => loop {
                let bytes = match lines.next()? {
                    Ok(bytes) => bytes,
                    Err(e) => return Some(Err(Error::io(&self.path, "reading", e))),
                };
                *line += 1;
                let text = match decode_line(&self.path, *line, &bytes) {
                    Ok(text) => text,
                    Err(e) => return Some(Err(e)),
                };
                let text = text.trim_start_matches('\u{feff}').trim();
                if text.is_empty() {
                    continue;
                }
                *count += 1;
                return Some(jsonl_record(&self.path, *line, text, columns, *count));
            },
            ReaderKind::Article { sentences } => sentences.next().map(|record| Ok((record, None))),
        }
    }
}

/// The csv crate's reader over a line-tracked input.
type DelimitedReader = csv::Reader<LineTracker<Box<dyn BufRead + Send>>>;

/// Opens a CSV or TSV reader and returns it with the header's column names (trimmed, without
/// a UTF-8 byte-order mark).
fn read_header(
    mut input: Box<dyn BufRead + Send>,
    path: &Path,
    format: InputFormat,
) -> Result<(DelimitedReader, Vec<String>)> {
    let start = input.fill_buf().map_err(|e| Error::io(path, "reading", e))?;
    let starts_with_bom = start.starts_with(b"\xEF\xBB\xBF");
    if starts_with_bom {
        input.consume(3);
    }
    let mut builder = csv::ReaderBuilder::new();
    builder.has_headers(true).flexible(false);
    let tracker = if format == InputFormat::Tsv {
        builder.delimiter(b'\t').quoting(false);
        LineTracker::new(input, b'\t', false)
    } else {
        LineTracker::new(input, b',', true)
    };
    let mut reader = builder.from_reader(tracker);
    let header = reader.byte_headers().cloned().map_err(|e| csv_error(path, e, None));
    if let Some(opened) = reader.get_ref().unclosed_quote() {
        return Err(unclosed_quote_error(path, opened));
    }
    let header = header?;
    // The header's own line.
    reader.get_mut().next_record_line();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(Error::file(path, "is empty: expected a header row"));
    }
    let mut names = Vec::with_capacity(header.len());
    for (i, field) in header.iter().enumerate() {
        let name = std::str::from_utf8(field)
            .map_err(|_| Error::data(path, 1, format!("header column {} is not valid UTF-8", i + 1)))?;
        // A UTF-8 byte-order mark at the start of the file is not part of the first name.
        let name = if i == 0 { name.trim_start_matches('\u{feff}') } else { name };
        names.push(name.trim().to_string());
    }
    Ok((reader, names))
}

fn open_delimited(
    input: Box<dyn BufRead + Send>,
    path: &Path,
    format: InputFormat,
    columns: &Columns,
) -> Result<ReaderKind> {
    let (reader, names) = read_header(input, path, format)?;
    let find = |wanted: &str| names.iter().position(|n| n == wanted);
    let missing = |wanted: &str, role: &str| {
        Error::file(
            path,
            format!(
                "has no {role} column '{wanted}'; columns found: {}",
                names.join(", ")
            ),
        )
    };
    let text_index = find(&columns.text).ok_or_else(|| missing(&columns.text, "text"))?;
    let label_indices = columns
        .labels
        .iter()
        .map(|l| find(l).ok_or_else(|| missing(l, "label")))
        .collect::<Result<Vec<_>>>()?;
    Ok(ReaderKind::Delimited {
        reader,
        text_index,
        id_index: find(&columns.id),
        label_indices,
        record: csv::ByteRecord::new(),
        count: 0,
    })
}

fn delimited_record(
    path: &Path,
    record: &csv::ByteRecord,
    line: u64,
    text_index: usize,
    id_index: Option<usize>,
    label_indices: &[usize],
    count: u64,
) -> Result<(Record, Option<String>)> {
    let field = |index: usize, role: &str| -> Result<String> {
        let bytes = record.get(index).unwrap_or(b"");
        std::str::from_utf8(bytes)
            .map(|s| s.trim().to_string())
            .map_err(|e| {
                Error::data(
                    path,
                    line,
                    format!(
                        "the {role} is not valid UTF-8 (bad byte at offset {} of the field); re-save the file as UTF-8",
                        e.valid_up_to()
                    ),
                )
            })
    };
    let text = field(text_index, "text")?;
    check_text(path, line, &text)?;
    let explicit_id = match id_index {
        Some(index) => non_empty(field(index, "id")?),
        None => None,
    };
    let labels = label_indices
        .iter()
        .map(|&index| field(index, "label").map(non_empty))
        .collect::<Result<Vec<_>>>()?;
    let record = Record {
        line,
        id: explicit_id.clone().unwrap_or_else(|| count.to_string()),
        text,
        labels,
    };
    Ok((record, explicit_id))
}

fn jsonl_record(
    path: &Path,
    line: u64,
    text: &str,
    columns: &Columns,
    count: u64,
) -> Result<(Record, Option<String>)> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::data(path, line, format!("not valid JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| Error::data(path, line, "expected a JSON object such as {\"text\": \"...\"}"))?;
    let keys = || object.keys().cloned().collect::<Vec<_>>().join(", ");
    let text = match object.get(&columns.text) {
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(_) => {
            return Err(Error::data(
                path,
                line,
                format!("field '{}' is not a string", columns.text),
            ))
        }
        None => {
            return Err(Error::data(
                path,
                line,
                format!("no text field '{}'; fields found: {}", columns.text, keys()),
            ))
        }
    };
    check_text(path, line, &text)?;
    let explicit_id = match object.get(&columns.id) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let labels = columns
        .labels
        .iter()
        .map(|name| match object.get(name) {
            Some(serde_json::Value::String(s)) => Ok(non_empty(s.trim().to_string())),
            Some(serde_json::Value::Null) => Ok(None),
            Some(_) => Err(Error::data(path, line, format!("label '{name}' is not a string"))),
            None => Err(Error::data(
                path,
                line,
                format!("no label field '{name}'; fields found: {}", keys()),
            )),
        })
        .collect::<Result<Vec<_>>>()?;
    let record = Record {
        line,
        id: explicit_id.clone().unwrap_or_else(|| count.to_string()),
        text,
        labels,
    };
    Ok((record, explicit_id))
}

fn check_text(path: &Path, line: u64, text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(Error::data(path, line, "the text is empty"));
    }
    if text.contains('\0') {
        return Err(Error::data(path, line, "the text contains a NUL byte; is this a binary file?"));
    }
    Ok(())
}

fn non_empty(value: String) -> Option<String> {
    if value.is_empty() {
        None
    } else {
        Some(value)
    }
}

fn decode_line<'a>(path: &Path, line: u64, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        Error::data(
            path,
            line,
            format!(
                "not valid UTF-8 (bad byte at column {}); re-save the file as UTF-8",
                e.valid_up_to() + 1
            ),
        )
    })
}

/// The error for a csv crate error; `line` is the record's line when known (the csv crate's own
/// count is off after lone carriage returns and blank lines).
fn csv_error(path: &Path, error: csv::Error, line: Option<u64>) -> Error {
    let line = line.or_else(|| error.position().map(|p| p.line()));
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "has {len} fields where the header has {expected_len}; check the quoting and the delimiter"
        ),
        csv::ErrorKind::Io(e) => format!("read error: {e}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("not valid UTF-8: {err}"),
        _ => error.to_string(),
    };
    match line {
        Some(line) => Error::data(path, line, message),
        None => Error::file(path, message),
    }
}

/// The error for a quote opened on `line` and never closed.
fn unclosed_quote_error(path: &Path, line: u64) -> Error {
    Error::data(
        path,
        line,
        format!(
            "the quote opened on line {line} is never closed, so the rest of the file would be read as one field; close the quoted field, or write a quote inside it as two quotes (\"\")"
        ),
    )
}

/// Passes CSV or TSV bytes through while following them the way the csv crate parses them
/// (csv-core's state machine for our settings: one delimiter, RFC 4180 quotes with doubled
/// quotes inside for CSV, none for TSV, and "\r", "\n" or "\r\n" ending a record, with blank
/// lines skipped). It gives:
///
/// - the line each record starts on, counting "\r\n", a lone "\n" and a lone "\r" as one line
///   end each; the csv crate counts only "\n" and places a record at the blank lines or the
///   "\n" of a "\r\n" before it, so its numbers are off in files with old Mac line ends, blank
///   lines or Windows line ends (two records on "line 2" was found by fuzzing);
/// - a quote still open at the end of the input, with the line it was opened on; the csv crate
///   reads such a quote to the end of the file, silently.
///
/// Memory stays bounded: the queue of record lines only spans the csv reader's read-ahead.
struct LineTracker<R> {
    inner: R,
    delimiter: u8,
    quoting: bool,
    state: CsvState,
    /// The line of the byte being looked at (1-based).
    line: u64,
    /// The previous byte was "\r": the line ends there unless this byte is "\n".
    pending_cr: bool,
    /// The line where the current quoted field was opened.
    opened_on: u64,
    /// Lines of the records seen but not yet handed to the reader.
    record_lines: std::collections::VecDeque<u64>,
    at_end: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CsvState {
    StartRecord,
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R> LineTracker<R> {
    fn new(inner: R, delimiter: u8, quoting: bool) -> Self {
        LineTracker {
            inner,
            delimiter,
            quoting,
            state: CsvState::StartRecord,
            line: 1,
            pending_cr: false,
            opened_on: 0,
            record_lines: Default::default(),
            at_end: false,
        }
    }

    /// The line of a quote still open once the whole input was read.
    fn unclosed_quote(&self) -> Option<u64> {
        (self.at_end && self.state == CsvState::Quoted).then_some(self.opened_on)
    }

    /// The line of the next record the csv reader returns (call once per record, in order).
    fn next_record_line(&mut self) -> Option<u64> {
        self.record_lines.pop_front()
    }

    fn field_start(&mut self, byte: u8) -> CsvState {
        if self.quoting && byte == b'"' {
            self.opened_on = self.line;
            CsvState::Quoted
        } else if byte == self.delimiter {
            CsvState::StartField
        } else if byte == b'\n' || byte == b'\r' {
            CsvState::StartRecord
        } else {
            CsvState::Unquoted
        }
    }

    fn track(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.pending_cr {
                self.pending_cr = false;
                if byte != b'\n' {
                    self.line += 1;
                }
            }
            let terminator = byte == b'\n' || byte == b'\r';
            self.state = match self.state {
                CsvState::StartRecord if terminator => CsvState::StartRecord,
                CsvState::StartRecord => {
                    self.record_lines.push_back(self.line);
                    self.field_start(byte)
                }
                CsvState::StartField => self.field_start(byte),
                CsvState::Unquoted if byte == self.delimiter => CsvState::StartField,
                CsvState::Unquoted if terminator => CsvState::StartRecord,
                CsvState::Unquoted => CsvState::Unquoted,
                CsvState::Quoted if byte == b'"' => CsvState::QuoteInQuoted,
                CsvState::Quoted => CsvState::Quoted,
                CsvState::QuoteInQuoted if byte == b'"' => CsvState::Quoted,
                CsvState::QuoteInQuoted if byte == self.delimiter => CsvState::StartField,
                CsvState::QuoteInQuoted if terminator => CsvState::StartRecord,
                CsvState::QuoteInQuoted => CsvState::Unquoted,
            };
            if byte == b'\n' {
                self.line += 1;
            } else if byte == b'\r' {
                self.pending_cr = true;
            }
        }
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        if n == 0 && !buffer.is_empty() {
            self.at_end = true;
        }
        self.track(&buffer[..n]);
        Ok(n)
    }
}

/// Reads a plain-text article and splits it into sentence records with ids `NAME:N`.
fn read_article(mut input: Box<dyn BufRead + Send>, path: &Path, name: &str) -> Result<Vec<Record>> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, "reading", e))?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64;
            return Err(Error::data(
                path,
                line,
                "not valid UTF-8; re-save the article as UTF-8",
            ));
        }
    };
    if text.contains('\0') {
        let line = 1 + text[..text.find('\0').unwrap_or(0)].matches('\n').count() as u64;
        return Err(Error::data(path, line, "contains a NUL byte; is this a binary file?"));
    }
    let text = text.trim_start_matches('\u{feff}');
    // Line numbers are counted forward from one sentence to the next: counting from the start
    // of the article for every sentence would be quadratic in a long single-line article.
    let mut line = 1;
    let mut counted_to = 0;
    Ok(split_sentences(text)
        .into_iter()
        .enumerate()
        .map(|(i, sentence)| {
            line += text[counted_to..sentence.start].matches('\n').count() as u64;
            counted_to = sentence.start;
            Record {
                line,
                id: format!("{name}:{}", i + 1),
                text: sentence.text.to_string(),
                labels: Vec::new(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_file(name: &str, contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        File::create(&path).unwrap().write_all(contents).unwrap();
        (dir, path)
    }

    fn labeled() -> Columns {
        Columns {
            text: "text".into(),
            id: "id".into(),
            labels: vec!["stance".into()],
        }
    }

    #[test]
    fn reads_csv_with_quotes_bom_and_crlf() {
        let (_dir, path) = temp_file(
            "d.csv",
            b"\xEF\xBB\xBFid,text,stance\r\ns1,\"Hello, world\",neutral\r\ns2,Second,\r\n",
        );
        let records = read_records(&path, InputFormat::Csv, &labeled()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].id, "s1");
        assert_eq!(records[0].text, "Hello, world");
        assert_eq!(records[0].labels, vec![Some("neutral".to_string())]);
        assert_eq!(records[1].labels, vec![None]);
        assert_eq!(records[1].line, 3);
    }

    #[test]
    fn missing_column_lists_the_columns_found() {
        let (_dir, path) = temp_file("d.csv", b"sentence,stance\nHi,neutral\n");
        let error = read_records(&path, InputFormat::Csv, &labeled()).unwrap_err().to_string();
        assert!(error.contains("no text column 'text'"), "{error}");
        assert!(error.contains("columns found: sentence, stance"), "{error}");
    }

    #[test]
    fn empty_text_names_the_line() {
        let (_dir, path) = temp_file("d.csv", b"text,stance\nfine,neutral\n  ,neutral\n");
        let error = read_records(&path, InputFormat::Csv, &labeled()).unwrap_err().to_string();
        assert!(error.contains("line 3: the text is empty"), "{error}");
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let (_dir, path) = temp_file("d.csv", b"text,stance\nok,neutral\nbad \xff here,neutral\n");
        let error = read_records(&path, InputFormat::Csv, &labeled()).unwrap_err().to_string();
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("UTF-8"), "{error}");
    }

    #[test]
    fn ragged_rows_name_the_line() {
        let (_dir, path) = temp_file("d.csv", b"text,stance\na,neutral\nb,neutral,extra\n");
        let error = read_records(&path, InputFormat::Csv, &labeled()).unwrap_err().to_string();
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("3 fields where the header has 2"), "{error}");
    }

    #[test]
    fn reads_tsv_without_quoting() {
        let (_dir, path) = temp_file("d.tsv", b"text\tstance\nHe said \"no\"\taccusatory\n");
        let records = read_records(&path, InputFormat::Tsv, &labeled()).unwrap();
        assert_eq!(records[0].text, "He said \"no\"");
    }

    #[test]
    fn reads_jsonl_and_reports_broken_lines() {
        let (_dir, path) = temp_file(
            "d.jsonl",
            b"{\"id\": 7, \"text\": \"One\", \"stance\": \"neutral\"}\n\n{\"text\": \"Two\", \"stance\": null}\n",
        );
        let records = read_records(&path, InputFormat::Jsonl, &labeled()).unwrap();
        assert_eq!(records[0].id, "7");
        assert_eq!(records[1].labels, vec![None]);
        assert_eq!(records[1].line, 3);

        let (_dir2, broken) = temp_file("b.jsonl", b"{\"text\": \"One\", \"stance\": \"a\"}\n{\"text\": \n");
        let error = read_records(&broken, InputFormat::Jsonl, &labeled()).unwrap_err().to_string();
        assert!(error.contains("line 2: not valid JSON"), "{error}");
    }

    #[test]
    fn header_only_file_has_no_rows() {
        let (_dir, path) = temp_file("d.csv", b"text,stance\n");
        let error = read_records(&path, InputFormat::Csv, &labeled()).unwrap_err().to_string();
        assert!(error.contains("has no data rows"), "{error}");
    }

    #[test]
    fn articles_become_numbered_sentences_with_lines() {
        let (_dir, path) = temp_file("a.txt", b"Title line\n\nFirst sentence. Second one.\n");
        let source = Source::Path(path.clone());
        let records: Vec<Record> = RecordReader::open(&source, InputFormat::Text, &Columns::text_only("text", "id"))
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        let name = path.display().to_string();
        assert_eq!(records.len(), 3);
        assert_eq!(records[2].id, format!("{name}:3"));
        assert_eq!(records[2].text, "Second one.");
        assert_eq!(records[2].line, 3);
    }

    #[test]
    fn a_quote_never_closed_names_the_line_it_opened_on() {
        // In the last column the csv crate would read the rest of the file as one field.
        let (_dir, path) = temp_file("d.csv", b"stance,text\na,one\nb,\"two\nc,three\n");
        let error = read_records(&path, InputFormat::Csv, &Columns::text_only("text", "id"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 3: the quote opened on line 3 is never closed"), "{error}");
        // In the header.
        let (_dir, path) = temp_file("h.csv", b"\"text,stance\na,b\n");
        let error = read_records(&path, InputFormat::Csv, &labeled()).unwrap_err().to_string();
        assert!(error.contains("line 1: the quote opened on line 1 is never closed"), "{error}");
        // Closed, doubled and mid-field quotes are fine, and TSV has no quoting at all.
        let (_dir, path) = temp_file(
            "ok.csv",
            b"text,stance\n\"a \"\"b\"\"\",x\nc \" d,y\n\"e\nf\",z\n\"g\"",
        );
        let error = read_records(&path, InputFormat::Csv, &labeled()).unwrap_err().to_string();
        assert!(error.contains("line 6: has 1 fields"), "{error}");
        let (_dir, path) = temp_file("ok.tsv", b"text\tstance\n\"open\tx\n");
        assert_eq!(read_records(&path, InputFormat::Tsv, &labeled()).unwrap()[0].text, "\"open");
    }

    #[test]
    fn the_line_tracker_follows_the_csv_grammar() {
        let mut tracker = LineTracker::new(std::io::empty(), b',', true);
        tracker.track(b"a,\"b\"\"c\",d\r\n\"e\nf\"g,h\n");
        assert_eq!(tracker.state, CsvState::StartRecord);
        assert_eq!(tracker.record_lines, vec![1, 2]);
        assert_eq!(tracker.line, 4);
        tracker.track(b"x,\"y\nz");
        assert_eq!(tracker.unclosed_quote(), None, "not at the end yet");
        tracker.at_end = true;
        assert_eq!(tracker.unclosed_quote(), Some(4));
        assert_eq!(tracker.record_lines, vec![1, 2, 4]);
    }

    #[test]
    fn lines_are_right_with_any_line_ends_and_blank_lines() {
        // Found by fuzzing: after a lone "\r" (old Mac line end) two records were on "line 2".
        for (name, bytes) in [
            ("cr.csv", &b"id,text\ra,One\rb,Two\r,\r"[..]),
            ("crlf.csv", &b"id,text\r\na,One\r\nb,Two\r\n,\r\n"[..]),
            ("lf.csv", &b"id,text\na,One\nb,Two\n,\n"[..]),
            ("blank.csv", &b"\nid,text\n\na,One\nb,Two\n\n\n,\n"[..]),
            ("mixed.tsv", &b"id\ttext\r\na\tOne\rb\tTwo\n\t\r\n"[..]),
        ] {
            let (_dir, path) = temp_file(name, bytes);
            let format = InputFormat::from_path(&path);
            let records: Vec<Result<Record>> =
                RecordReader::open(&Source::Path(path), format, &Columns::text_only("text", "id")).unwrap().collect();
            let lines: Vec<u64> = records.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.line).collect();
            let error = records.last().unwrap().as_ref().unwrap_err().to_string();
            let (first, empty) = if name == "blank.csv" { (4, 8) } else { (2, 4) };
            assert_eq!(lines, vec![first, first + 1], "{name}");
            assert!(error.contains(&format!("line {empty}: the text is empty")), "{name}: {error}");
        }
    }

    #[test]
    fn repeated_ids_are_an_error_when_reading_all_records() {
        let (_dir, path) = temp_file("d.csv", b"id,text,stance\na,One,x\nb,Two,y\na,Three,x\n");
        let error = read_records(&path, InputFormat::Csv, &labeled()).unwrap_err().to_string();
        assert!(error.contains("line 4: the id 'a' is also on line 2"), "{error}");
        // Row numbers stand in for empty ids and never clash with each other or real ids.
        let (_dir, path) = temp_file("e.csv", b"id,text,stance\n,One,x\n2,Two,y\n,Three,x\n");
        let ids: Vec<String> = read_records(&path, InputFormat::Csv, &labeled())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, vec!["1", "2", "3"]);
        // A streaming reader warns (on standard error) and reads every row.
        let (_dir, path) = temp_file("f.csv", b"id,text\na,One\na,Two\n");
        let source = Source::Path(path);
        let records: Vec<Record> = RecordReader::open(&source, InputFormat::Csv, &Columns::text_only("text", "id"))
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(records.len(), 2);
    }

    #[test]
    fn readers_take_any_buffered_input() {
        let input = Box::new(std::io::Cursor::new(b"{\"text\": \"One.\"}\n".to_vec()));
        let records: Vec<Record> = RecordReader::from_reader(input, "memory", InputFormat::Jsonl, &Columns::text_only("text", "id"))
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(records[0].text, "One.");
        let input = Box::new(std::io::Cursor::new(b"{\"text\": 1}\n".to_vec()));
        let error = RecordReader::from_reader(input, "memory", InputFormat::Jsonl, &Columns::text_only("text", "id"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(error.to_string(), "memory line 1: field 'text' is not a string");
    }

    #[test]
    fn long_single_line_articles_are_read_in_linear_time() {
        let sentence = "The talks resumed in Vienna. ";
        let (_dir, path) = temp_file("long.txt", sentence.repeat(200_000).as_bytes());
        let started = std::time::Instant::now();
        let source = Source::Path(path);
        let count = RecordReader::open(&source, InputFormat::Text, &Columns::text_only("text", "id"))
            .unwrap()
            .count();
        assert_eq!(count, 200_000);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn formats_follow_extensions() {
        assert_eq!(InputFormat::from_path(Path::new("a.CSV")), InputFormat::Csv);
        assert_eq!(InputFormat::from_path(Path::new("a.tsv")), InputFormat::Tsv);
        assert_eq!(InputFormat::from_path(Path::new("a.ndjson")), InputFormat::Jsonl);
        assert_eq!(InputFormat::from_path(Path::new("a.txt")), InputFormat::Text);
        assert_eq!(InputFormat::from_path(Path::new("article")), InputFormat::Text);
    }
}
