//! Settings search by cross-validation: regularization strength, and optionally word and
//! character n-gram ranges and lexicon weights, scored by a chosen metric on stratified folds.
//!
//! For each n-gram candidate and fold, the vocabulary is fitted on the fold's training rows and
//! the matrix linfa fits (see [`crate::design`]) is built once; the alphas are then fitted from the strongest to the weakest,
//! each warm-started from the previous solution (the optimum moves little between neighbouring
//! alphas, so L-BFGS needs fewer iterations). Folds run in parallel.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::classifier::Head;
use crate::cv::{stratified_folds, MeanStd};
use crate::error::{Error, Result};
use crate::metrics::{Metric, Report};
use crate::model::{TrainSettings, TrainingData};
use crate::text::NgramRange;
use crate::design::Design;
use crate::tfidf::{SparseRow, Vectorizer};

/// The candidates to try. Each list must be non-empty.
#[derive(Clone, Debug)]
pub struct SearchSpace {
    pub alphas: Vec<f64>,
    pub word_ngrams: Vec<NgramRange>,
    pub char_ngrams: Vec<Option<NgramRange>>,
    /// Lexicon weights ([`crate::tfidf::TfidfSettings::lexicon_weight`]); `None` is no lexicon.
    pub lexicon_weights: Vec<Option<f32>>,
}

/// One candidate's cross-validated scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchRow {
    pub alpha: f64,
    pub word_ngrams: NgramRange,
    pub char_ngrams: Option<NgramRange>,
    /// The lexicon weight, if lexicon features were on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexicon_weight: Option<f32>,
    /// The metric per head over folds.
    pub heads: Vec<(String, MeanStd)>,
    /// The mean over heads of the metric, over folds: what the search maximizes.
    pub score: MeanStd,
    /// L-BFGS iterations summed over folds and heads.
    pub iterations: u64,
}

/// The search table, stored in the model's training summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchSummary {
    pub metric: String,
    pub folds: usize,
    pub seed: u64,
    pub rows: Vec<SearchRow>,
    /// Index into `rows` of the chosen candidate (the highest score; the first on ties, and
    /// candidates are listed from the most to the least regularized).
    pub chosen: usize,
}

impl SearchSummary {
    /// The search table as text for people.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}-fold search by {} (seed {}):\n{:>8}  {:>5}  {:>5}  {:>7}  {:>15}",
            self.folds, self.metric, self.seed, "alpha", "words", "chars", "lexicon", "score"
        );
        if let Some(first) = self.rows.first() {
            for (head, _) in &first.heads {
                out.push_str(&format!("  {head:>15}"));
            }
        }
        out.push_str("  iterations\n");
        for (i, row) in self.rows.iter().enumerate() {
            out.push_str(&format!(
                "{:>8}  {:>5}  {:>5}  {:>7}  {:>15}",
                row.alpha,
                row.word_ngrams.to_string(),
                row.char_ngrams.map_or("off".to_string(), |r| r.to_string()),
                row.lexicon_weight.map_or("off".to_string(), |w| w.to_string()),
                row.score.to_string()
            ));
            for (_, score) in &row.heads {
                out.push_str(&format!("  {:>15}", score.to_string()));
            }
            out.push_str(&format!("  {:>10}{}\n", row.iterations, if i == self.chosen { "  <- chosen" } else { "" }));
        }
        out
    }
}

