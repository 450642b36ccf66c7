//! K-fold cross-validation: deterministic stratified folds, a fresh model (vocabulary, idf and
//! weights) per fold so nothing leaks from the held-out rows, folds run in parallel.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::metrics::{Calibration, Report};
use crate::model::{Model, TrainSettings, TrainingData};

/// Assigns each row to one of `k` folds, stratified by `strata` (one class per row; `None` rows
/// form a stratum of their own). Rows of each stratum are shuffled with a ChaCha8 generator
/// seeded by `seed` and dealt to the folds in turn, continuing where the previous stratum
/// stopped, so fold sizes differ by at most one and class shares are as even as possible.
pub fn stratified_folds(strata: &[Option<String>], k: usize, seed: u64) -> Vec<usize> {
    let mut by_stratum: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (row, stratum) in strata.iter().enumerate() {
        by_stratum.entry(stratum.as_deref()).or_default().push(row);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold_of = vec![0; strata.len()];
    let mut next = 0;
    for rows in by_stratum.values_mut() {
        rows.shuffle(&mut rng);
        for &row in rows.iter() {
            fold_of[row] = next;
            next = (next + 1) % k;
        }
    }
    fold_of
}

/// Mean and standard deviation (sample, n - 1) of a metric over folds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    /// Summarizes `values`; the std is 0 for a single value.
    pub fn of(values: &[f64]) -> MeanStd {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        MeanStd { mean, std }
    }
}

impl std::fmt::Display for MeanStd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} ± {:.3}", self.mean, self.std)
    }
}

/// Cross-validated results of one head.
#[derive(Clone, Debug, Serialize)]
pub struct HeadCv {
    pub head: String,
    pub accuracy: MeanStd,
    pub macro_f1: MeanStd,
    pub weighted_f1: MeanStd,
    /// F1 per class over folds, in class order.
    pub class_f1: Vec<(String, MeanStd)>,
    /// The report of all held-out predictions pooled together.
    pub pooled: Report,
    /// Calibration of all held-out probabilities pooled together (10 bins).
    pub calibration: Calibration,
    /// Each fold's report.
    pub folds: Vec<Report>,
}

/// Held-out rows of one head in one fold: true class, predicted class and probabilities, all
/// in the class order of the whole data set.
#[derive(Default)]
struct HeldOut {
    truth: Vec<usize>,
    predicted: Vec<usize>,
    probabilities: Vec<Vec<f64>>,
}

/// The outcome of a cross-validation run.
#[derive(Clone, Debug, Serialize)]
pub struct CvResult {
    pub k: usize,
    pub seed: u64,
    pub heads: Vec<HeadCv>,
}

