//! Evaluation of a model on labeled data: one metrics report per head found in the data.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::data::{self, Columns, InputFormat, Record};
use crate::error::{Error, Result};
use crate::metrics::{Calibration, Report};
use crate::model::Model;
use crate::predict::predict_records;

/// The evaluation of one head.
#[derive(Clone, Debug, Serialize)]
pub struct HeadEvaluation {
    pub head: String,
    /// Rows with a label for this head (rows with an empty label are skipped).
    pub rows: usize,
    pub report: Report,
    /// Reliability of the predicted probabilities (10 bins).
    pub calibration: Calibration,
}

/// Evaluates every head of `model` whose label column is in the file at `path`.
pub fn evaluate(
    model: &Model,
    path: &Path,
    format: InputFormat,
    text_column: &str,
) -> Result<Vec<HeadEvaluation>> {
    if !format.is_tabular() {
        return Err(Error::file(
            path,
            "eval needs labeled rows: give a CSV, TSV or JSONL file (or set --input-format)",
        ));
    }
    let found = data::column_names(path, format)?;
    let heads: Vec<String> = model
        .heads()
        .iter()
        .map(|h| h.name.clone())
        .filter(|name| found.contains(name))
        .collect();
    if heads.is_empty() {
        let wanted: Vec<&str> = model.heads().iter().map(|h| h.name.as_str()).collect();
        return Err(Error::file(
            path,
            format!(
                "has no column for any head of the model (heads: {}; columns found: {})",
                wanted.join(", "),
                found.join(", ")
            ),
        ));
    }
    let columns = Columns {
        text: text_column.to_string(),
        id: "id".to_string(),
        labels: heads.clone(),
    };
    let records = data::read_records(path, format, &columns)?;
    let predictions = predict_records(model, &records);

    let mut evaluations = Vec::new();
    for (column, name) in heads.iter().enumerate() {
        let (head_index, head) = model
            .heads()
            .iter()
            .enumerate()
            .find(|(_, h)| &h.name == name)
            .expect("heads were filtered from the model");
        let classes = head.classes();
        check_known_labels(path, name, classes, &records, column)?;
        let mut truth = Vec::new();
        let mut predicted = Vec::new();
        let mut probabilities = Vec::new();
        for (record, prediction) in records.iter().zip(&predictions) {
            if let Some(label) = &record.labels[column] {
                truth.push(classes.iter().position(|c| c == label).expect("labels were checked"));
                predicted.push(prediction[head_index].label);
                probabilities.push(prediction[head_index].probabilities.clone());
            }
        }
        if truth.is_empty() {
            return Err(Error::file(
                path,
                format!("the column '{name}' is empty in every row; nothing to evaluate"),
            ));
        }
        evaluations.push(HeadEvaluation {
            head: name.clone(),
            rows: truth.len(),
            report: Report::new(classes, &truth, &predicted),
            calibration: Calibration::new(&truth, &probabilities, 10),
        });
    }
    Ok(evaluations)
}

/// Fails with every label the head does not know, the rows it was seen on, and the known ones.
fn check_known_labels(
    path: &Path,
    head: &str,
    classes: &[String],
    records: &[Record],
    column: usize,
) -> Result<()> {
    let mut unknown: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for record in records {
        if let Some(label) = &record.labels[column] {
            if !classes.contains(label) {
                unknown.entry(label.as_str()).or_default().push(record.line);
            }
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = unknown
        .iter()
        .map(|(label, lines)| {
            let shown: Vec<String> = lines.iter().take(3).map(|l| l.to_string()).collect();
            let more = if lines.len() > 3 { ", ..." } else { "" };
            format!("'{label}' (line {}{more})", shown.join(", "))
        })
        .collect();
    Err(Error::file(
        path,
        format!(
            "column '{head}' has labels the model does not know: {}; the model's classes are: {}",
            listed.join(", "),
            classes.join(", ")
        ),
    ))
}
