//! TF-IDF features: a vocabulary fitted on training sentences and sparse, l2-normalized rows.
//!
//! For a term t in sentence s, with n training sentences and df(t) of them containing t:
//!
//! - tf(t, s) = count of t in s, or 1 + ln(count) with `sublinear_tf`;
//! - idf(t) = ln((1 + n) / (1 + df(t))) + 1 with `smooth_idf`, else ln(n / df(t)) + 1;
//! - x(t, s) = tf(t, s) * idf(t), and the row is divided by its euclidean norm with `Norm::L2`.
//!
//! These are scikit-learn's `TfidfVectorizer` formulas. Vocabulary filters: a term is kept when
//! df(t) >= `min_df` and df(t) <= `max_df` * n; `max_features` then keeps the terms with the
//! highest df (ties broken by the term's text). Vocabulary order is the terms' sorted text, so
//! the same data always gives the same feature indices.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::{TextPipeline, Tokenizer};

/// Row normalization after tf-idf weighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Divide each row by its euclidean norm.
    L2,
    /// Leave rows as weighted.
    None,
}

/// Settings of the TF-IDF weighting and vocabulary filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TfidfSettings {
    /// Keep terms found in at least this many training sentences. Default 2.
    pub min_df: usize,
    /// Drop terms found in more than this fraction of training sentences. Default 1.0 (none).
    pub max_df: f64,
    /// Keep at most this many terms, the most frequent first. Default: no limit.
    pub max_features: Option<usize>,
    /// Use 1 + ln(count) instead of the raw count. Default true.
    pub sublinear_tf: bool,
    /// Add one to document frequencies as if one extra sentence held every term. Default true.
    pub smooth_idf: bool,
    /// Row normalization. Default l2.
    pub norm: Norm,
}

impl Default for TfidfSettings {
    fn default() -> Self {
        TfidfSettings {
            min_df: 2,
            max_df: 1.0,
            max_features: None,
            sublinear_tf: true,
            smooth_idf: true,
            norm: Norm::L2,
        }
    }
}

impl TfidfSettings {
    /// Checks the settings before any work starts.
    pub fn validate(&self) -> Result<()> {
        if self.min_df == 0 {
            return Err(Error::Settings("--min-df must be at least 1".into()));
        }
        if !(self.max_df > 0.0 && self.max_df <= 1.0) {
            return Err(Error::Settings(format!(
                "--max-df must be a fraction in (0, 1], got {}",
                self.max_df
            )));
        }
        if self.max_features == Some(0) {
            return Err(Error::Settings("--max-features must be at least 1".into()));
        }
        Ok(())
    }
}

/// A sparse feature row: strictly increasing feature indices and their values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseRow {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl SparseRow {
    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Iterates over (feature index, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.indices
            .iter()
            .zip(&self.values)
            .map(|(&i, &v)| (i as usize, v))
    }
}

/// A fitted vectorizer: the pipeline, settings, vocabulary and idf weights. It is what the model
/// file stores of the features; the term index is rebuilt on load.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Vectorizer {
    pipeline: TextPipeline,
    settings: TfidfSettings,
    vocabulary: Vec<String>,
    idf: Vec<f32>,
    #[serde(skip)]
    index: rustc_hash::FxHashMap<String, u32>,
}

impl PartialEq for Vectorizer {
    fn eq(&self, other: &Self) -> bool {
        self.pipeline == other.pipeline
            && self.settings == other.settings
            && self.vocabulary == other.vocabulary
            && self.idf == other.idf
    }
}

impl Vectorizer {
    /// Fits the vocabulary and idf weights on `texts`.
    pub fn fit<S: AsRef<str> + Sync>(
        pipeline: &TextPipeline,
        settings: &TfidfSettings,
        texts: &[S],
    ) -> Result<Self> {
        settings.validate()?;
        let tokenizer = Tokenizer::new(pipeline);
        let n = texts.len();
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        let mut seen: Vec<String> = Vec::new();
        for text in texts {
            seen.clear();
            tokenizer.for_each_term(text.as_ref(), |term| seen.push(term.to_string()));
            seen.sort_unstable();
            seen.dedup();
            for term in seen.drain(..) {
                *document_frequency.entry(term).or_insert(0) += 1;
            }
        }
        let max_count = (settings.max_df * n as f64).floor() as usize;
        let mut kept: Vec<(String, usize)> = document_frequency
            .into_iter()
            .filter(|(_, df)| *df >= settings.min_df && *df <= max_count.max(1))
            .collect();
        if let Some(limit) = settings.max_features {
            kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            kept.truncate(limit);
        }
        kept.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if kept.is_empty() {
            return Err(Error::Settings(format!(
                "no term occurs in at least {} of the {n} training sentences; lower --min-df or add data",
                settings.min_df
            )));
        }
        let idf = kept
            .iter()
            .map(|(_, df)| idf_weight(n, *df, settings.smooth_idf))
            .collect();
        let vocabulary = kept.into_iter().map(|(term, _)| term).collect();
        let mut vectorizer = Vectorizer {
            pipeline: pipeline.clone(),
            settings: settings.clone(),
            vocabulary,
            idf,
            index: Default::default(),
        };
        vectorizer.rebuild_index();
        Ok(vectorizer)
    }

