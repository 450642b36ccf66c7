//! One classification head: a linfa-logistic multinomial model fitted on TF-IDF rows, with the
//! convergence report linfa does not give, and fast sparse scoring.
//!
//! Training minimizes linfa-logistic's objective
//! J(W, b) = sum_i -log softmax(x_i W + b)[y_i] + (alpha / 2) ||W||^2
//! (a sum over rows; the intercept b is not penalized). `alpha` = 1 / C of scikit-learn.
//!
//! linfa-logistic's `fit` returns only the best parameters, not how many iterations it ran or
//! whether it converged. So the fit runs in rounds of [`ROUND_ITERATIONS`] L-BFGS iterations,
//! each round a plain linfa `fit` warm-started from the previous round's weights. After each
//! round we compute the loss and gradient ourselves (in f64, on the sparse rows) and stop when
//! the gradient's largest component, divided by the number of rows, is at most `tolerance`
//! (scikit-learn's `tol` rule for lbfgs), when the loss stops falling, or when `max_iterations`
//! are used, in which case the report says the limit was reached.

use std::collections::BTreeMap;

use linfa::prelude::*;
use linfa_logistic::{MultiFittedLogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::design::Design;
use crate::tfidf::SparseRow;

/// L-BFGS iterations per round between our own convergence checks.
pub const ROUND_ITERATIONS: u64 = 10;

/// How training rows of each class are weighted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeight {
    /// Every row counts once.
    #[default]
    None,
    /// Every class weighs as much as the largest one. linfa-logistic has no sample weights, so
    /// rows are replicated: with a summed loss, a row present k times has weight k exactly. Rows
    /// of a class with n_c rows are copied floor(n_max / n_c) times, and the remaining
    /// n_max mod n_c copies go to the class's first rows in data order, so every class ends up
    /// with n_max rows and the result is deterministic.
    Balanced,
}

/// Settings of the logistic-regression fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierSettings {
    /// L2 regularization strength (linfa's `alpha`, scikit-learn's 1/C). Default 1.0.
    pub alpha: f64,
    /// Most L-BFGS iterations in all. Default 100.
    pub max_iterations: u64,
    /// Stop when max |gradient| / rows <= tolerance. Default 1e-4.
    pub tolerance: f64,
    /// Class weighting. Default none.
    #[serde(default)]
    pub class_weight: ClassWeight,
}

impl Default for ClassifierSettings {
    fn default() -> Self {
        ClassifierSettings {
            alpha: 1.0,
            max_iterations: 100,
            tolerance: 1e-4,
            class_weight: ClassWeight::None,
        }
    }
}

/// Row indices (into the training rows) after balanced replication; see [`ClassWeight`].
pub fn balanced_replication(targets: &[usize], n_classes: usize) -> Vec<usize> {
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (row, &class) in targets.iter().enumerate() {
        rows_of[class].push(row);
    }
    let largest = rows_of.iter().map(Vec::len).max().unwrap_or(0);
    let mut copies = vec![0usize; targets.len()];
    for rows in rows_of.iter().filter(|r| !r.is_empty()) {
        let (each, extra) = (largest / rows.len(), largest % rows.len());
        for (i, &row) in rows.iter().enumerate() {
            copies[row] = each + usize::from(i < extra);
        }
    }
    (0..targets.len())
        .flat_map(|row| std::iter::repeat_n(row, copies[row]))
        .collect()
}

impl ClassifierSettings {
    /// Checks the settings before any work starts.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(Error::Settings(format!(
                "--alpha must be a positive number, got {}",
                self.alpha
            )));
        }
        if self.max_iterations == 0 {
            return Err(Error::Settings("--max-iterations must be at least 1".into()));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::Settings(format!(
                "--tolerance must be a positive number, got {}",
                self.tolerance
            )));
        }
        Ok(())
    }
}

