//! Property tests (proptest) of the sentence splitter, the tokenizer and speaker attribution: on
//! any text they do not panic, attribution gives one result per sentence and a speaker only to
//! quotes and reported sentences, sentence offsets are char boundaries in order without overlap and each sentence
//! is exactly its slice of the article, nothing but whitespace falls between sentences, and the
//! same input always gives the same output.

use proptest::prelude::*;
use stancekit::sentences::split_sentences;
use stancekit::speakers::{attribute_article, Mark};
use stancekit::text::{normalize, NgramRange, StemmerChoice, TextPipeline, Tokenizer};

/// Pieces news text is made of, and the characters that trip splitters up.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        // Words, abbreviations, initials, datelines, numbers.
        prop::sample::select(vec![
            "The", "talks", "resumed", "U.S.", "Mr.", "Jan.", "J.", "e.g.", "U.N.", "etc.", "St.",
            "MOSCOW,", "June", "17.", "/TASS/.", "/", "No.", "5", "3.14", "1,000", "don't", "won't",
            "minister", "said", "if", "unless", "not", "only", "a", "I", "x",
        ])
        .prop_map(str::to_string),
        // Sentence ends, quotes, brackets and other punctuation, ASCII and typographic.
        prop::sample::select(vec![
            ".", "!", "?", "...", "\u{2026}", "\u{203D}", "\u{3002}", "\"", "'", "\u{201C}",
            "\u{201D}", "\u{2018}", "\u{2019}", "\u{00AB}", "\u{00BB}", "(", ")", "[", "]", ",",
            ";", ":", "\u{2014}", "-", "`",
        ])
        .prop_map(str::to_string),
        // Whitespace and line ends of every kind.
        prop::sample::select(vec![
            " ", "  ", "\n", "\r\n", "\r", "\t", "\n\n", "\u{00A0}", "\u{2028}", "\u{2029}",
            "\u{000B}", "\u{000C}", "\u{0085}", "\u{3000}",
        ])
        .prop_map(str::to_string),
        // Scripts, emoji, combining marks, bidi controls, odd code points.
        prop::sample::select(vec![
            "\u{0627}\u{0644}\u{0633}\u{0644}\u{0627}\u{0645}", "\u{05E9}\u{05DC}\u{05D5}\u{05DD}",
            "\u{4F1A}\u{8C08}", "\u{041C}\u{0438}\u{0440}", "\u{1F91D}\u{1F3FD}", "\u{1F1FA}\u{1F1E6}",
            "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}", "e\u{0301}", "\u{FB01}", "\u{FEFF}",
            "\u{202B}", "\u{202C}", "\u{200B}", "\u{00AD}", "\u{0000}", "\u{FFFD}", "\u{10FFFF}",
            "\u{2160}", "\u{00BD}", "\u{0130}", "\u{1E9E}", "\u{03A3}",
        ])
        .prop_map(str::to_string),
        // Anything at all.
        any::<String>(),
    ]
}

fn article() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..60).prop_map(|parts| {
        // Words mostly separated by spaces, as in text; sometimes glued.
        let mut out = String::new();
        for (i, part) in parts.iter().enumerate() {
            if i % 3 != 2 {
                out.push(' ');
            }
            out.push_str(part);
        }
        out
    })
}

/// Text made of the words and marks attribution rules look at.
fn attributed_article() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "said", "told", "added", "according", "to", "he", "she", "it", "they", "He", "the", "a",
        "spokesman", "minister", "Foreign", "Ministry", "Sergei", "Lavrov", "Lavrov,", "U.S.", "of",
        "for", "and", "was", "accused", "declined", "comment", "in", "Vienna", "who", "officials",
        "\"", "\u{201C}", "\u{201D}", "'", "\u{2018}", "\u{2019}", "\u{00AB}", "\u{00BB}", ",",
        ":", ".", "?", "!", "\n", "\u{2014}", "Ms.", "Russia's",
    ]);
    prop::collection::vec(prop_oneof![4 => words.prop_map(str::to_string), 1 => fragment()], 0..80)
        .prop_map(|parts| parts.join(" "))
}

fn check_attribution(article: &str) {
    let attributions = attribute_article(article);
    assert_eq!(attributions.len(), split_sentences(article).len());
    for attribution in &attributions {
        if attribution.mark == Mark::Narration {
            assert!(attribution.speaker.is_none() && attribution.cue.is_empty(), "{attribution:?}");
        }
        if let Some(speaker) = &attribution.speaker {
            assert!(!speaker.trim().is_empty());
        }
    }
    assert_eq!(attributions, attribute_article(article), "attribution is deterministic");
}

fn pipelines() -> impl Strategy<Value = TextPipeline> {
    (1usize..=3, 0usize..=2, 1usize..=5, any::<bool>(), any::<bool>(), any::<bool>(), 0usize..=3, any::<bool>()).prop_map(
        |(word_min, word_extra, char_max, chars, stem, numbers, negation, replaces)| TextPipeline {
            lowercase: true,
            replace_numbers: numbers,
            stemmer: if stem { StemmerChoice::English } else { StemmerChoice::None },
            word_ngrams: NgramRange::new(word_min, word_min + word_extra).unwrap(),
            char_ngrams: chars.then(|| NgramRange::new(1, char_max).unwrap()),
            stop_words: vec!["the".into(), "a".into()],
            negation_scope: (negation > 0).then_some(negation),
            negation_replaces: replaces,
        },
    )
}

