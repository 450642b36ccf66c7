//! Classification metrics computed from a confusion matrix: accuracy, per-class precision,
//! recall, F1 and support, macro and weighted averages.
//!
//! Rules (the same as scikit-learn's `classification_report` with `zero_division=0`, except
//! that undefined values are shown as n/a instead of 0):
//! - precision(c) = TP / (TP + FP), n/a when c is never predicted;
//! - recall(c) = TP / (TP + FN), n/a when c never occurs in the data;
//! - F1(c) = 2 TP / (2 TP + FP + FN), which equals the harmonic mean of precision and recall
//!   where both are defined and is 0 for a class that occurs but is never predicted;
//! - averages run over the classes that occur in the data or in the predictions; an n/a
//!   counts as 0 in them, so a class never predicted pulls the macro average down;
//! - macro = plain mean over those classes; weighted = mean weighted by support.
//!
//! linfa's own metrics are not used: in linfa 0.8 precision and recall come out swapped when
//! called as documented, its multiclass F1 is not macro-F1, and undefined values are NaN.

use serde::Serialize;

/// The headline metric used to compare settings and summarize a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Metric {
    Accuracy,
    MacroF1,
    WeightedF1,
    /// The mean F1 of some classes only, such as SemEval-2016's average of FAVOR and AGAINST.
    F1Average(Vec<String>),
}

impl std::str::FromStr for Metric {
    type Err = crate::Error;

    /// Parses `accuracy`, `macro-f1`, `weighted-f1` or `f1-avg:CLASS,CLASS,...`.
    fn from_str(text: &str) -> crate::Result<Metric> {
        let lower = text.trim().to_ascii_lowercase();
        match lower.as_str() {
            "accuracy" => Ok(Metric::Accuracy),
            "macro-f1" => Ok(Metric::MacroF1),
            "weighted-f1" => Ok(Metric::WeightedF1),
            _ => match text.trim().split_once(':') {
                Some((name, classes)) if name.eq_ignore_ascii_case("f1-avg") => {
                    let classes: Vec<String> = classes
                        .split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect();
                    if classes.is_empty() {
                        return Err(crate::Error::Settings(
                            "--metric f1-avg needs classes, for example f1-avg:FAVOR,AGAINST".into(),
                        ));
                    }
                    Ok(Metric::F1Average(classes))
                }
                _ => Err(crate::Error::Settings(format!(
                    "--metric '{text}' is not one of accuracy, macro-f1, weighted-f1, f1-avg:CLASS,CLASS"
                ))),
            },
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Metric::Accuracy => write!(f, "accuracy"),
            Metric::MacroF1 => write!(f, "macro-f1"),
            Metric::WeightedF1 => write!(f, "weighted-f1"),
            Metric::F1Average(classes) => write!(f, "f1-avg:{}", classes.join(",")),
        }
    }
}

