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
use crate::lexicon;
use crate::text::{display_term, TextPipeline, Tokenizer, CHAR_PREFIX};

/// Row normalization after tf-idf weighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Divide the word terms (with negated terms) and the character n-grams of each row by
    /// their own euclidean norms, as scikit-learn's FeatureUnion of two TfidfVectorizers does:
    /// the many character n-grams of a sentence then do not drown its few words. Same as `l2`
    /// without character n-grams.
    #[serde(rename = "l2-per-kind")]
    #[value(name = "l2-per-kind")]
    L2PerKind,
    /// Divide each row by its euclidean norm, all terms together.
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
    /// Row normalization. Default l2-per-kind.
    pub norm: Norm,
    /// When set, the four sentiment-lexicon features of [`crate::lexicon`], multiplied by this
    /// weight, follow the TF-IDF terms in every row (after the TF-IDF part is normalized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexicon_weight: Option<f32>,
}

impl Default for TfidfSettings {
    fn default() -> Self {
        TfidfSettings {
            min_df: 2,
            max_df: 1.0,
            max_features: None,
            sublinear_tf: true,
            smooth_idf: true,
            norm: Norm::L2PerKind,
            lexicon_weight: None,
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
        if let Some(weight) = self.lexicon_weight {
            if !(weight.is_finite() && weight > 0.0) {
                return Err(Error::Settings(format!(
                    "--lexicon-weight must be a positive number (0 turns the lexicon off), got {weight}"
                )));
            }
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
    /// How many terms are character n-grams; they sort first (prefix `c:`), so they are the
    /// features `0..char_terms`. Rebuilt with the index.
    #[serde(skip)]
    char_terms: usize,
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
            char_terms: 0,
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
        self.char_terms = self.vocabulary.partition_point(|term| term.starts_with(CHAR_PREFIX));
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
        if let Some(weight) = self.settings.lexicon_weight {
            if !(weight.is_finite() && weight > 0.0) {
                return Err(format!("lexicon weight {weight} is not a positive number"));
            }
        }
        Ok(())
    }

    /// Number of features: the vocabulary's terms, then the lexicon features if any.
    pub fn len(&self) -> usize {
        self.vocabulary.len() + self.lexicon_features()
    }

    /// Number of lexicon features after the terms (0 or [`lexicon::FEATURES`]).
    fn lexicon_features(&self) -> usize {
        if self.settings.lexicon_weight.is_some() {
            lexicon::FEATURES
        } else {
            0
        }
    }

    /// The name of feature `index` as people read it: a term without its kind prefix (see
    /// [`display_term`]) or the name of a lexicon feature.
    pub fn display_name(&self, index: usize) -> String {
        match self.vocabulary.get(index) {
            Some(term) => display_term(term),
            None => lexicon::FEATURE_NAMES
                .get(index - self.vocabulary.len())
                .map_or_else(|| format!("[feature {index}]"), |name| name.to_string()),
        }
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
        match self.settings.norm {
            Norm::L2 => normalize(&mut row.values),
            Norm::L2PerKind => {
                let chars = row.indices.partition_point(|&i| (i as usize) < self.char_terms);
                let (char_values, word_values) = row.values.split_at_mut(chars);
                normalize(char_values);
                normalize(word_values);
            }
            Norm::None => {}
        }
        if let Some(weight) = self.settings.lexicon_weight {
            let first = self.vocabulary.len() as u32;
            for (offset, value) in lexicon::features(text).into_iter().enumerate() {
                if value != 0.0 {
                    row.indices.push(first + offset as u32);
                    row.values.push(value * weight);
                }
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

/// Divides `values` by their euclidean norm (unless all are zero).
fn normalize(values: &mut [f32]) {
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        values.iter_mut().for_each(|v| *v /= norm);
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
    fn lexicon_features_follow_the_normalized_terms() {
        let texts = ["talks were excellent", "talks failed badly", "talks resumed"];
        let plain = Vectorizer::fit(&unigram_pipeline(), &settings(1), &texts).unwrap();
        let weighted = TfidfSettings { lexicon_weight: Some(2.0), ..settings(1) };
        let v = Vectorizer::fit(&unigram_pipeline(), &weighted, &texts).unwrap();
        let terms = plain.len();
        assert_eq!(v.len(), terms + crate::lexicon::FEATURES);
        assert_eq!(v.display_name(terms), crate::lexicon::FEATURE_NAMES[0]);
        assert_eq!(v.display_name(0), "badly");

        let text = "talks were excellent";
        let (with, without) = (v.transform(&[text]).remove(0), plain.transform(&[text]).remove(0));
        // The TF-IDF part is unchanged (still of norm 1) and the lexicon part is weighted.
        assert_eq!(&with.indices[..without.nnz()], &without.indices[..]);
        assert_eq!(&with.values[..without.nnz()], &without.values[..]);
        let expected: Vec<(u32, f32)> = crate::lexicon::features(text)
            .into_iter()
            .enumerate()
            .filter(|&(_, value)| value != 0.0)
            .map(|(offset, value)| ((terms + offset) as u32, 2.0 * value))
            .collect();
        assert!(!expected.is_empty());
        let tail: Vec<(u32, f32)> = with.iter().skip(without.nnz()).map(|(i, x)| (i as u32, x)).collect();
        assert_eq!(tail, expected);
        // A flat sentence adds no lexicon entries at all.
        assert_eq!(v.transform(&["talks resumed"]).remove(0), plain.transform(&["talks resumed"]).remove(0));
    }

    #[test]
    fn per_kind_norm_gives_words_and_character_ngrams_a_norm_each() {
        let pipeline = TextPipeline {
            char_ngrams: Some(NgramRange::new(2, 3).unwrap()),
            ..unigram_pipeline()
        };
        let texts = ["talks resumed", "talks stalled", "resumed again"];
        let norm_of = |values: &[f32]| values.iter().map(|v| v * v).sum::<f32>().sqrt();
        let per_kind = Vectorizer::fit(&pipeline, &settings(1), &texts).unwrap();
        let row = per_kind.transform(&["talks resumed"]).remove(0);
        let chars = row.indices.iter().filter(|&&i| per_kind.vocabulary()[i as usize].starts_with(CHAR_PREFIX)).count();
        assert!(chars > 0 && chars < row.nnz());
        // Character n-grams sort first, then the words; each part has norm 1.
        assert!((norm_of(&row.values[..chars]) - 1.0).abs() < 1e-6);
        assert!((norm_of(&row.values[chars..]) - 1.0).abs() < 1e-6);

        let joint = TfidfSettings { norm: Norm::L2, ..settings(1) };
        let joint = Vectorizer::fit(&pipeline, &joint, &texts).unwrap();
        let row = joint.transform(&["talks resumed"]).remove(0);
        assert!((norm_of(&row.values) - 1.0).abs() < 1e-6);

        // Without character n-grams the two norms are the same thing.
        let words_per_kind = Vectorizer::fit(&unigram_pipeline(), &settings(1), &texts).unwrap();
        let words_joint =
            Vectorizer::fit(&unigram_pipeline(), &TfidfSettings { norm: Norm::L2, ..settings(1) }, &texts).unwrap();
        assert_eq!(words_per_kind.transform(&texts), words_joint.transform(&texts));
    }

    #[test]
    fn lexicon_weight_must_be_positive() {
        for weight in [0.0, -1.0, f32::NAN] {
            let s = TfidfSettings { lexicon_weight: Some(weight), ..settings(1) };
            assert!(s.validate().is_err(), "{weight}");
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