/// How a fit ended, measured by us after linfa's rounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Rows the head was trained on.
    pub rows: usize,
    /// Training rows per class.
    pub rows_per_class: BTreeMap<String, usize>,
    /// L-BFGS iterations run (an upper bound within one round: linfa may stop a round early).
    pub iterations: u64,
    /// True when the fit stopped because `max_iterations` were used without converging.
    pub reached_iteration_limit: bool,
    /// Objective J divided by the number of rows, at the returned weights.
    pub final_loss: f64,
    /// max |dJ/dw| / rows at the returned weights.
    pub gradient_max: f64,
    /// Share of training rows whose predicted label equals their label.
    pub training_accuracy: f64,
}

/// (feature index, weight) pairs.
pub type FeatureWeights = Vec<(usize, f32)>;

/// A trained head: one label column, its classes and its fitted linfa model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Head {
    /// The label column's name, such as `stance`.
    pub name: String,
    model: MultiFittedLogisticRegression<f32, String>,
    /// The fit's report.
    pub fit: FitReport,
}

/// A prediction of one head for one sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadPrediction {
    /// Index into the head's classes of the most probable class.
    pub label: usize,
    /// One probability per class, in class order; they sum to 1.
    pub probabilities: Vec<f64>,
    /// When explained: the terms that pushed the chosen class up most, as (term, weight x
    /// feature value), largest first. Empty otherwise.
    pub terms: Vec<(String, f64)>,
}

impl Head {
    /// Fits a head on `design` (one row per labeled sentence) and class names per row.
    /// `on_round` is told the iterations done and the current mean loss after every round.
    pub fn fit(
        name: &str,
        design: &Design,
        labels: &[String],
        settings: &ClassifierSettings,
        on_round: &mut dyn FnMut(u64, f64),
    ) -> Result<Head> {
        Head::fit_from(name, design, labels, settings, None, on_round)
    }

    /// Like [`Head::fit`], but starts L-BFGS from `initial` (feature weights stacked over the
    /// intercept, (features + 1) x classes, as [`Head::stacked_params`] gives) instead of zeros.
    /// A warm start from the solution of a neighbouring `alpha` on the same rows reaches the
    /// same optimum, usually in fewer iterations.
    pub fn fit_from(
        name: &str,
        design: &Design,
        labels: &[String],
        settings: &ClassifierSettings,
        initial: Option<Array2<f32>>,
        on_round: &mut dyn FnMut(u64, f64),
    ) -> Result<Head> {
        settings.validate()?;
        let training_error = |message: String| Error::Training {
            head: name.to_string(),
            message,
        };
        let mut rows_per_class = BTreeMap::new();
        for label in labels {
            *rows_per_class.entry(label.clone()).or_insert(0usize) += 1;
        }
        if rows_per_class.len() < 2 {
            let only = rows_per_class.keys().next().cloned().unwrap_or_default();
            return Err(training_error(format!(
                "all {} labeled rows have the class '{only}'; a classifier needs at least two classes",
                labels.len()
            )));
        }
        let classes: Vec<String> = rows_per_class.keys().cloned().collect();
        let targets: Vec<usize> = labels
            .iter()
            .map(|l| classes.binary_search(l).expect("class list is built from the labels"))
            .collect();
        // With balanced weights the fit sees replicated rows; loss and gradient are those of
        // the weighted objective, training accuracy is measured on the rows as given.
        let replicated = match settings.class_weight {
            ClassWeight::None => None,
            ClassWeight::Balanced => {
                let rows = balanced_replication(&targets, classes.len());
                Some((
                    design.select(&rows),
                    rows.iter().map(|&r| labels[r].clone()).collect::<Vec<_>>(),
                    rows.iter().map(|&r| targets[r]).collect::<Vec<_>>(),
                ))
            }
        };
        let (fit_design, fit_labels, fit_targets) = match &replicated {
            Some((design, labels, targets)) => (design, &labels[..], &targets[..]),
            None => (design, labels, &targets[..]),
        };
        let fit_sparse = fit_design.rows();
        let fit_x = fit_design.matrix();
        let n = fit_labels.len();
        let dataset = DatasetView::new(fit_x, ndarray::ArrayView1::from(fit_labels));

        // linfa works in the design's coordinates; a warm start arrives in feature space.
        let mut params: Option<Array2<f32>> = initial.map(|stacked| {
            let features = stacked.nrows() - 1;
            let weights = design.from_feature_weights(stacked.slice(ndarray::s![..features, ..]));
            ndarray::concatenate(Axis(0), &[weights.view(), stacked.slice(ndarray::s![features.., ..])])
                .expect("weights and intercept have the same number of classes")
        });
        let mut model: Option<MultiFittedLogisticRegression<f32, String>> = None;
        let mut iterations = 0;
        let mut previous_loss = f64::INFINITY;
        let mut converged = false;
        let mut state = LossState::default();
        while iterations < settings.max_iterations {
            let round = ROUND_ITERATIONS.min(settings.max_iterations - iterations);
            let mut solver = MultiLogisticRegression::<f32>::default()
                .alpha(settings.alpha as f32)
                .max_iterations(round)
                .gradient_tolerance((settings.tolerance * n as f64) as f32);
            if let Some(p) = params.take() {
                solver = solver.initial_params(p);
            }
            let fitted = solver
                .fit(&dataset)
                .map_err(|e| training_error(format!("linfa-logistic failed: {e}")))?;
            iterations += round;
            params = Some(stack_params(&fitted));
            let in_features = in_feature_space(&fitted, fit_design).map_err(training_error)?;
            state = loss_and_gradient(&in_features, fit_sparse, fit_targets, settings.alpha);
            model = Some(in_features);
            on_round(iterations, state.loss / n as f64);
            if state.gradient_max / n as f64 <= settings.tolerance {
                converged = true;
                break;
            }
            // linfa's line search can make no progress in f32; more rounds would not help.
            if previous_loss.is_finite() && previous_loss - state.loss <= 1e-7 * previous_loss.abs() {
                converged = true;
                break;
            }
            previous_loss = state.loss;
        }
        let model = model.expect("at least one round runs");
        let correct = if replicated.is_some() {
            loss_and_gradient(&model, design.rows(), &targets, settings.alpha).correct
        } else {
            state.correct
        };
        let fit = FitReport {
            rows: labels.len(),
            rows_per_class,
            iterations,
            reached_iteration_limit: !converged,
            final_loss: state.loss / n as f64,
            gradient_max: state.gradient_max / n as f64,
            training_accuracy: correct as f64 / labels.len() as f64,
        };
        Ok(Head {
            name: name.to_string(),
            model,
            fit,
        })
    }