impl Metric {
    /// Checks that every class an f1-avg names exists among `classes` of head `head`.
    pub fn check_classes(&self, head: &str, classes: &[String]) -> crate::Result<()> {
        if let Metric::F1Average(wanted) = self {
            let missing: Vec<&String> = wanted.iter().filter(|c| !classes.contains(c)).collect();
            if !missing.is_empty() {
                return Err(crate::Error::Settings(format!(
                    "--metric {self}: head '{head}' has no class {} (its classes: {})",
                    missing.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "),
                    classes.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The metric's value on `report` (an n/a F1 counts as 0).
    pub fn score(&self, report: &Report) -> f64 {
        match self {
            Metric::Accuracy => report.accuracy,
            Metric::MacroF1 => report.macro_avg.f1,
            Metric::WeightedF1 => report.weighted_avg.f1,
            Metric::F1Average(classes) => {
                let values: Vec<f64> = classes
                    .iter()
                    .map(|class| {
                        report
                            .per_class
                            .iter()
                            .find(|m| &m.class == class)
                            .and_then(|m| m.f1)
                            .unwrap_or(0.0)
                    })
                    .collect();
                values.iter().sum::<f64>() / values.len().max(1) as f64
            }
        }
    }
}

/// Metrics of one class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub support: usize,
}

/// Averages over classes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Averages {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// The full report of one head on one data set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Class names; rows and columns of `confusion` follow this order.
    pub classes: Vec<String>,
    /// confusion[t][p] = rows whose true class is t and predicted class is p.
    pub confusion: Vec<Vec<usize>>,
    pub rows: usize,
    pub accuracy: f64,
    pub per_class: Vec<ClassMetrics>,
    pub macro_avg: Averages,
    pub weighted_avg: Averages,
}

impl Report {
    /// Builds the report from class indices of the truth and of the predictions.
    pub fn new(classes: &[String], truth: &[usize], predicted: &[usize]) -> Report {
        assert_eq!(truth.len(), predicted.len(), "one prediction per row");
        let k = classes.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&t, &p) in truth.iter().zip(predicted) {
            confusion[t][p] += 1;
        }
        Report::from_confusion(classes, confusion)
    }

    /// Builds the report from a confusion matrix (rows: truth, columns: prediction).
    pub fn from_confusion(classes: &[String], confusion: Vec<Vec<usize>>) -> Report {
        let k = classes.len();
        let rows: usize = confusion.iter().flatten().sum();
        let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|c| {
                let tp = confusion[c][c];
                let support: usize = confusion[c].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                let (fp, fn_) = (predicted - tp, support - tp);
                ClassMetrics {
                    class: classes[c].clone(),
                    precision: ratio(tp, predicted),
                    recall: ratio(tp, support),
                    f1: ratio(2 * tp, 2 * tp + fp + fn_),
                    support,
                }
            })
            .collect();
        let counted: Vec<&ClassMetrics> = per_class.iter().filter(|m| m.f1.is_some()).collect();
        let value = |v: Option<f64>| v.unwrap_or(0.0);
        let mean = |get: &dyn Fn(&ClassMetrics) -> f64| {
            if counted.is_empty() {
                0.0
            } else {
                counted.iter().map(|m| get(m)).sum::<f64>() / counted.len() as f64
            }
        };
        let weighted = |get: &dyn Fn(&ClassMetrics) -> f64| {
            let total: usize = counted.iter().map(|m| m.support).sum();
            if total == 0 {
                0.0
            } else {
                counted.iter().map(|m| get(m) * m.support as f64).sum::<f64>() / total as f64
            }
        };
        let macro_avg = Averages {
            precision: mean(&|m| value(m.precision)),
            recall: mean(&|m| value(m.recall)),
            f1: mean(&|m| value(m.f1)),
        };
        let weighted_avg = Averages {
            precision: weighted(&|m| value(m.precision)),
            recall: weighted(&|m| value(m.recall)),
            f1: weighted(&|m| value(m.f1)),
        };
        Report {
            classes: classes.to_vec(),
            confusion,
            rows,
            accuracy: ratio(correct, rows).unwrap_or(0.0),
            per_class,
            macro_avg,
            weighted_avg,
        }
    }

    /// The report as text for people, in the layout of scikit-learn's classification_report,
    /// followed by the confusion matrix.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let width = self
            .classes
            .iter()
            .map(|c| c.chars().count())
            .chain([12])
            .max()
            .unwrap_or(12);
        let cell = |v: Option<f64>| match v {
            Some(v) => format!("{v:>9.3}"),
            None => format!("{:>9}", "n/a"),
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$} {:>9} {:>9} {:>9} {:>9}",
            "", "precision", "recall", "f1", "support"
        );
        for m in &self.per_class {
            let _ = writeln!(
                out,
                "{:<width$} {} {} {} {:>9}",
                m.class,
                cell(m.precision),
                cell(m.recall),
                cell(m.f1),
                m.support
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<width$} {:>9} {:>9} {:>9.3} {:>9}",
            "accuracy", "", "", self.accuracy, self.rows
        );
        for (name, avg) in [("macro avg", &self.macro_avg), ("weighted avg", &self.weighted_avg)] {
            let _ = writeln!(
                out,
                "{:<width$} {:>9.3} {:>9.3} {:>9.3} {:>9}",
                name, avg.precision, avg.recall, avg.f1, self.rows
            );
        }
        if self.per_class.iter().any(|m| m.precision.is_none() || m.recall.is_none()) {
            let _ = writeln!(
                out,
                "n/a: precision of a class never predicted, recall of a class absent from the data; averages count n/a as 0"
            );
        }
        let _ = writeln!(out, "\nconfusion matrix (rows: true class, columns: predicted)");
        let column = self
            .classes
            .iter()
            .map(|c| c.chars().count())
            .chain(self.confusion.iter().flatten().map(|v| v.to_string().len()))
            .max()
            .unwrap_or(1);
        let _ = write!(out, "{:<width$}", "");
        for class in &self.classes {
            let _ = write!(out, " {class:>column$}");
        }
        let _ = writeln!(out);
        for (class, row) in self.classes.iter().zip(&self.confusion) {
            let _ = write!(out, "{class:<width$}");
            for v in row {
                let _ = write!(out, " {v:>column$}");
            }
            let _ = writeln!(out);
        }
        out
    }
}

