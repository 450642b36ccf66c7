//! Splits an article into sentences with byte offsets: lines first, then Unicode sentence
//! boundaries, with abbreviations ("U.S.", "Mr.", "Jan.") and initials glued back.

use unicode_segmentation::UnicodeSegmentation;

/// One sentence of an article: its text and where it stands in the article (byte offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sentence<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

/// Words that end with a period without ending the sentence (compared lowercase, without the
/// final period).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt",
    "gov", "sen", "rep", "amb", "pres", "st", "jr", "sr", "no", "nos", "vs", "etc", "approx",
    "dept", "inc", "co", "corp", "ltd", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.u", "u.s.a", "a.m", "p.m", "d.c",
    "i.e", "e.g", "al", "fig", "vol", "art",
];

/// Splits `article` into sentences. Each non-empty line is a paragraph (news text puts
/// headlines, datelines and captions on their own lines); inside a paragraph, sentences end at
/// Unicode (UAX #29) sentence boundaries, except after an abbreviation or a single-letter
/// initial. Sentences are trimmed; empty ones are dropped. Offsets index into `article`.
pub fn split_sentences(article: &str) -> Vec<Sentence<'_>> {
    let mut sentences = Vec::new();
    let mut line_start = 0;
    for line in article.split_inclusive('\n') {
        split_paragraph(article, line_start, line, &mut sentences);
        line_start += line.len();
    }
    sentences
}

fn split_paragraph<'a>(
    article: &'a str,
    offset: usize,
    paragraph: &'a str,
    out: &mut Vec<Sentence<'a>>,
) {
    let mut pending: Option<(usize, usize)> = None;
    for (start, piece) in paragraph.split_sentence_bound_indices() {
        let (start, end) = (offset + start, offset + start + piece.len());
        let merged = match pending {
            Some((pending_start, _)) => (pending_start, end),
            None => (start, end),
        };
        // An agency tag after a dateline ("MOSCOW, June 17. /TASS/.") belongs to the dateline,
        // and the closing half of an editor's omission mark ("<...>") to the text before it,
        // when both are in this paragraph: a sentence never spans a line end.
        if piece.starts_with('/') || piece.starts_with('>') {
            if let Some(previous) = out.last() {
                if previous.start >= offset
                    && previous.end <= merged.0
                    && article[previous.end..merged.0].trim().is_empty()
                    && pending.is_none()
                {
                    let start = previous.start;
                    out.pop();
                    push_trimmed(article, (start, end), out);
                    continue;
                }
            }
        }
        if ends_with_abbreviation(article[merged.0..merged.1].trim_end()) {
            pending = Some(merged);
        } else {
            push_trimmed(article, merged, out);
            pending = None;
        }
    }
    if let Some(span) = pending {
        push_trimmed(article, span, out);
    }
}

fn push_trimmed<'a>(article: &'a str, (start, end): (usize, usize), out: &mut Vec<Sentence<'a>>) {
    let raw = &article[start..end];
    let trimmed_start = raw.len() - raw.trim_start().len();
    let text = raw.trim();
    if text.is_empty() {
        return;
    }
    let start = start + trimmed_start;
    out.push(Sentence {
        text,
        start,
        end: start + text.len(),
    });
}

/// True when `text` ends with "<abbreviation>." or a single-letter initial such as "J.".
fn ends_with_abbreviation(text: &str) -> bool {
    let Some(before_period) = text.strip_suffix('.') else {
        return false;
    };
    let last_word = before_period
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '\u{201C}')
        .next()
        .unwrap_or("");
    if last_word.is_empty() {
        return false;
    }
    let mut chars = last_word.chars();
    let single_letter = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase());
    single_letter || ABBREVIATIONS.contains(&last_word.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(article: &str) -> Vec<&str> {
        split_sentences(article).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_sentence_ends_and_lines() {
        assert_eq!(
            texts("Headline here\n\nThe talks ended. Both sides left.\nA caption"),
            vec!["Headline here", "The talks ended.", "Both sides left.", "A caption"]
        );
    }

    #[test]
    fn keeps_abbreviations_and_initials_inside_sentences() {
        assert_eq!(
            texts("The U.S. Secretary met Mr. Smith on Jan. 5 in Washington. J. Doe said so."),
            vec![
                "The U.S. Secretary met Mr. Smith on Jan. 5 in Washington.",
                "J. Doe said so."
            ]
        );
    }

    #[test]
    fn quotes_with_attribution_stay_together() {
        assert_eq!(
            texts("\u{201C}This is important. We welcome it,\u{201D} he said. Nothing more."),
            vec![
                "\u{201C}This is important.",
                "We welcome it,\u{201D} he said.",
                "Nothing more."
            ]
        );
    }

    #[test]
    fn offsets_point_at_the_sentence_text() {
        let article = "  First one.  Second one?\r\nThird";
        for sentence in split_sentences(article) {
            assert_eq!(&article[sentence.start..sentence.end], sentence.text);
        }
        assert_eq!(texts(article), vec!["First one.", "Second one?", "Third"]);
    }

    #[test]
    fn agency_tags_stay_with_their_dateline() {
        assert_eq!(
            texts("MOSCOW, June 17. /TASS/. Russia said so. Then /slash/ words."),
            vec!["MOSCOW, June 17. /TASS/.", "Russia said so.", "Then /slash/ words."]
        );
    }

    #[test]
    fn agency_tags_do_not_join_the_previous_line() {
        // Found by the property tests: a line starting with '/' was merged into the last
        // sentence of the line before, giving a sentence across a line end.
        assert_eq!(texts("\0\n/"), vec!["\0", "/"]);
        assert_eq!(texts("MOSCOW, June 17.\n/TASS/. Russia said so."), vec!["MOSCOW, June 17.", "/TASS/.", "Russia said so."]);
    }

    #[test]
    fn an_omission_mark_does_not_split_a_sentence_in_two() {
        assert_eq!(
            texts("\"We did it,\" he noted. <...> This says a lot."),
            vec!["\"We did it,\" he noted.", "<...> This says a lot."]
        );
    }

    #[test]
    fn empty_and_blank_articles_have_no_sentences() {
        assert!(split_sentences("").is_empty());
        assert!(split_sentences(" \n\n\t\r\n").is_empty());
    }

    #[test]
    fn text_without_final_punctuation_is_one_sentence() {
        assert_eq!(texts("no punctuation at all"), vec!["no punctuation at all"]);
    }
}
