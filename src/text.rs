//! The text pipeline: normalization, tokenization, stemming and n-gram terms, described as plain data.

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use crate::error::{Error, Result};

/// An inclusive range of n-gram lengths, such as 1..=2. Read from a model file, it is checked
/// like [`NgramRange::new`] (a range of 0 or of a huge length would make the tokenizer panic or
/// run for ever; found by fuzzing model loading).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedNgramRange")]
pub struct NgramRange {
    pub min: usize,
    pub max: usize,
}

/// The serialized form of [`NgramRange`], before it is checked.
#[derive(Deserialize)]
struct UncheckedNgramRange {
    min: usize,
    max: usize,
}

impl TryFrom<UncheckedNgramRange> for NgramRange {
    type Error = String;

    fn try_from(range: UncheckedNgramRange) -> std::result::Result<Self, String> {
        NgramRange::new(range.min, range.max).map_err(|e| e.to_string())
    }
}

/// The longest n-gram [`NgramRange::new`] accepts.
pub const MAX_NGRAM: usize = 10;

impl NgramRange {
    /// A checked range: 1 <= min <= max <= 10.
    pub fn new(min: usize, max: usize) -> Result<Self> {
        if min == 0 || min > max || max > MAX_NGRAM {
            return Err(Error::Settings(format!(
                "n-gram range {min}-{max} is invalid: it needs 1 <= min <= max <= 10"
            )));
        }
        Ok(NgramRange { min, max })
    }

    /// Parses "1-2", "2..5", "2..=5" or a single "3".
    pub fn parse(text: &str) -> Result<Self> {
        let cleaned = text.trim().replace("..=", "-").replace("..", "-");
        let parts: Vec<&str> = cleaned.split('-').map(str::trim).collect();
        let number = |s: &str| {
            s.parse::<usize>().map_err(|_| {
                Error::Settings(format!(
                    "n-gram range '{text}' is not of the form MIN-MAX (for example 1-2)"
                ))
            })
        };
        match parts.as_slice() {
            [single] => {
                let n = number(single)?;
                NgramRange::new(n, n)
            }
            [min, max] => NgramRange::new(number(min)?, number(max)?),
            _ => Err(Error::Settings(format!(
                "n-gram range '{text}' is not of the form MIN-MAX (for example 1-2)"
            ))),
        }
    }
}

impl std::fmt::Display for NgramRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

/// Which stemmer reduces words to their stems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StemmerChoice {
    /// Keep words as they are.
    None,
    /// Snowball English (Porter2) from rust-stemmers.
    English,
}

/// The whole path from raw sentence to terms. Everything here is stored in the model file,
/// so a loaded model tokenizes exactly as the trained one did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextPipeline {
    /// Lowercase after Unicode NFKC normalization.
    pub lowercase: bool,
    /// Replace every token that contains a digit by `<num>`: numbers and dates carry no stance.
    pub replace_numbers: bool,
    /// Word stemming.
    pub stemmer: StemmerChoice,
    /// Word n-grams over stemmed tokens.
    pub word_ngrams: NgramRange,
    /// Character n-grams inside each (unstemmed) word padded with spaces, or none.
    pub char_ngrams: Option<NgramRange>,
    /// Tokens dropped before n-grams are built. Empty by default: "if", "unless", "not" and
    /// "only" carry stance.
    pub stop_words: Vec<String>,
    /// When set, each of the (at most) this many words after a negation ("not", "no", "never",
    /// "without", "-n't", ...) within the same clause also gives a negated unigram term `~stem`,
    /// so that "did not blame" and "did blame" differ beyond the bigram next to "not".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negation_scope: Option<usize>,
    /// With `negation_scope`: a negated word replaces the plain word in the word n-grams
    /// (`~stem`, so "did not blame them" gives "not", "~blame", "not ~blame", ...) instead of
    /// adding a `~stem` term beside it, so that a negated "blame" no longer counts as "blame".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negation_replaces: bool,
}

impl Default for TextPipeline {
    fn default() -> Self {
        TextPipeline {
            lowercase: true,
            replace_numbers: true,
            stemmer: StemmerChoice::English,
            word_ngrams: NgramRange { min: 1, max: 2 },
            char_ngrams: None,
            stop_words: Vec::new(),
            negation_scope: None,
            negation_replaces: false,
        }
    }
}