/// Cross-validates `settings` on `data` with `k` stratified folds (stratified by the first head's
/// labels). Each fold trains a full model on the other folds and predicts its own rows. Folds run
/// in parallel on the current rayon pool; `on_fold` is called as each one finishes.
pub fn cross_validate(
    data: &TrainingData,
    settings: &TrainSettings,
    k: usize,
    seed: u64,
    on_fold: &(dyn Fn(usize) + Sync),
) -> Result<CvResult> {
    settings.validate()?;
    let n = data.texts.len();
    if k < 2 {
        return Err(Error::Settings(format!("--cv needs at least 2 folds, got {k}")));
    }
    if k > n {
        return Err(Error::Settings(format!(
            "--cv {k} asks for more folds than the {n} rows"
        )));
    }
    let Some((_, strata)) = data.heads.first() else {
        return Err(Error::Settings("no label column given; name one with --label-column".into()));
    };
    let fold_of = stratified_folds(strata, k, seed);
    // Class lists per head, from all the data.
    let all_classes: Vec<Vec<String>> = (0..data.heads.len()).map(|h| data.classes(h)).collect();

    let outcomes: Vec<Vec<HeldOut>> = (0..k)
        .into_par_iter()
        .map(|fold| -> Result<Vec<HeldOut>> {
            let pick = |held_out: bool| -> Vec<usize> {
                (0..n).filter(|&i| (fold_of[i] == fold) == held_out).collect()
            };
            let (train_rows, test_rows) = (pick(false), pick(true));
            let subset = |rows: &[usize]| TrainingData {
                texts: rows.iter().map(|&i| data.texts[i].clone()).collect(),
                heads: data
                    .heads
                    .iter()
                    .map(|(name, labels)| (name.clone(), rows.iter().map(|&i| labels[i].clone()).collect()))
                    .collect(),
                data_file: data.data_file.clone(),
                data_sha256: data.data_sha256.clone(),
                text_column: data.text_column.clone(),
            };
            let model = Model::train(&subset(&train_rows), settings, &mut |_| {})?;
            let test = subset(&test_rows);
            let predictions = model.predict(&test.texts);
            let per_head = model
                .heads()
                .iter()
                .enumerate()
                .map(|(h, head)| {
                    let mut held_out = HeldOut::default();
                    for (label, prediction) in test.heads[h].1.iter().zip(&predictions) {
                        // Rows are scored in the class list of the whole data set, so that every
                        // fold's report has the same columns; the fold's model may lack a class
                        // that none of its training rows had, and then never predicts it.
                        let Some(label) = label else { continue };
                        let t = all_classes[h].binary_search(label).expect("classes come from the data");
                        let mut probabilities = vec![0.0; all_classes[h].len()];
                        for (class, &p) in head.classes().iter().zip(&prediction[h].probabilities) {
                            probabilities[all_classes[h].binary_search(class).expect("fold classes are a subset")] = p;
                        }
                        held_out.truth.push(t);
                        held_out.predicted.push(crate::classifier::argmax(&probabilities));
                        held_out.probabilities.push(probabilities);
                    }
                    held_out
                })
                .collect();
            on_fold(fold);
            Ok(per_head)
        })
        .collect::<Result<_>>()?;

    let heads = data
        .heads
        .iter()
        .enumerate()
        .map(|(h, (name, _))| {
            let classes = &all_classes[h];
            let reports: Vec<Report> = outcomes
                .iter()
                .map(|fold| Report::new(classes, &fold[h].truth, &fold[h].predicted))
                .collect();
            let truth: Vec<usize> = outcomes.iter().flat_map(|f| f[h].truth.iter().copied()).collect();
            let probabilities: Vec<Vec<f64>> =
                outcomes.iter().flat_map(|f| f[h].probabilities.iter().cloned()).collect();
            let mut pooled_confusion = vec![vec![0; classes.len()]; classes.len()];
            for report in &reports {
                for (t, row) in report.confusion.iter().enumerate() {
                    for (p, v) in row.iter().enumerate() {
                        pooled_confusion[t][p] += v;
                    }
                }
            }
            let metric = |get: &dyn Fn(&Report) -> f64| MeanStd::of(&reports.iter().map(get).collect::<Vec<_>>());
            HeadCv {
                head: name.clone(),
                accuracy: metric(&|r| r.accuracy),
                macro_f1: metric(&|r| r.macro_avg.f1),
                weighted_f1: metric(&|r| r.weighted_avg.f1),
                class_f1: classes
                    .iter()
                    .enumerate()
                    .map(|(c, class)| (class.clone(), metric(&|r| r.per_class[c].f1.unwrap_or(0.0))))
                    .collect(),
                pooled: Report::from_confusion(classes, pooled_confusion),
                calibration: Calibration::new(&truth, &probabilities, 10),
                folds: reports,
            }
        })
        .collect();
    Ok(CvResult { k, seed, heads })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(spec: &[(&str, usize)]) -> Vec<Option<String>> {
        spec.iter()
            .flat_map(|(l, n)| std::iter::repeat_n(Some(l.to_string()), *n))
            .collect()
    }

    #[test]
    fn folds_are_stratified_balanced_and_deterministic() {
        let strata = labels(&[("a", 30), ("b", 10), ("c", 5)]);
        let folds = stratified_folds(&strata, 5, 7);
        assert_eq!(folds, stratified_folds(&strata, 5, 7));
        assert_ne!(folds, stratified_folds(&strata, 5, 8));
        for fold in 0..5 {
            let count = |class: &str| {
                strata
                    .iter()
                    .zip(&folds)
                    .filter(|(s, f)| s.as_deref() == Some(class) && **f == fold)
                    .count()
            };
            assert_eq!(count("a"), 6);
            assert_eq!(count("b"), 2);
            assert_eq!(count("c"), 1);
        }
    }

    #[test]
    fn fold_sizes_differ_by_at_most_one_and_every_row_is_held_out_once() {
        let strata = labels(&[("a", 7), ("b", 6)]);
        let folds = stratified_folds(&strata, 3, 1);
        let sizes: Vec<usize> = (0..3).map(|f| folds.iter().filter(|&&x| x == f).count()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 13);
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
    }

    #[test]
    fn mean_and_sample_std() {
        let m = MeanStd::of(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m.mean - 2.5).abs() < 1e-12);
        assert!((m.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(MeanStd::of(&[0.7]).std, 0.0);
    }
}