fn check_sentences(article: &str) {
    let sentences = split_sentences(article);
    let mut previous_end = 0;
    for sentence in &sentences {
        assert!(sentence.start >= previous_end, "overlap or out of order at {}", sentence.start);
        assert!(sentence.start < sentence.end, "empty sentence at {}", sentence.start);
        assert!(sentence.end <= article.len());
        assert!(article.is_char_boundary(sentence.start), "start {} inside a char", sentence.start);
        assert!(article.is_char_boundary(sentence.end), "end {} inside a char", sentence.end);
        assert_eq!(&article[sentence.start..sentence.end], sentence.text);
        assert_eq!(sentence.text, sentence.text.trim(), "sentences are trimmed");
        // Only whitespace is dropped: between sentences there is nothing else.
        assert!(
            article[previous_end..sentence.start].trim().is_empty(),
            "text lost between sentences: {:?}",
            &article[previous_end..sentence.start]
        );
        previous_end = sentence.end;
    }
    assert!(article[previous_end..].trim().is_empty(), "text lost at the end");
    // A sentence never spans a line end: lines are paragraphs.
    for sentence in &sentences {
        assert!(!sentence.text.contains('\n'), "{:?}", sentence.text);
    }
    assert_eq!(sentences, split_sentences(article), "same input, same sentences");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn attribution_never_panics_and_fits_the_sentences(article in attributed_article()) {
        check_attribution(&article);
    }

    #[test]
    fn attribution_handles_any_text(article in article()) {
        check_attribution(&article);
    }

    #[test]
    fn sentences_cover_the_article_in_order(article in article()) {
        check_sentences(&article);
    }

    #[test]
    fn sentences_of_arbitrary_strings(article in any::<String>()) {
        check_sentences(&article);
    }

    #[test]
    fn sentences_of_arbitrary_bytes_read_lossily(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_sentences(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn tokens_and_terms_are_deterministic_and_well_formed(text in article(), pipeline in pipelines()) {
        let tokenizer = Tokenizer::new(&pipeline);
        let tokens = tokenizer.tokens(&text);
        prop_assert_eq!(&tokens, &tokenizer.tokens(&text));
        prop_assert_eq!(&tokens, &Tokenizer::new(&pipeline).tokens(&text));
        for token in &tokens {
            prop_assert!(!token.is_empty());
            prop_assert!(!token.chars().any(char::is_whitespace), "{:?}", token);
            if pipeline.replace_numbers {
                prop_assert!(token == "<num>" || !token.chars().any(char::is_numeric), "{:?}", token);
            }
        }
        let terms = tokenizer.terms(&text);
        prop_assert_eq!(&terms, &tokenizer.terms(&text));
        let mut streamed = Vec::new();
        tokenizer.for_each_term(&text, |t| streamed.push(t.to_string()));
        prop_assert_eq!(&terms, &streamed);
        // Word n-grams: every length in the range, over consecutive tokens.
        let words: Vec<&String> = terms.iter().filter(|t| t.starts_with("w:")).collect();
        // Negated terms: only with a negation scope, one per token at most, each a token.
        let negated: Vec<&str> = terms.iter().filter_map(|t| t.strip_prefix("n:")).collect();
        prop_assert!(pipeline.negation_scope.is_some() || negated.is_empty(), "{:?}", negated);
        prop_assert!(negated.len() <= tokens.len());
        for token in &negated {
            prop_assert!(tokens.iter().any(|t| t == token), "{:?} not a token of {:?}", token, tokens);
        }
        let range = pipeline.word_ngrams;
        let expected: usize = (range.min..=range.max)
            .map(|n| tokens.len().saturating_sub(n - 1).min(tokens.len()))
            .filter(|_| !tokens.is_empty())
            .sum();
        prop_assert_eq!(words.len(), expected);
        for term in &terms {
            prop_assert!(["w:", "c:", "n:"].iter().any(|p| term.starts_with(p)), "{:?}", term);
            if let Some(chars) = term.strip_prefix("c:") {
                let length = chars.chars().count();
                let range = pipeline.char_ngrams.unwrap();
                prop_assert!(length >= range.min && length <= range.max, "{:?}", term);
            }
        }
    }

    #[test]
    fn tokenizer_takes_arbitrary_strings(text in any::<String>(), pipeline in pipelines()) {
        let tokenizer = Tokenizer::new(&pipeline);
        prop_assert_eq!(tokenizer.terms(&text), tokenizer.terms(&text));
        prop_assert_eq!(normalize(&text, true), normalize(&text, true));
    }
}

#[test]
fn long_inputs_do_not_take_long() {
    // A 2 MB single line and 100,000 short lines: linear time, well under the test timeout.
    let started = std::time::Instant::now();
    let line = "The talks resumed. Mr. Smith said no ".repeat(60_000);
    assert_eq!(split_sentences(&line).len(), 60_000 + 1);
    let lines = "a\n".repeat(100_000);
    assert_eq!(split_sentences(&lines).len(), 100_000);
    let tokens = Tokenizer::new(&TextPipeline::default()).tokens(&line);
    assert_eq!(tokens.len(), 60_000 * 7);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