    /// The classes, sorted.
    pub fn classes(&self) -> &[String] {
        self.model.classes()
    }

    /// The weight matrix (features x classes).
    pub fn weights(&self) -> &Array2<f32> {
        self.model.params()
    }

    /// The intercept per class.
    pub fn intercept(&self) -> &Array1<f32> {
        self.model.intercept()
    }

    /// Weights stacked over the intercept: (features + 1) x classes, linfa's parameter layout.
    pub fn stacked_params(&self) -> Array2<f32> {
        stack_params(&self.model)
    }

    /// The fitted linfa model.
    pub fn linfa_model(&self) -> &MultiFittedLogisticRegression<f32, String> {
        &self.model
    }

    /// Raw class scores x W + b of a sparse row, computed without densifying.
    pub fn scores(&self, row: &SparseRow) -> Vec<f64> {
        let weights = self.model.params();
        let mut scores: Vec<f64> = self.model.intercept().iter().map(|&b| b as f64).collect();
        for (feature, value) in row.iter() {
            for (score, &w) in scores.iter_mut().zip(weights.row(feature)) {
                *score += value as f64 * w as f64;
            }
        }
        scores
    }

    /// The most probable class and all class probabilities of a sparse row.
    pub fn predict(&self, row: &SparseRow) -> HeadPrediction {
        let probabilities = softmax(&self.scores(row));
        let label = argmax(&probabilities);
        HeadPrediction {
            label,
            probabilities,
            terms: Vec::new(),
        }
    }

    /// The contribution of each feature of `row` to the score of `class`: weight x feature
    /// value, largest first (ties by feature index, so the order is deterministic).
    pub fn contributions(&self, row: &SparseRow, class: usize) -> Vec<(usize, f64)> {
        let weights = self.model.params();
        let mut contributions: Vec<(usize, f64)> = row
            .iter()
            .map(|(feature, value)| (feature, weights[(feature, class)] as f64 * value as f64))
            .collect();
        contributions.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        contributions
    }

