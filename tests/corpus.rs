//! Checks of the committed corpus (data/train.csv, data/test.csv): schema, labels, size and
//! balance targets, no duplicates, and no test sentence that repeats a training sentence.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

const STANCES: [&str; 4] = ["accusatory", "conciliatory", "conditional", "neutral"];
const SENTIMENTS: [&str; 3] = ["negative", "neutral", "positive"];
const HEADER: [&str; 6] = ["id", "text", "stance", "sentiment", "topic", "register"];

struct Row {
    id: String,
    text: String,
    stance: String,
    sentiment: String,
    topic: String,
    register: String,
}

fn read(path: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, HEADER, "{path}: header");
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{path}: {e}"));
            Row {
                id: r[0].to_string(),
                text: r[1].to_string(),
                stance: r[2].to_string(),
                sentiment: r[3].to_string(),
                topic: r[4].to_string(),
                register: r[5].to_string(),
            }
        })
        .collect()
}

fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[test]
fn every_row_has_valid_labels_and_a_unique_id() {
    let mut ids = HashSet::new();
    for path in ["data/train.csv", "data/test.csv"] {
        for row in read(path) {
            assert!(ids.insert(row.id.clone()), "{path}: duplicate id {}", row.id);
            assert!(STANCES.contains(&row.stance.as_str()), "{path} {}: stance {}", row.id, row.stance);
            assert!(SENTIMENTS.contains(&row.sentiment.as_str()), "{path} {}: sentiment {}", row.id, row.sentiment);
            assert!(!row.text.trim().is_empty(), "{path} {}: empty text", row.id);
            assert!(!row.topic.is_empty() && !row.register.is_empty(), "{path} {}", row.id);
        }
    }
}

#[test]
fn the_corpus_meets_its_size_and_variety_targets() {
    let train = read("data/train.csv");
    let test = read("data/test.csv");
    let all: Vec<&Row> = train.iter().chain(&test).collect();
    assert!(all.len() >= 4000, "{} sentences", all.len());
    let share = test.len() as f64 / all.len() as f64;
    assert!((0.15..=0.25).contains(&share), "test share {share:.3}");
    let mut stances: HashMap<&str, usize> = HashMap::new();
    for row in &all {
        *stances.entry(row.stance.as_str()).or_default() += 1;
    }
    for stance in STANCES {
        assert!(stances.get(stance).copied().unwrap_or(0) >= 700, "{stance}: {:?}", stances);
    }
    let topics: BTreeSet<&str> = all.iter().map(|r| r.topic.as_str()).collect();
    assert!(topics.len() >= 12, "{topics:?}");
    let registers: BTreeSet<&str> = all.iter().map(|r| r.register.as_str()).collect();
    for register in ["quote", "reported", "narration", "headline", "dateline", "question", "long", "fragment"] {
        assert!(registers.contains(register), "register {register} missing");
    }
    // Every stance x sentiment combination that real reporting has is present in training.
    let combinations: BTreeMap<(&str, &str), usize> = train.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry((r.stance.as_str(), r.sentiment.as_str())).or_default() += 1;
        m
    });
    for pair in [
        ("conciliatory", "neutral"),
        ("accusatory", "neutral"),
        ("conditional", "negative"),
        ("neutral", "negative"),
        ("conditional", "positive"),
    ] {
        assert!(combinations.get(&pair).copied().unwrap_or(0) >= 20, "{pair:?}: {combinations:?}");
    }
}

#[test]
fn no_sentence_repeats_and_no_test_sentence_is_in_training() {
    let train = read("data/train.csv");
    let test = read("data/test.csv");
    let mut seen = HashSet::new();
    for row in &train {
        assert!(seen.insert(normalized(&row.text)), "train repeats: {}", row.text);
    }
    for row in &test {
        assert!(seen.insert(normalized(&row.text)), "test sentence {} also elsewhere: {}", row.id, row.text);
    }
}

#[test]
fn test_sentences_are_not_near_copies_of_training_sentences() {
    // Word 4-gram Jaccard similarity after masking capitalized words and numbers (so that a
    // sentence with only names or figures swapped counts as a copy). Formulaic lines with
    // fewer than six ordinary words (datelines, credits) are not compared.
    fn shingles(text: &str) -> HashSet<Vec<String>> {
        let words: Vec<String> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .map(|w| {
                if w.chars().next().is_some_and(|c| c.is_uppercase() || c.is_numeric()) {
                    "X".to_string()
                } else {
                    w.to_lowercase()
                }
            })
            .collect();
        words.windows(4).map(|w| w.to_vec()).collect()
    }
    let ordinary_words = |text: &str| {
        text.split(|c: char| !c.is_alphabetic())
            .filter(|w| w.len() >= 2 && w.chars().all(|c| c.is_lowercase()))
            .count()
    };
    let train: Vec<HashSet<Vec<String>>> = read("data/train.csv").iter().map(|r| shingles(&r.text)).collect();
    let mut index: HashMap<&Vec<String>, Vec<usize>> = HashMap::new();
    for (i, set) in train.iter().enumerate() {
        for gram in set {
            index.entry(gram).or_default().push(i);
        }
    }
    let mut copies = Vec::new();
    for row in read("data/test.csv") {
        let set = shingles(&row.text);
        if set.len() < 4 || ordinary_words(&row.text) < 6 {
            continue;
        }
        let mut shared: HashMap<usize, usize> = HashMap::new();
        for gram in &set {
            for &i in index.get(gram).map(Vec::as_slice).unwrap_or(&[]) {
                *shared.entry(i).or_default() += 1;
            }
        }
        for (i, common) in shared {
            let jaccard = common as f64 / (set.len() + train[i].len() - common) as f64;
            if jaccard > 0.5 {
                copies.push((row.id.clone(), i, jaccard));
            }
        }
    }
    assert!(copies.is_empty(), "near copies: {copies:?}");
}

#[test]
fn no_corpus_sentence_copies_a_held_out_seed_article() {
    // The seed articles (../shared/seeds, present beside the project in CI, absent in a user's
    // clone) are kept for judging the model on text it has never seen.
    let Ok(entries) = std::fs::read_dir("../shared/seeds") else {
        eprintln!("../shared/seeds not present; skipping the seed-overlap check");
        return;
    };
    fn trigrams(text: &str) -> HashSet<Vec<String>> {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        words.windows(3).map(|w| w.to_vec()).collect()
    }
    let mut seed_sentences = Vec::new();
    for entry in entries {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for sentence in stancekit::sentences::split_sentences(&text) {
            let grams = trigrams(sentence.text);
            if grams.len() >= 3 {
                seed_sentences.push((sentence.text.to_string(), grams));
            }
        }
    }
    assert!(!seed_sentences.is_empty());
    let mut overlaps = Vec::new();
    for path in ["data/train.csv", "data/test.csv", "tests/fixtures/small.csv"] {
        let mut reader = csv::Reader::from_path(path).unwrap();
        let text_column = reader.headers().unwrap().iter().position(|h| h == "text").unwrap();
        for record in reader.records() {
            let text = record.unwrap()[text_column].to_string();
            let grams = trigrams(&text);
            if grams.len() < 3 {
                continue;
            }
            for (seed, seed_grams) in &seed_sentences {
                let shared = grams.intersection(seed_grams).count();
                if shared as f64 > 0.5 * grams.len().min(seed_grams.len()) as f64 {
                    overlaps.push(format!("{path}: {text:?} ~ seed {seed:?}"));
                }
            }
        }
    }
    assert!(overlaps.is_empty(), "{overlaps:#?}");
}