/// Prefix of word n-gram terms in the vocabulary.
pub const WORD_PREFIX: &str = "w:";
/// Prefix of character n-gram terms in the vocabulary.
pub const CHAR_PREFIX: &str = "c:";
/// Prefix of negated unigram terms (see [`TextPipeline::negation_scope`]). A prefix of its own,
/// not a mark inside word terms: a token may itself start with any character.
pub const NEGATED_PREFIX: &str = "n:";
/// Mark of a negated word inside word n-grams when [`TextPipeline::negation_replaces`] is set.
/// Word tokens never contain it: Unicode word segmentation does not put `~` in a word.
pub const NEGATED_MARK: char = '~';
/// The token that stands for any token containing a digit.
pub const NUMBER_TOKEN: &str = "<num>";

/// Normalizes text: NFKC, typographic apostrophes and quotes made plain, optional lowercasing.
pub fn normalize(text: &str, lowercase: bool) -> String {
    // ASCII is its own NFKC form; most news text takes this path, which is several times faster.
    if text.is_ascii() {
        let mut bytes = text.as_bytes().to_vec();
        for b in &mut bytes {
            if *b == b'`' {
                *b = b'\'';
            } else if lowercase {
                b.make_ascii_lowercase();
            }
        }
        return String::from_utf8(bytes).expect("ASCII stays ASCII");
    }
    normalize_unicode(text, lowercase)
}