/// Cross-validates every candidate of `space` on top of `base` and returns the table. The
/// caller then trains on all rows with the chosen settings ([`apply`]). `on_step` is called after
/// each (candidate n-grams, fold) with the number of steps done and the total.
pub fn search(
    data: &TrainingData,
    base: &TrainSettings,
    space: &SearchSpace,
    metric: &Metric,
    k: usize,
    seed: u64,
    on_step: &(dyn Fn(usize, usize) + Sync),
) -> Result<SearchSummary> {
    base.validate()?;
    if space.alphas.is_empty()
        || space.word_ngrams.is_empty()
        || space.char_ngrams.is_empty()
        || space.lexicon_weights.is_empty()
    {
        return Err(Error::Settings("the search space is empty".into()));
    }
    for &alpha in &space.alphas {
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(Error::Settings(format!("--search-alphas: {alpha} is not a positive number")));
        }
    }
    let n = data.texts.len();
    if k < 2 || k > n {
        return Err(Error::Settings(format!("--search-folds must be between 2 and the {n} rows, got {k}")));
    }
    let Some((_, strata)) = data.heads.first() else {
        return Err(Error::Settings("no label column given; name one with --label-column".into()));
    };
    for (h, (name, _)) in data.heads.iter().enumerate() {
        metric.check_classes(name, &data.classes(h))?;
    }
    let fold_of = stratified_folds(strata, k, seed);
    // Strongest regularization first, so each warm start comes from a simpler model.
    let mut alphas = space.alphas.clone();
    alphas.sort_by(|a, b| b.total_cmp(a));
    alphas.dedup();

    let pipelines: Vec<(NgramRange, Option<NgramRange>, Option<f32>)> = space
        .word_ngrams
        .iter()
        .flat_map(|&w| space.char_ngrams.iter().map(move |&c| (w, c)))
        .flat_map(|(w, c)| space.lexicon_weights.iter().map(move |&l| (w, c, l)))
        .collect();
    let total_steps = pipelines.len() * k;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut rows = Vec::new();
    for &(word_ngrams, char_ngrams, lexicon_weight) in &pipelines {
        let mut settings = base.clone();
        settings.pipeline.word_ngrams = word_ngrams;
        settings.pipeline.char_ngrams = char_ngrams;
        settings.tfidf.lexicon_weight = lexicon_weight;
        settings.validate()?;
        // scores[fold][alpha][head], iterations[fold][alpha]
        let per_fold: Vec<(Vec<Vec<f64>>, Vec<u64>)> = (0..k)
            .into_par_iter()
            .map(|fold| {
                let result = fold_scores(data, &settings, &alphas, metric, &fold_of, fold);
                let finished = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                on_step(finished, total_steps);
                result
            })
            .collect::<Result<_>>()?;
        for (a, &alpha) in alphas.iter().enumerate() {
            let heads: Vec<(String, MeanStd)> = data
                .heads
                .iter()
                .enumerate()
                .map(|(h, (name, _))| {
                    let values: Vec<f64> = per_fold.iter().map(|(s, _)| s[a][h]).collect();
                    (name.clone(), MeanStd::of(&values))
                })
                .collect();
            let fold_means: Vec<f64> = per_fold
                .iter()
                .map(|(s, _)| s[a].iter().sum::<f64>() / s[a].len() as f64)
                .collect();
            rows.push(SearchRow {
                alpha,
                word_ngrams,
                char_ngrams,
                lexicon_weight,
                heads,
                score: MeanStd::of(&fold_means),
                iterations: per_fold.iter().map(|(_, it)| it[a]).sum(),
            });
        }
    }
    let mut chosen = 0;
    for (i, row) in rows.iter().enumerate() {
        if row.score.mean > rows[chosen].score.mean {
            chosen = i;
        }
    }
    Ok(SearchSummary {
        metric: metric.to_string(),
        folds: k,
        seed,
        rows,
        chosen,
    })
}

/// The settings of the chosen row on top of `base`.
pub fn apply(base: &TrainSettings, summary: &SearchSummary) -> TrainSettings {
    let row = &summary.rows[summary.chosen];
    let mut settings = base.clone();
    settings.classifier.alpha = row.alpha;
    settings.pipeline.word_ngrams = row.word_ngrams;
    settings.pipeline.char_ngrams = row.char_ngrams;
    settings.tfidf.lexicon_weight = row.lexicon_weight;
    settings
}

/// Trains on all folds but `fold` with every alpha (warm-started along the path) and scores
/// each head on `fold`. Returns scores[alpha][head] and iterations[alpha].
fn fold_scores(
    data: &TrainingData,
    settings: &TrainSettings,
    alphas: &[f64],
    metric: &Metric,
    fold_of: &[usize],
    fold: usize,
) -> Result<(Vec<Vec<f64>>, Vec<u64>)> {
    let (train, test): (Vec<usize>, Vec<usize>) = (0..data.texts.len()).partition(|&i| fold_of[i] != fold);
    let train_texts: Vec<&str> = train.iter().map(|&i| data.texts[i].as_str()).collect();
    let features = Vectorizer::fit(&settings.pipeline, &settings.tfidf, &train_texts)?;
    let tokenizer = features.tokenizer();
    let rows: Vec<SparseRow> = data
        .texts
        .iter()
        .map(|text| features.transform_one(&tokenizer, text))
        .collect();
    let mut scores = vec![vec![0.0; data.heads.len()]; alphas.len()];
    let mut iterations = vec![0u64; alphas.len()];
    for (h, (name, labels)) in data.heads.iter().enumerate() {
        let labeled: Vec<usize> = train.iter().copied().filter(|&i| labels[i].is_some()).collect();
        let head_rows: Vec<SparseRow> = labeled.iter().map(|&i| rows[i].clone()).collect();
        let head_labels: Vec<String> = labeled.iter().map(|&i| labels[i].clone().expect("labeled")).collect();
        // One design per head and fold, shared by every alpha of the path.
        let design = Design::new(&head_rows, features.len());
        let mut previous: Option<Head> = None;
        for (a, &alpha) in alphas.iter().enumerate() {
            let mut classifier = settings.classifier.clone();
            classifier.alpha = alpha;
            let head = Head::fit_from(
                name,
                &design,
                &head_labels,
                &classifier,
                previous.as_ref().map(Head::stacked_params),
                &mut |_, _| {},
            )?;
            let classes = head.classes().to_vec();
            let mut truth = Vec::new();
            let mut predicted = Vec::new();
            for &i in &test {
                if let Some(label) = &labels[i] {
                    // A class never seen in this fold's training rows cannot be predicted; its
                    // rows still count, as errors, under an extra column.
                    truth.push(classes.iter().position(|c| c == label).unwrap_or(classes.len()));
                    predicted.push(head.predict(&rows[i]).label);
                }
            }
            let mut all_classes = classes.clone();
            if truth.contains(&classes.len()) {
                all_classes.push("<unseen>".into());
            }
            scores[a][h] = metric.score(&Report::new(&all_classes, &truth, &predicted));
            iterations[a] += head.fit.iterations;
            previous = Some(head);
        }
    }
    Ok((scores, iterations))
}
