//! Sentiment-lexicon features: VADER scores of a sentence, appended to its TF-IDF row.
//!
//! TF-IDF only knows words seen in training; a lexicon of about 7,500 rated words (with VADER's
//! rules for negation, boosters and "but") gives every sentence a prior tone, which helps most on
//! words the training sentences never used. The scores come from `vader-parity`, which matches
//! Python's vaderSentiment 3.3.2 exactly, so they are the same on every platform.

use std::sync::LazyLock;

use vader_parity::SentimentIntensityAnalyzer;

/// Names of the lexicon features, in the order they follow the vocabulary.
pub const FEATURE_NAMES: [&str; 4] = [
    "[lexicon: positive share]",
    "[lexicon: negative share]",
    "[lexicon: positive overall]",
    "[lexicon: negative overall]",
];

/// Number of lexicon features.
pub const FEATURES: usize = FEATURE_NAMES.len();

// Built on first use: parsing the lexicon takes a few milliseconds that models without lexicon
// features should not pay when they load.
static ANALYZER: LazyLock<SentimentIntensityAnalyzer> = LazyLock::new(SentimentIntensityAnalyzer::new);

/// The lexicon features of `text`, each in [0, 1]: the shares of positive and negative words,
/// and VADER's compound score split into its positive and negative part (so that a linear model
/// can weigh praise and blame differently).
pub fn features(text: &str) -> [f32; FEATURES] {
    let scores = ANALYZER.polarity_scores(text);
    [
        scores.pos as f32,
        scores.neg as f32,
        scores.compound.max(0.0) as f32,
        (-scores.compound).max(0.0) as f32,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn praise_and_blame_score_on_opposite_features() {
        let praise = features("We warmly welcome this excellent agreement.");
        let blame = features("The attack killed dozens and destroyed the hospital.");
        assert!(praise[0] > 0.3 && praise[1] == 0.0 && praise[2] > 0.5 && praise[3] == 0.0);
        assert!(blame[1] > 0.3 && blame[0] == 0.0 && blame[3] > 0.5 && blame[2] == 0.0);
    }

    #[test]
    fn negation_turns_the_score() {
        let plain = features("The talks were good.");
        let negated = features("The talks were not good.");
        assert!(plain[2] > 0.0 && negated[2] == 0.0 && negated[3] > 0.0);
    }

    #[test]
    fn flat_text_has_no_tone() {
        assert_eq!(features("The ministers met in Geneva on Tuesday."), [0.0; FEATURES]);
        assert_eq!(features(""), [0.0; FEATURES]);
    }
}