/// One confidence bin of a reliability diagram.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// The bin covers confidences in (lower, upper]; the first bin also includes its lower edge.
    pub lower: f64,
    pub upper: f64,
    pub rows: usize,
    /// Mean confidence (probability of the predicted class) of the rows in the bin.
    pub confidence: Option<f64>,
    /// Share of the rows in the bin whose prediction is right.
    pub accuracy: Option<f64>,
}

/// How well predicted probabilities match observed frequencies.
///
/// - Expected calibration error: rows are put in `bins` equal-width bins by their confidence
///   (the probability of the predicted class); ECE = sum over bins of
///   (rows in bin / all rows) * |accuracy in bin - mean confidence in bin|.
/// - Brier score: the mean over rows of sum over classes (p_k - y_k)^2, with y the one-hot truth;
///   0 is perfect, 2 the worst possible.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    pub expected_calibration_error: f64,
    pub brier_score: f64,
    pub bins: Vec<CalibrationBin>,
}

impl Calibration {
    /// Computes calibration from each row's true class and class probabilities.
    pub fn new(truth: &[usize], probabilities: &[Vec<f64>], bins: usize) -> Calibration {
        assert_eq!(truth.len(), probabilities.len(), "one probability vector per row");
        let n = truth.len();
        let mut totals = vec![(0usize, 0.0f64, 0usize); bins];
        let mut brier = 0.0;
        for (&t, p) in truth.iter().zip(probabilities) {
            let predicted = crate::classifier::argmax(p);
            let confidence = p[predicted];
            let bin = ((confidence * bins as f64).ceil() as usize).clamp(1, bins) - 1;
            totals[bin].0 += 1;
            totals[bin].1 += confidence;
            totals[bin].2 += usize::from(predicted == t);
            brier += p
                .iter()
                .enumerate()
                .map(|(k, &pk)| (pk - if k == t { 1.0 } else { 0.0 }).powi(2))
                .sum::<f64>();
        }
        let mut ece = 0.0;
        let bins: Vec<CalibrationBin> = totals
            .iter()
            .enumerate()
            .map(|(i, &(rows, confidence_sum, correct))| {
                let (confidence, accuracy) = if rows == 0 {
                    (None, None)
                } else {
                    let confidence = confidence_sum / rows as f64;
                    let accuracy = correct as f64 / rows as f64;
                    ece += rows as f64 / n as f64 * (accuracy - confidence).abs();
                    (Some(confidence), Some(accuracy))
                };
                CalibrationBin {
                    lower: i as f64 / bins as f64,
                    upper: (i + 1) as f64 / bins as f64,
                    rows,
                    confidence,
                    accuracy,
                }
            })
            .collect();
        Calibration {
            expected_calibration_error: ece,
            brier_score: if n == 0 { 0.0 } else { brier / n as f64 },
            bins,
        }
    }
}