/// [`normalize`] for any text, without the ASCII shortcut.
fn normalize_unicode(text: &str, lowercase: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkc() {
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{2032}' | '`' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => '"',
            other => other,
        };
        if lowercase {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits normalized text into word tokens on Unicode word boundaries (UAX #29). Contractions
/// stay whole ("don't", "won't"), so negations are kept. A combining mark after a space makes
/// UAX #29 glue the space to it ("a \u{301}b" has the word " \u{301}"); words are trimmed, so
/// no token holds whitespace (found by the property tests).
pub fn words(normalized: &str) -> impl Iterator<Item = &str> {
    words_with_offsets(normalized).map(|(_, word)| word)
}

/// [`words`] with the byte offset of each word in `normalized`.
fn words_with_offsets(normalized: &str) -> impl Iterator<Item = (usize, &str)> {
    normalized.unicode_word_indices().filter_map(|(offset, word)| {
        let trimmed = word.trim_start();
        let offset = offset + (word.len() - trimmed.len());
        let trimmed = trimmed.trim_end();
        (!trimmed.is_empty()).then_some((offset, trimmed))
    })
}

/// Whether a (normalized, lowercased) word negates what follows it.
fn is_negation(word: &str) -> bool {
    matches!(
        word,
        "not" | "no" | "never" | "cannot" | "nor" | "neither" | "without" | "none" | "nobody" | "nothing" | "nowhere"
    ) || word.ends_with("n't")
}

/// Whether the text between two words ends a clause, and with it a negation's scope.
fn ends_clause(gap: &str) -> bool {
    gap.chars().any(|c| matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '"' | '\u{2014}' | '\u{2013}'))
}

/// For each word, whether it lies within `scope` words after a negation in the same clause.
fn negated_words(normalized: &str, words: &[(usize, &str)], scope: usize) -> Vec<bool> {
    let mut negated = Vec::with_capacity(words.len());
    let mut left = 0usize;
    let mut previous_end = 0usize;
    for &(offset, word) in words {
        if ends_clause(&normalized[previous_end..offset]) {
            left = 0;
        }
        let negation = is_negation(word);
        negated.push(!negation && left > 0);
        left = if negation { scope } else { left.saturating_sub(1) };
        previous_end = offset + word.len();
    }
    negated
}

/// Stems remembered per tokenizer: news text repeats its words, and a lookup is several times
/// cheaper than running Snowball again. Bounded so that long runs keep constant memory.
const STEM_CACHE_LIMIT: usize = 200_000;

/// A prepared pipeline: the settings plus the stemmer built from them. Each thread uses its
/// own tokenizer (it keeps a cache of stems, so it is not `Sync`).
pub struct Tokenizer {
    pipeline: TextPipeline,
    stemmer: Option<Stemmer>,
    stop_words: std::collections::HashSet<String>,
    stems: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, Box<str>>>,
}

impl Tokenizer {
    /// Builds a tokenizer for `pipeline`.
    pub fn new(pipeline: &TextPipeline) -> Self {
        let stemmer = match pipeline.stemmer {
            StemmerChoice::None => None,
            StemmerChoice::English => Some(Stemmer::create(Algorithm::English)),
        };
        let stop_words = pipeline
            .stop_words
            .iter()
            .map(|w| normalize(w, pipeline.lowercase))
            .collect();
        Tokenizer {
            pipeline: pipeline.clone(),
            stemmer,
            stop_words,
            stems: Default::default(),
        }
    }

    /// The settings this tokenizer applies.
    pub fn pipeline(&self) -> &TextPipeline {
        &self.pipeline
    }

    /// The stemmed tokens of `text`, stop words removed, numbers replaced.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let normalized = normalize(text, self.pipeline.lowercase);
        words(&normalized)
            .filter(|w| !self.stop_words.contains(*w))
            .map(|w| self.token(w))
            .collect()
    }

    fn token(&self, word: &str) -> String {
        let mut out = String::new();
        self.push_token(word, &mut out);
        out
    }

    /// Appends the token of `word` (its stem, or `<num>`) to `out`.
    fn push_token(&self, word: &str, out: &mut String) {
        if self.pipeline.replace_numbers && word.chars().any(|c| c.is_numeric()) {
            out.push_str(NUMBER_TOKEN);
            return;
        }
        let Some(stemmer) = &self.stemmer else {
            out.push_str(word);
            return;
        };
        let mut stems = self.stems.borrow_mut();
        if let Some(stem) = stems.get(word) {
            out.push_str(stem);
            return;
        }
        let stem = stemmer.stem(word);
        out.push_str(&stem);
        if stems.len() >= STEM_CACHE_LIMIT {
            stems.clear();
        }
        stems.insert(word.into(), stem.into());
    }

    /// Calls `emit` once for every term occurrence in `text`: word n-grams (prefixed `w:`) and,
    /// when enabled, character n-grams (prefixed `c:`). Terms are built in a reused buffer so
    /// the hot path allocates little.
    pub fn for_each_term(&self, text: &str, mut emit: impl FnMut(&str)) {
        let normalized = normalize(text, self.pipeline.lowercase);
        let placed: Vec<(usize, &str)> = words_with_offsets(&normalized)
            .filter(|(_, w)| !self.stop_words.contains(*w))
            .collect();
        let raw_words: Vec<&str> = placed.iter().map(|&(_, w)| w).collect();
        let scope = self.pipeline.negation_scope.filter(|&n| n > 0);
        let negated = scope.map(|scope| negated_words(&normalized, &placed, scope));
        // Replacing negation marks the negated tokens themselves, so the n-grams below see them.
        let marked = negated.as_deref().filter(|_| self.pipeline.negation_replaces);
        // All tokens in one buffer, as spans: no allocation per token.
        let mut buffer = String::with_capacity(normalized.len() + 8 * raw_words.len());
        let mut spans = Vec::with_capacity(raw_words.len());
        for (i, word) in raw_words.iter().enumerate() {
            let start = buffer.len();
            if marked.is_some_and(|marked| marked[i]) {
                buffer.push(NEGATED_MARK);
            }
            self.push_token(word, &mut buffer);
            spans.push(start..buffer.len());
        }
        let tokens: Vec<&str> = spans.into_iter().map(|span| &buffer[span]).collect();
        let mut term = String::with_capacity(64);

        // The fields of NgramRange are public, so a range may not have been checked; lengths
        // are clamped to 1..=MAX_NGRAM rather than panicking or looping for ever.
        let clamp = |range: NgramRange| range.min.max(1)..=range.max.min(MAX_NGRAM);
        for n in clamp(self.pipeline.word_ngrams) {
            for window in tokens.windows(n) {
                term.clear();
                term.push_str(WORD_PREFIX);
                for (i, token) in window.iter().enumerate() {
                    if i > 0 {
                        term.push(' ');
                    }
                    term.push_str(token);
                }
                emit(&term);
            }
        }

        if let (Some(negated), false) = (negated, self.pipeline.negation_replaces) {
            for (token, _) in tokens.iter().zip(negated).filter(|(_, negated)| *negated) {
                term.clear();
                term.push_str(NEGATED_PREFIX);
                term.push_str(token);
                emit(&term);
            }
        }

        if let Some(range) = self.pipeline.char_ngrams {
            let mut padded: Vec<char> = Vec::with_capacity(32);
            for word in &raw_words {
                padded.clear();
                padded.push(' ');
                if self.pipeline.replace_numbers && word.chars().any(|c| c.is_numeric()) {
                    padded.extend(NUMBER_TOKEN.chars());
                } else {
                    padded.extend(word.chars());
                }
                padded.push(' ');
                for n in clamp(range) {
                    if n > padded.len() {
                        break;
                    }
                    for window in padded.windows(n) {
                        // A lone space says nothing about the word.
                        if n == 1 && window[0] == ' ' {
                            continue;
                        }
                        term.clear();
                        term.push_str(CHAR_PREFIX);
                        term.extend(window.iter());
                        emit(&term);
                    }
                }
            }
        }
    }

    /// All term occurrences of `text`, in order (see [`Tokenizer::for_each_term`]).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_term(text, |t| out.push(t.to_string()));
        out
    }
}

/// Shows a vocabulary term to people: the kind prefix removed, character n-grams quoted.
pub fn display_term(term: &str) -> String {
    if let Some(rest) = term.strip_prefix(WORD_PREFIX) {
        rest.to_string()
    } else if let Some(rest) = term.strip_prefix(CHAR_PREFIX) {
        format!("'{rest}'")
    } else if let Some(rest) = term.strip_prefix(NEGATED_PREFIX) {
        format!("~{rest}")
    } else {
        term.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_marks_the_words_after_it_within_the_clause() {
        let tokenizer = Tokenizer::new(&TextPipeline {
            word_ngrams: NgramRange::new(1, 1).unwrap(),
            negation_scope: Some(3),
            ..TextPipeline::default()
        });
        let negated: Vec<String> = tokenizer
            .terms("We do not blame the Russian authorities for it, but we won't wait forever.")
            .into_iter()
            .filter(|t| t.starts_with(NEGATED_PREFIX))
            .collect();
        // Three words after "not"; the comma ends the clause; "won't" starts a new scope.
        assert_eq!(negated, ["n:blame", "n:the", "n:russian", "n:wait", "n:forev"]);
        // Off by default: no negated terms, and the same terms as before the option existed.
        let plain = default_tokenizer().terms("We do not blame them.");
        assert!(plain.iter().all(|t| !t.starts_with(NEGATED_PREFIX)), "{plain:?}");
        assert_eq!(display_term("n:blame"), "~blame");
    }

    #[test]
    fn a_replacing_negation_marks_the_words_inside_the_ngrams() {
        let tokenizer = Tokenizer::new(&TextPipeline {
            negation_scope: Some(2),
            negation_replaces: true,
            stemmer: StemmerChoice::None,
            ..TextPipeline::default()
        });
        let terms = tokenizer.terms("They did not blame Moscow, but blame remains.");
        assert_eq!(
            terms,
            [
                "w:they", "w:did", "w:not", "w:~blame", "w:~moscow", "w:but", "w:blame", "w:remains",
                "w:they did", "w:did not", "w:not ~blame", "w:~blame ~moscow", "w:~moscow but",
                "w:but blame", "w:blame remains",
            ]
        );
        // No separate negated terms: the marked words stand in for them.
        assert!(terms.iter().all(|t| !t.starts_with(NEGATED_PREFIX)));
        assert_eq!(display_term("w:not ~blame"), "not ~blame");
    }

    #[test]
    fn model_files_without_the_replacing_flag_read_as_adding() {
        // Model files written before the flag existed have no such field; they keep adding.
        let pipeline = TextPipeline { negation_scope: Some(10), ..TextPipeline::default() };
        let json = serde_json::to_string(&pipeline).unwrap();
        assert!(!json.contains("negation_replaces"), "{json}");
        let read: TextPipeline = serde_json::from_str(&json).unwrap();
        assert!(!read.negation_replaces);
        let replacing = TextPipeline { negation_replaces: true, ..pipeline };
        let read: TextPipeline = serde_json::from_str(&serde_json::to_string(&replacing).unwrap()).unwrap();
        assert_eq!(read, replacing);
    }

    #[test]
    fn the_ascii_shortcut_normalizes_like_the_unicode_path() {
        let all_ascii: String = (0u8..128).map(char::from).collect();
        for text in [all_ascii.as_str(), "Don`t SAY \"No\" 2021-06-17!", ""] {
            for lowercase in [true, false] {
                assert_eq!(normalize(text, lowercase), normalize_unicode(text, lowercase));
            }
        }
    }

    #[test]
    fn cached_stems_equal_fresh_ones_even_after_the_cache_is_cleared() {
        let text = "The ministers warned, warning again: relations are deteriorating; talks resumed.";
        let expected = default_tokenizer().tokens(text);
        let tokenizer = default_tokenizer();
        assert_eq!(tokenizer.tokens(text), expected);
        assert_eq!(tokenizer.tokens(text), expected, "second pass, from the cache");
        // A full cache (of other words) is cleared by the next new word.
        let tokenizer = default_tokenizer();
        tokenizer.stems.borrow_mut().extend((0..STEM_CACHE_LIMIT).map(|i| (format!("filler{i}").into(), "f".into())));
        assert!(tokenizer.stems.borrow().len() >= STEM_CACHE_LIMIT);
        assert_eq!(tokenizer.tokens(text), expected);
        assert!(tokenizer.stems.borrow().len() < 20, "the cache was cleared and refilled");
    }

    fn default_tokenizer() -> Tokenizer {
        Tokenizer::new(&TextPipeline::default())
    }

    #[test]
    fn contractions_and_negations_survive() {
        let tokens = default_tokenizer().tokens("We don't accept it, and they won't either.");
        assert_eq!(
            tokens,
            vec!["we", "don't", "accept", "it", "and", "they", "won't", "either"]
        );
    }

    #[test]
    fn typographic_apostrophes_are_plain_after_normalization() {
        let tokens = default_tokenizer().tokens("They didn\u{2019}t come");
        assert_eq!(tokens, vec!["they", "didn't", "come"]);
    }

    #[test]
    fn stems_lowercases_and_replaces_numbers() {
        let tokens = default_tokenizer().tokens("Negotiations RESUMED on June 17, 2021");
        assert_eq!(tokens, vec!["negoti", "resum", "on", "june", "<num>", "<num>"]);
    }

    #[test]
    fn conditional_words_are_not_stop_words_by_default() {
        let tokens = default_tokenizer().tokens("only if unless not");
        assert_eq!(tokens, vec!["onli", "if", "unless", "not"]);
    }

    #[test]
    fn word_bigrams_are_built_over_stems() {
        let terms = default_tokenizer().terms("Ready for talks");
        assert_eq!(
            terms,
            vec!["w:readi", "w:for", "w:talk", "w:readi for", "w:for talk"]
        );
    }

    #[test]
    fn character_ngrams_stay_inside_words() {
        let pipeline = TextPipeline {
            word_ngrams: NgramRange::new(1, 1).unwrap(),
            char_ngrams: Some(NgramRange::new(2, 3).unwrap()),
            ..TextPipeline::default()
        };
        let terms = Tokenizer::new(&pipeline).terms("if we");
        assert_eq!(
            terms,
            vec![
                "w:if", "w:we", "c: i", "c:if", "c:f ", "c: if", "c:if ", "c: w", "c:we", "c:e ",
                "c: we", "c:we "
            ]
        );
    }

    #[test]
    fn stop_words_are_removed_when_asked() {
        let pipeline = TextPipeline {
            stop_words: vec!["The".into(), "of".into()],
            word_ngrams: NgramRange::new(1, 1).unwrap(),
            ..TextPipeline::default()
        };
        assert_eq!(
            Tokenizer::new(&pipeline).tokens("The list of targets"),
            vec!["list", "target"]
        );
    }

    #[test]
    fn ngram_ranges_parse_and_reject_nonsense() {
        assert_eq!(NgramRange::parse("1-2").unwrap(), NgramRange { min: 1, max: 2 });
        assert_eq!(NgramRange::parse("2..=5").unwrap(), NgramRange { min: 2, max: 5 });
        assert_eq!(NgramRange::parse("3").unwrap(), NgramRange { min: 3, max: 3 });
        assert!(NgramRange::parse("2-1").is_err());
        assert!(NgramRange::parse("0-1").is_err());
        assert!(NgramRange::parse("a-b").is_err());
    }

    #[test]
    fn ranges_from_files_are_checked_and_unchecked_ranges_do_not_panic() {
        let bad: std::result::Result<NgramRange, _> = serde_json::from_str(r#"{"min": 0, "max": 2}"#);
        assert!(bad.unwrap_err().to_string().contains("n-gram range 0-2 is invalid"));
        let good: NgramRange = serde_json::from_str(r#"{"min": 1, "max": 3}"#).unwrap();
        assert_eq!(good, NgramRange { min: 1, max: 3 });
        let pipeline = TextPipeline {
            word_ngrams: NgramRange { min: 0, max: usize::MAX },
            char_ngrams: Some(NgramRange { min: 0, max: usize::MAX }),
            ..TextPipeline::default()
        };
        let terms = Tokenizer::new(&pipeline).terms("ready for talks");
        assert!(terms.contains(&"w:readi for talk".to_string()), "{terms:?}");
    }

    #[test]
    fn words_hold_no_whitespace() {
        // UAX #29 glues a combining mark to the space before it.
        let tokens: Vec<&str> = words("the \u{110c2} end").collect();
        assert_eq!(tokens, vec!["the", "\u{110c2}", "end"]);
    }

    #[test]
    fn empty_and_punctuation_only_text_gives_no_terms() {
        assert!(default_tokenizer().terms("").is_empty());
        assert!(default_tokenizer().terms(" -- !!! ...").is_empty());
    }
}