    /// The `n` features with the largest and the `n` with the smallest weights for `class`:
    /// (most positive first, most negative first).
    pub fn extreme_weights(&self, class: usize, n: usize) -> (FeatureWeights, FeatureWeights) {
        let mut weights: Vec<(usize, f32)> = self
            .model
            .params()
            .column(class)
            .iter()
            .copied()
            .enumerate()
            .collect();
        weights.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let positive = weights.iter().take(n).copied().filter(|w| w.1 > 0.0).collect();
        let negative = weights.iter().rev().take(n).copied().filter(|w| w.1 < 0.0).collect();
        (positive, negative)
    }

    /// Checks that a loaded head is consistent with `n_features`.
    pub fn check(&self, n_features: usize) -> std::result::Result<(), String> {
        let (rows, columns) = self.model.params().dim();
        let classes = self.model.classes().len();
        if rows != n_features {
            return Err(format!(
                "head '{}' has weights for {rows} features but the vocabulary has {n_features}",
                self.name
            ));
        }
        if columns != classes || self.model.intercept().len() != classes || classes < 2 {
            return Err(format!(
                "head '{}' has {classes} classes but weights for {columns}",
                self.name
            ));
        }
        if self.model.params().iter().any(|w| !w.is_finite())
            || self.model.intercept().iter().any(|w| !w.is_finite())
        {
            return Err(format!("head '{}' holds non-finite weights", self.name));
        }
        Ok(())
    }
}

/// linfa's fit on `design` expressed in feature space: the same intercept and classes, with the
/// weights mapped back by [`Design::to_feature_weights`]. linfa keeps the fitted model's
/// constructor private, so the model is rebuilt through its public serde form.
fn in_feature_space(
    fitted: &MultiFittedLogisticRegression<f32, String>,
    design: &Design,
) -> std::result::Result<MultiFittedLogisticRegression<f32, String>, String> {
    if !design.is_row_space() {
        return Ok(fitted.clone());
    }
    #[derive(Serialize)]
    struct Parts<'a> {
        intercept: &'a Array1<f32>,
        params: Array2<f32>,
        classes: &'a [String],
    }
    let parts = Parts {
        intercept: fitted.intercept(),
        params: design.to_feature_weights(fitted.params().view()),
        classes: fitted.classes(),
    };
    if parts.params.iter().chain(parts.intercept.iter()).any(|w| !w.is_finite()) {
        return Err("the fit produced non-finite weights".into());
    }
    serde_json::to_value(&parts)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("could not rebuild the fitted model: {e}"))
}

/// Weights and intercept stacked as linfa's initial parameters: (features + 1) x classes.
fn stack_params(model: &MultiFittedLogisticRegression<f32, String>) -> Array2<f32> {
    let intercept = model.intercept().view().insert_axis(Axis(0));
    ndarray::concatenate(Axis(0), &[model.params().view(), intercept])
        .expect("weights and intercept have the same number of classes")
}

#[derive(Default)]
struct LossState {
    loss: f64,
    gradient_max: f64,
    correct: usize,
}