fn ratio(numerator: usize, denominator: usize) -> Option<f64> {
    if denominator == 0 {
        None
    } else {
        Some(numerator as f64 / denominator as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn binary_metrics_match_hand_computed_values() {
        // truth:     a a a b b b
        // predicted: a a b a a b   -> a: TP 2, FP 2, FN 1; b: TP 1, FP 1, FN 2
        let report = Report::new(&names(&["a", "b"]), &[0, 0, 0, 1, 1, 1], &[0, 0, 1, 0, 0, 1]);
        assert_eq!(report.confusion, vec![vec![2, 1], vec![2, 1]]);
        let a = &report.per_class[0];
        assert_eq!(a.precision, Some(0.5));
        assert!((a.recall.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((a.f1.unwrap() - 4.0 / 7.0).abs() < 1e-12);
        let b = &report.per_class[1];
        assert_eq!(b.precision, Some(0.5));
        assert!((b.recall.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert!((b.f1.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(report.accuracy, 0.5);
        assert!((report.macro_avg.f1 - (4.0 / 7.0 + 0.4) / 2.0).abs() < 1e-12);
        assert!((report.macro_avg.recall - 0.5).abs() < 1e-12);
    }

    #[test]
    fn macro_f1_is_the_mean_of_per_class_f1_not_of_macro_p_and_r() {
        // linfa's multiclass f1_score is the harmonic mean of macro-P and macro-R; ours is
        // the mean of the per-class F1 values, computed by hand here.
        let confusion = vec![vec![2, 1, 0], vec![1, 1, 0], vec![0, 0, 2]];
        let report = Report::from_confusion(&names(&["a", "b", "c"]), confusion);
        // a: TP2 FP1 FN1 -> F1 4/6; b: TP1 FP1 FN1 -> 2/4; c: TP2 FP0 FN0 -> 1.
        let expected = (4.0 / 6.0 + 0.5 + 1.0) / 3.0;
        assert!((report.macro_avg.f1 - expected).abs() < 1e-12);
        // Weighted by support 3, 2, 2.
        let weighted = (3.0 * 4.0 / 6.0 + 2.0 * 0.5 + 2.0 * 1.0) / 7.0;
        assert!((report.weighted_avg.f1 - weighted).abs() < 1e-12);
    }

    #[test]
    fn a_class_never_predicted_is_na_and_counts_as_zero() {
        let report = Report::new(&names(&["a", "b"]), &[0, 0, 1, 1], &[0, 0, 0, 0]);
        let b = &report.per_class[1];
        assert_eq!(b.precision, None);
        assert_eq!(b.recall, Some(0.0));
        assert_eq!(b.f1, Some(0.0));
        assert!((report.macro_avg.precision - 0.25).abs() < 1e-12);
        assert!(report.to_text().contains("n/a"));
        assert!(report.macro_avg.f1.is_finite());
    }

    #[test]
    fn a_class_absent_everywhere_is_left_out_of_averages() {
        let report = Report::new(&names(&["a", "b", "c"]), &[0, 1], &[0, 1]);
        assert_eq!(report.per_class[2].f1, None);
        assert_eq!(report.macro_avg.f1, 1.0);
    }

    #[test]
    fn metrics_parse_and_score() {
        let report = Report::new(&names(&["a", "b", "c"]), &[0, 0, 1, 2], &[0, 1, 1, 1]);
        // a: F1 2/3; b: TP1 FP2 FN0 -> 2/4; c: 0.
        let f1_ab: Metric = "f1-avg:a,b".parse().unwrap();
        assert!((f1_ab.score(&report) - (2.0 / 3.0 + 0.5) / 2.0).abs() < 1e-12);
        assert_eq!("accuracy".parse::<Metric>().unwrap().score(&report), 0.5);
        assert_eq!("Macro-F1".parse::<Metric>().unwrap(), Metric::MacroF1);
        assert!("f1-avg:".parse::<Metric>().is_err());
        assert!("auc".parse::<Metric>().is_err());
        assert!(f1_ab.check_classes("h", &names(&["a", "c"])).is_err());
        assert_eq!(f1_ab.to_string(), "f1-avg:a,b");
    }

    #[test]
    fn calibration_matches_hand_computed_values() {
        // Two rows at confidence 0.9 (one right), one at 0.6 (right); 10 bins.
        let truth = [0, 1, 0];
        let probabilities = vec![vec![0.9, 0.1], vec![0.9, 0.1], vec![0.6, 0.4]];
        let c = Calibration::new(&truth, &probabilities, 10);
        // Bin (0.8, 0.9]: 2 rows, confidence 0.9, accuracy 0.5; bin (0.5, 0.6]: 1 row, 0.6 vs 1.
        let ece = 2.0 / 3.0 * (0.5f64 - 0.9).abs() + 1.0 / 3.0 * (1.0f64 - 0.6).abs();
        assert!((c.expected_calibration_error - ece).abs() < 1e-12);
        let brier = ((0.1f64.powi(2) + 0.1f64.powi(2))
            + (0.9f64.powi(2) + 0.9f64.powi(2))
            + (0.4f64.powi(2) + 0.4f64.powi(2)))
            / 3.0;
        assert!((c.brier_score - brier).abs() < 1e-12);
        assert_eq!(c.bins[8].rows, 2);
        assert_eq!(c.bins[5].rows, 1);
        assert_eq!(c.bins.iter().map(|b| b.rows).sum::<usize>(), 3);
        assert_eq!(c.bins[0].accuracy, None);
    }

    #[test]
    fn perfect_confident_predictions_are_perfectly_calibrated() {
        let c = Calibration::new(&[0, 1], &[vec![1.0, 0.0], vec![0.0, 1.0]], 10);
        assert_eq!(c.expected_calibration_error, 0.0);
        assert_eq!(c.brier_score, 0.0);
        assert_eq!(c.bins[9].rows, 2);
    }

    #[test]
    fn text_report_shows_every_class_and_the_matrix() {
        let report = Report::new(&names(&["neutral", "accusatory"]), &[0, 1], &[0, 0]);
        let text = report.to_text();
        assert!(text.contains("neutral"));
        assert!(text.contains("accusatory"));
        assert!(text.contains("confusion matrix"));
        assert!(text.contains("macro avg"));
    }
}
