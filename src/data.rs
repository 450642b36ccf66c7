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

    fn path_for_errors(&self) -> PathBuf {
        PathBuf::from(self.display_name())
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

/// Reads every record of a labeled or unlabeled sentence file into memory.
pub fn read_records(path: &Path, format: InputFormat, columns: &Columns) -> Result<Vec<Record>> {
    let source = Source::Path(path.to_path_buf());
    let records: Vec<Record> = RecordReader::open(&source, format, columns)?.collect::<Result<_>>()?;
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

/// Streams records from a file or standard input, one at a time, in file order.
pub struct RecordReader {
    inner: ReaderKind,
    path: PathBuf,
}

enum ReaderKind {
    Delimited {
        reader: csv::Reader<Box<dyn BufRead + Send>>,
        text_index: usize,
        id_index: Option<usize>,
        label_indices: Vec<usize>,
        record: csv::ByteRecord,
        count: u64,
        line_offset: u64,
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
    /// Opens `source` as `format` and checks its header against `columns`.
    pub fn open(source: &Source, format: InputFormat, columns: &Columns) -> Result<Self> {
        let path = source.path_for_errors();
        let input = source.open()?;
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
                    sentences: read_article(input, &path, &source.display_name())?.into_iter(),
                }
            }
        };
        Ok(RecordReader { inner, path })
    }

    /// The file name used in messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Iterator for RecordReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            ReaderKind::Delimited {
                reader,
                text_index,
                id_index,
                label_indices,
                record,
                count,
                line_offset,
            } => match reader.read_byte_record(record) {
                Ok(false) => None,
                Ok(true) => {
                    *count += 1;
                    Some(delimited_record(
                        &self.path,
                        record,
                        *line_offset,
                        *text_index,
                        *id_index,
                        label_indices,
                        *count,
                    ))
                }
                Err(e) => Some(Err(csv_error(&self.path, e, *line_offset))),
            },
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
            ReaderKind::Article { sentences } => sentences.next().map(Ok),
        }
    }
}

/// Opens a CSV or TSV reader and returns it with the header's column names (trimmed, without
/// a UTF-8 byte-order mark).
fn read_header(
    mut input: Box<dyn BufRead + Send>,
    path: &Path,
    format: InputFormat,
) -> Result<(csv::Reader<Box<dyn BufRead + Send>>, Vec<String>, u64)> {
    let start = input.fill_buf().map_err(|e| Error::io(path, "reading", e))?;
    let starts_with_bom = start.starts_with(b"\xEF\xBB\xBF");
    // The csv crate places a record that follows "\r\n" at the '\n' byte, so its line number
    // is one too low in files with Windows line ends.
    let crlf = start
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|i| i > 0 && start[i - 1] == b'\r');
    if starts_with_bom {
        input.consume(3);
    }
    let mut builder = csv::ReaderBuilder::new();
    builder.has_headers(true).flexible(false);
    if format == InputFormat::Tsv {
        builder.delimiter(b'\t').quoting(false);
    }
    let mut reader = builder.from_reader(input);
    let header = reader.byte_headers().map_err(|e| csv_error(path, e, 0))?.clone();
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
    Ok((reader, names, u64::from(crlf)))
}

fn open_delimited(
    input: Box<dyn BufRead + Send>,
    path: &Path,
    format: InputFormat,
    columns: &Columns,
) -> Result<ReaderKind> {
    let (reader, names, line_offset) = read_header(input, path, format)?;
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
        line_offset,
    })
}

fn delimited_record(
    path: &Path,
    record: &csv::ByteRecord,
    line_offset: u64,
    text_index: usize,
    id_index: Option<usize>,
    label_indices: &[usize],
    count: u64,
) -> Result<Record> {
    let line = record.position().map(|p| p.line() + line_offset).unwrap_or(0);
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
    let id = match id_index {
        Some(index) => {
            let id = field(index, "id")?;
            if id.is_empty() {
                count.to_string()
            } else {
                id
            }
        }
        None => count.to_string(),
    };
    let labels = label_indices
        .iter()
        .map(|&index| field(index, "label").map(non_empty))
        .collect::<Result<Vec<_>>>()?;
    Ok(Record {
        line,
        id,
        text,
        labels,
    })
}

fn jsonl_record(path: &Path, line: u64, text: &str, columns: &Columns, count: u64) -> Result<Record> {
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
    let id = match object.get(&columns.id) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => count.to_string(),
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
    Ok(Record {
        line,
        id,
        text,
        labels,
    })
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

fn csv_error(path: &Path, error: csv::Error, line_offset: u64) -> Error {
    let line = error.position().map(|p| p.line() + line_offset);
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
    Ok(split_sentences(text)
        .into_iter()
        .enumerate()
        .map(|(i, sentence)| Record {
            line: 1 + text[..sentence.start].matches('\n').count() as u64,
            id: format!("{name}:{}", i + 1),
            text: sentence.text.to_string(),
            labels: Vec::new(),
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
    fn formats_follow_extensions() {
        assert_eq!(InputFormat::from_path(Path::new("a.CSV")), InputFormat::Csv);
        assert_eq!(InputFormat::from_path(Path::new("a.tsv")), InputFormat::Tsv);
        assert_eq!(InputFormat::from_path(Path::new("a.ndjson")), InputFormat::Jsonl);
        assert_eq!(InputFormat::from_path(Path::new("a.txt")), InputFormat::Text);
        assert_eq!(InputFormat::from_path(Path::new("article")), InputFormat::Text);
    }
}