/// linfa's objective J, the largest absolute component of its gradient, and the number of rows
/// predicted right, all computed in f64 on the sparse rows.
fn loss_and_gradient(
    model: &MultiFittedLogisticRegression<f32, String>,
    rows: &[SparseRow],
    targets: &[usize],
    alpha: f64,
) -> LossState {
    let weights = model.params();
    let (n_features, n_classes) = weights.dim();
    let mut gradient = Array2::<f64>::zeros((n_features, n_classes));
    let mut intercept_gradient = vec![0.0f64; n_classes];
    let mut loss = 0.0;
    let mut correct = 0;
    for (row, &target) in rows.iter().zip(targets) {
        let mut scores: Vec<f64> = model.intercept().iter().map(|&b| b as f64).collect();
        for (feature, value) in row.iter() {
            for (score, &w) in scores.iter_mut().zip(weights.row(feature)) {
                *score += value as f64 * w as f64;
            }
        }
        let probabilities = softmax(&scores);
        loss -= probabilities[target].max(f64::MIN_POSITIVE).ln();
        if argmax(&probabilities) == target {
            correct += 1;
        }
        for (class, &p) in probabilities.iter().enumerate() {
            let diff = p - if class == target { 1.0 } else { 0.0 };
            intercept_gradient[class] += diff;
            for (feature, value) in row.iter() {
                gradient[(feature, class)] += value as f64 * diff;
            }
        }
    }
    let mut squared_norm = 0.0;
    for ((g, &w), _) in gradient.iter_mut().zip(weights.iter()).zip(0..) {
        *g += alpha * w as f64;
        squared_norm += (w as f64) * (w as f64);
    }
    loss += 0.5 * alpha * squared_norm;
    let gradient_max = gradient
        .iter()
        .chain(intercept_gradient.iter())
        .fold(0.0f64, |m, g| m.max(g.abs()));
    LossState {
        loss,
        gradient_max,
        correct,
    }
}

/// Numerically stable softmax.
pub fn softmax(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / total).collect()
}