    /// Rebuilds the term -> index map; needed after deserializing.
    pub fn rebuild_index(&mut self) {
        self.index = self
            .vocabulary
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
    }

    /// Checks internal consistency of a loaded vectorizer.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.vocabulary.len() != self.idf.len() {
            return Err(format!(
                "vocabulary has {} terms but idf has {} weights",
                self.vocabulary.len(),
                self.idf.len()
            ));
        }
        if self.vocabulary.windows(2).any(|w| w[0] >= w[1]) {
            return Err("vocabulary is not sorted and unique".into());
        }
        if self.idf.iter().any(|w| !w.is_finite()) {
            return Err("idf holds a non-finite weight".into());
        }
        Ok(())
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.vocabulary.len()
    }

    /// True when the vocabulary is empty (never the case for a fitted vectorizer).
    pub fn is_empty(&self) -> bool {
        self.vocabulary.is_empty()
    }

    /// The terms, in feature order.
    pub fn vocabulary(&self) -> &[String] {
        &self.vocabulary
    }

    /// The idf weight of each feature.
    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// The text pipeline.
    pub fn pipeline(&self) -> &TextPipeline {
        &self.pipeline
    }

    /// The TF-IDF settings.
    pub fn settings(&self) -> &TfidfSettings {
        &self.settings
    }

    /// The feature index of `term`, if it is in the vocabulary.
    pub fn index_of(&self, term: &str) -> Option<usize> {
        self.index.get(term).map(|&i| i as usize)
    }

    /// Builds a tokenizer for this vectorizer's pipeline; create one per thread and reuse it.
    pub fn tokenizer(&self) -> Tokenizer {
        Tokenizer::new(&self.pipeline)
    }

    /// The TF-IDF row of one sentence.
    pub fn transform_one(&self, tokenizer: &Tokenizer, text: &str) -> SparseRow {
        let mut counts: Vec<(u32, u32)> = Vec::new();
        tokenizer.for_each_term(text, |term| {
            if let Some(&index) = self.index.get(term) {
                counts.push((index, 1));
            }
        });
        counts.sort_unstable_by_key(|&(index, _)| index);
        counts.dedup_by(|next, kept| {
            if next.0 == kept.0 {
                kept.1 += 1;
                true
            } else {
                false
            }
        });
        let mut row = SparseRow {
            indices: Vec::with_capacity(counts.len()),
            values: Vec::with_capacity(counts.len()),
        };
        for (index, count) in counts {
            let tf = if self.settings.sublinear_tf {
                1.0 + (count as f32).ln()
            } else {
                count as f32
            };
            row.indices.push(index);
            row.values.push(tf * self.idf[index as usize]);
        }
        if self.settings.norm == Norm::L2 {
            let norm = row.values.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                row.values.iter_mut().for_each(|v| *v /= norm);
            }
        }
        row
    }

    /// The TF-IDF rows of many sentences.
    pub fn transform<S: AsRef<str>>(&self, texts: &[S]) -> Vec<SparseRow> {
        let tokenizer = self.tokenizer();
        texts
            .iter()
            .map(|t| self.transform_one(&tokenizer, t.as_ref()))
            .collect()
    }
}

fn idf_weight(n: usize, df: usize, smooth: bool) -> f32 {
    let (n, df) = (n as f64, df as f64);
    let idf = if smooth {
        ((1.0 + n) / (1.0 + df)).ln() + 1.0
    } else {
        (n / df).ln() + 1.0
    };
    idf as f32
}