/// Index of the largest value; the first one on ties, so predictions are deterministic.
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfidf::to_dense;

    /// Three separable classes in four features.
    fn toy() -> (Vec<SparseRow>, Vec<String>) {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..30 {
            let class = i % 3;
            let noise = (i / 3) as f32 * 0.01;
            rows.push(SparseRow {
                indices: vec![class as u32, 3],
                values: vec![1.0 - noise, 0.2 + noise],
            });
            labels.push(["a", "b", "c"][class].to_string());
        }
        (rows, labels)
    }

    fn fit(settings: &ClassifierSettings) -> Head {
        let (rows, labels) = toy();
        Head::fit("h", &Design::new(&rows, 4), &labels, settings, &mut |_, _| {}).unwrap()
    }

    #[test]
    fn sparse_scoring_agrees_with_linfa_predict() {
        let head = fit(&ClassifierSettings {
            alpha: 0.1,
            ..ClassifierSettings::default()
        });
        let (rows, _) = toy();
        let dense = to_dense(&rows, 4);
        let linfa_labels = head.linfa_model().predict(&dense);
        let linfa_probabilities = head.linfa_model().predict_probabilities(&dense);
        for (r, row) in rows.iter().enumerate() {
            let ours = head.predict(row);
            assert_eq!(head.classes()[ours.label], linfa_labels[r]);
            for (c, p) in ours.probabilities.iter().enumerate() {
                assert!((p - linfa_probabilities[(r, c)] as f64).abs() < 1e-5);
            }
            assert!((ours.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        assert_eq!(head.fit.training_accuracy, 1.0);
    }

    #[test]
    fn rounds_reach_the_same_optimum_as_one_plain_linfa_fit() {
        let settings = ClassifierSettings {
            alpha: 0.5,
            max_iterations: 200,
            tolerance: 1e-6,
            ..ClassifierSettings::default()
        };
        let head = fit(&settings);
        let (rows, labels) = toy();
        let dense = to_dense(&rows, 4);
        let plain = MultiLogisticRegression::<f32>::default()
            .alpha(0.5)
            .max_iterations(200)
            .fit(&DatasetView::new(dense.view(), ndarray::ArrayView1::from(&labels[..])))
            .unwrap();
        for (ours, theirs) in head.weights().iter().zip(plain.params().iter()) {
            assert!((ours - theirs).abs() < 2e-3, "{ours} vs {theirs}");
        }
        assert!(!head.fit.reached_iteration_limit);
    }

    #[test]
    fn a_warm_start_reaches_the_cold_optimum() {
        let (rows, labels) = toy();
        let design = Design::new(&rows, 4);
        let settings = |alpha| ClassifierSettings {
            alpha,
            max_iterations: 300,
            tolerance: 1e-6,
            ..ClassifierSettings::default()
        };
        let fit = |alpha, initial| {
            Head::fit_from("h", &design, &labels, &settings(alpha), initial, &mut |_, _| {}).unwrap()
        };
        let neighbour = fit(0.3, None);
        let cold = fit(0.2, None);
        let warm = fit(0.2, Some(neighbour.stacked_params()));
        for (a, b) in cold.weights().iter().zip(warm.weights().iter()) {
            assert!((a - b).abs() < 2e-3, "{a} vs {b}");
        }
        // Started at its own optimum, a fit stops after the first round.
        let again = fit(0.2, Some(cold.stacked_params()));
        assert_eq!(again.fit.iterations, ROUND_ITERATIONS);
        assert!(!again.fit.reached_iteration_limit);
    }

    #[test]
    fn loss_and_gradient_match_a_hand_computation() {
        let head = fit(&ClassifierSettings {
            max_iterations: 1,
            ..ClassifierSettings::default()
        });
        let (rows, labels) = toy();
        let targets: Vec<usize> = labels
            .iter()
            .map(|l| head.classes().iter().position(|c| c == l).unwrap())
            .collect();
        let alpha = 1.0;
        // Hand computation straight from the formula, in f64.
        let w = head.weights().mapv(|v| v as f64);
        let mut expected = 0.0;
        for (row, &t) in rows.iter().zip(&targets) {
            let p = softmax(&head.scores(row));
            expected -= p[t].ln();
        }
        expected += 0.5 * alpha * w.iter().map(|v| v * v).sum::<f64>();
        let state = loss_and_gradient(head.linfa_model(), &rows, &targets, alpha);
        assert!((state.loss - expected).abs() < 1e-9 * expected.abs().max(1.0));
        assert_eq!(head.fit.final_loss, state.loss / rows.len() as f64);
        assert!(head.fit.reached_iteration_limit, "one iteration cannot converge here: {:?}", head.fit);
        assert_eq!(head.fit.iterations, 1);
    }

    #[test]
    fn one_class_is_an_error() {
        let rows = vec![SparseRow::default(); 3];
        let labels = vec!["x".to_string(); 3];
        let error = Head::fit(
            "stance",
            &Design::new(&rows, 2),
            &labels,
            &ClassifierSettings::default(),
            &mut |_, _| {},
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("stance"), "{error}");
        assert!(error.contains("at least two classes"), "{error}");
    }

    #[test]
    fn balanced_replication_gives_every_class_the_size_of_the_largest() {
        let targets = [0, 0, 0, 0, 0, 1, 1, 2];
        let rows = balanced_replication(&targets, 3);
        let count = |class: usize| rows.iter().filter(|&&r| targets[r] == class).count();
        assert_eq!((count(0), count(1), count(2)), (5, 5, 5));
        // Class 1 (2 rows): 5 = 2 x 2 + 1, so its first row is copied 3 times, its second twice.
        assert_eq!(rows.iter().filter(|&&r| r == 5).count(), 3);
        assert_eq!(rows.iter().filter(|&&r| r == 6).count(), 2);
        assert_eq!(rows.iter().filter(|&&r| r == 7).count(), 5);
        assert_eq!(rows, balanced_replication(&targets, 3));
    }

    #[test]
    fn balanced_weights_shift_predictions_toward_the_small_class() {
        // An ambiguous feature shared by both classes, with class a four times as frequent.
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..50 {
            let class_b = i % 5 == 0;
            rows.push(SparseRow { indices: vec![0], values: vec![1.0] });
            labels.push(if class_b { "b" } else { "a" }.to_string());
        }
        let design = Design::new(&rows, 1);
        let fit = |class_weight| {
            let settings = ClassifierSettings { alpha: 0.01, class_weight, ..Default::default() };
            Head::fit("h", &design, &labels, &settings, &mut |_, _| {}).unwrap()
        };
        let plain = fit(ClassWeight::None).predict(&rows[0]);
        let balanced = fit(ClassWeight::Balanced).predict(&rows[0]);
        assert!((plain.probabilities[1] - 0.2).abs() < 0.02, "{plain:?}");
        assert!((balanced.probabilities[1] - 0.5).abs() < 0.02, "{balanced:?}");
    }

    /// Sentences of three classes as sparse rows with many more features than rows, some rows
    /// repeated: the shape where the row-space basis replaces the dense rows.
    fn wide() -> (Vec<SparseRow>, Vec<String>) {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let mut state = 11u64;
        let mut next = |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        for i in 0..60 {
            let class = i % 3;
            // Each class leans on its own block of 100 features, with shared noise features.
            let mut entries: Vec<(u32, f32)> = (0..6)
                .map(|k| {
                    let feature = if k < 4 { class as u64 * 100 + next(100) } else { 300 + next(200) };
                    (feature as u32, 0.2 + next(80) as f32 / 100.0)
                })
                .collect();
            entries.sort_by_key(|e| e.0);
            entries.dedup_by_key(|e| e.0);
            let norm = entries.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
            rows.push(SparseRow {
                indices: entries.iter().map(|e| e.0).collect(),
                values: entries.iter().map(|e| e.1 / norm).collect(),
            });
            labels.push(["a", "b", "c"][class].to_string());
        }
        rows.push(rows[0].clone());
        labels.push(labels[0].clone());
        (rows, labels)
    }

    #[test]
    fn the_row_space_fit_equals_a_plain_linfa_fit() {
        let (rows, labels) = wide();
        let reduced = Design::new(&rows, 500);
        assert!(reduced.is_row_space() && reduced.matrix().ncols() < rows.len());
        for (alpha, class_weight) in [(1.0, ClassWeight::None), (0.1, ClassWeight::None), (0.3, ClassWeight::Balanced)] {
            let settings = ClassifierSettings { alpha, max_iterations: 300, tolerance: 1e-6, class_weight };
            let ours = Head::fit("h", &reduced, &labels, &settings, &mut |_, _| {}).unwrap();
            let plain = Head::fit("h", &Design::dense(&rows, 500), &labels, &settings, &mut |_, _| {}).unwrap();
            assert!(!ours.fit.reached_iteration_limit && !plain.fit.reached_iteration_limit);
            let scale = plain.weights().iter().fold(0.0f32, |m, w| m.max(w.abs()));
            for (a, b) in ours.weights().iter().zip(plain.weights().iter()) {
                assert!((a - b).abs() < 1e-2 * scale, "alpha {alpha}: {a} vs {b} (largest {scale})");
            }
            for (a, b) in ours.intercept().iter().zip(plain.intercept().iter()) {
                assert!((a - b).abs() < 1e-2 * scale.max(1.0), "alpha {alpha}: {a} vs {b}");
            }
            assert!((ours.fit.final_loss - plain.fit.final_loss).abs() < 1e-4 * plain.fit.final_loss);
            for row in &rows {
                assert_eq!(ours.predict(row).label, plain.predict(row).label);
            }
        }
        // A warm start given in feature space lands on the same optimum in the row space.
        let settings = ClassifierSettings { alpha: 0.2, max_iterations: 300, tolerance: 1e-6, ..Default::default() };
        let neighbour = Head::fit("h", &reduced, &labels, &ClassifierSettings { alpha: 0.3, ..settings.clone() }, &mut |_, _| {}).unwrap();
        let warm = Head::fit_from("h", &reduced, &labels, &settings, Some(neighbour.stacked_params()), &mut |_, _| {}).unwrap();
        let cold = Head::fit("h", &Design::dense(&rows, 500), &labels, &settings, &mut |_, _| {}).unwrap();
        assert!((warm.fit.final_loss - cold.fit.final_loss).abs() < 1e-4 * cold.fit.final_loss);
    }

    #[test]
    fn invalid_settings_are_refused() {
        for bad in [
            ClassifierSettings { alpha: 0.0, ..Default::default() },
            ClassifierSettings { alpha: f64::NAN, ..Default::default() },
            ClassifierSettings { max_iterations: 0, ..Default::default() },
            ClassifierSettings { tolerance: -1.0, ..Default::default() },
        ] {
            assert!(bad.validate().is_err());
        }
    }

    #[test]
    fn softmax_sums_to_one_and_argmax_takes_the_first_tie() {
        let p = softmax(&[1000.0, 1000.0, -5.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(argmax(&p), 0);
    }
}