/// Densifies rows into an n x d matrix for linfa, which fits dense matrices only.
pub fn to_dense(rows: &[SparseRow], n_features: usize) -> ndarray::Array2<f32> {
    let mut dense = ndarray::Array2::<f32>::zeros((rows.len(), n_features));
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter() {
            dense[(r, c)] = v;
        }
    }
    dense
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::NgramRange;

    fn unigram_pipeline() -> TextPipeline {
        TextPipeline {
            stemmer: crate::text::StemmerChoice::None,
            word_ngrams: NgramRange::new(1, 1).unwrap(),
            ..TextPipeline::default()
        }
    }

    fn settings(min_df: usize) -> TfidfSettings {
        TfidfSettings {
            min_df,
            ..TfidfSettings::default()
        }
    }

    #[test]
    fn vocabulary_is_sorted_and_filtered_by_document_frequency() {
        let texts = ["a b b", "a c", "a b d"];
        let v = Vectorizer::fit(&unigram_pipeline(), &settings(2), &texts).unwrap();
        assert_eq!(v.vocabulary(), &["w:a".to_string(), "w:b".to_string()]);
    }

    #[test]
    fn idf_and_sublinear_tf_match_the_documented_formulas() {
        // n = 3; df(a) = 3, df(b) = 2.
        let texts = ["a b b", "a c", "a b d"];
        let v = Vectorizer::fit(&unigram_pipeline(), &settings(2), &texts).unwrap();
        let idf_a = (4.0f64 / 4.0).ln() + 1.0;
        let idf_b = (4.0f64 / 3.0).ln() + 1.0;
        assert!((v.idf()[0] as f64 - idf_a).abs() < 1e-6);
        assert!((v.idf()[1] as f64 - idf_b).abs() < 1e-6);

        let row = v.transform(&["a b b"]).remove(0);
        let raw_a = idf_a;
        let raw_b = (1.0 + 2.0f64.ln()) * idf_b;
        let norm = (raw_a * raw_a + raw_b * raw_b).sqrt();
        assert_eq!(row.indices, vec![0, 1]);
        assert!((row.values[0] as f64 - raw_a / norm).abs() < 1e-6);
        assert!((row.values[1] as f64 - raw_b / norm).abs() < 1e-6);
    }

    #[test]
    fn unsmoothed_idf_and_raw_counts_without_norm() {
        let texts = ["a b b", "a c", "a b d"];
        let s = TfidfSettings {
            min_df: 1,
            sublinear_tf: false,
            smooth_idf: false,
            norm: Norm::None,
            ..TfidfSettings::default()
        };
        let v = Vectorizer::fit(&unigram_pipeline(), &s, &texts).unwrap();
        let row = v.transform(&["b b"]).remove(0);
        let b = v.index_of("w:b").unwrap();
        let idf_b = (3.0f64 / 2.0).ln() + 1.0;
        assert_eq!(row.indices, vec![b as u32]);
        assert!((row.values[0] as f64 - 2.0 * idf_b).abs() < 1e-6);
    }

    #[test]
    fn max_features_keeps_the_most_frequent_terms_with_ties_by_text() {
        let texts = ["a b c", "a b", "a c", "d"];
        let s = TfidfSettings {
            min_df: 1,
            max_features: Some(2),
            ..TfidfSettings::default()
        };
        let v = Vectorizer::fit(&unigram_pipeline(), &s, &texts).unwrap();
        assert_eq!(v.vocabulary(), &["w:a".to_string(), "w:b".to_string()]);
    }

    #[test]
    fn max_df_drops_terms_in_too_many_sentences() {
        let texts = ["a b", "a c", "a b"];
        let s = TfidfSettings {
            min_df: 1,
            max_df: 0.7,
            ..TfidfSettings::default()
        };
        let v = Vectorizer::fit(&unigram_pipeline(), &s, &texts).unwrap();
        assert_eq!(v.vocabulary(), &["w:b".to_string(), "w:c".to_string()]);
    }

    #[test]
    fn unknown_words_give_an_empty_row() {
        let v = Vectorizer::fit(&unigram_pipeline(), &settings(1), &["a b"]).unwrap();
        assert_eq!(v.transform(&["zzz"]).remove(0), SparseRow::default());
    }

    #[test]
    fn nothing_frequent_enough_is_an_error() {
        let error = Vectorizer::fit(&unigram_pipeline(), &settings(5), &["a", "b"]).unwrap_err();
        assert!(error.to_string().contains("lower --min-df"));
    }

    #[test]
    fn densify_places_values() {
        let rows = vec![
            SparseRow {
                indices: vec![1],
                values: vec![0.5],
            },
            SparseRow::default(),
        ];
        let dense = to_dense(&rows, 3);
        assert_eq!(dense.shape(), &[2, 3]);
        assert_eq!(dense[(0, 1)], 0.5);
        assert_eq!(dense.sum(), 0.5);
    }
}
