//! Article summaries: counts and shares of every label, the dominant stance of each speaker, and
//! the most confident sentences per stance, as a table for people or JSON for programs.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::model::Model;
use crate::output::truncated;
use crate::predict::LabeledSentence;
use crate::speakers::Mark;

/// How many examples per class a summary keeps.
pub const EXAMPLES_PER_CLASS: usize = 3;

/// The head whose labels speakers and examples are summarised by: `stance` when the model has
/// one, else its first head.
pub fn primary_head(model: &Model) -> usize {
    model.heads().iter().position(|h| h.name == "stance").unwrap_or(0)
}

/// One example sentence of a class.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The sentence's place in the article (0-based).
    pub index: usize,
    pub id: String,
    pub probability: f64,
    pub speaker: Option<String>,
    pub text: String,
}

/// One speaker's sentences in an article.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeakerSummary {
    /// `None` gathers the quotes and reported sentences of unnamed sources.
    pub speaker: Option<String>,
    pub sentences: usize,
    /// Sentences per class of the primary head.
    pub counts: Vec<usize>,
    /// The most frequent class (ties: the one with the higher summed probability, then the
    /// earlier class).
    pub dominant: usize,
}

/// The summary of one article (or one table, whose rows count as its sentences).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub article: String,
    pub sentences: usize,
    /// Sentences marked quote, reported and narration.
    pub marks: [usize; 3],
    /// Per head (model order), sentences per class (class order).
    pub counts: Vec<Vec<usize>>,
    /// Speakers by sentence count, most first, then by first appearance; unnamed sources last.
    pub speakers: Vec<SpeakerSummary>,
    /// Per class of the primary head, up to [`EXAMPLES_PER_CLASS`] sentences with that label,
    /// the most probable first.
    pub examples: Vec<Vec<Example>>,
    primary: usize,
}

/// Builds a [`Summary`] from an article's sentences as they arrive.
pub struct SummaryBuilder {
    summary: Summary,
    /// Speaker -> (first sentence, counts, summed probabilities).
    speakers: HashMap<Option<String>, (usize, Vec<usize>, Vec<f64>)>,
}

fn mark_index(mark: Mark) -> usize {
    match mark {
        Mark::Quote => 0,
        Mark::Reported => 1,
        Mark::Narration => 2,
    }
}

impl SummaryBuilder {
    pub fn new(model: &Model, article: &str) -> Self {
        let primary = primary_head(model);
        SummaryBuilder {
            summary: Summary {
                article: article.to_string(),
                sentences: 0,
                marks: [0; 3],
                counts: model.heads().iter().map(|h| vec![0; h.classes().len()]).collect(),
                speakers: Vec::new(),
                examples: vec![Vec::new(); model.heads().get(primary).map_or(0, |h| h.classes().len())],
                primary,
            },
            speakers: HashMap::new(),
        }
    }

    /// Counts one sentence.
    pub fn add(&mut self, sentence: &LabeledSentence) {
        let index = self.summary.sentences;
        self.summary.sentences += 1;
        self.summary.marks[mark_index(sentence.attribution.mark)] += 1;
        for (counts, prediction) in self.summary.counts.iter_mut().zip(&sentence.predictions) {
            counts[prediction.label] += 1;
        }
        let Some(prediction) = sentence.predictions.get(self.summary.primary) else {
            return;
        };
        let classes = self.summary.examples.len();
        if sentence.attribution.mark != Mark::Narration || sentence.attribution.speaker.is_some() {
            let entry = self
                .speakers
                .entry(sentence.attribution.speaker.clone())
                .or_insert_with(|| (index, vec![0; classes], vec![0.0; classes]));
            entry.1[prediction.label] += 1;
            for (sum, p) in entry.2.iter_mut().zip(&prediction.probabilities) {
                *sum += p;
            }
        }
        let examples = &mut self.summary.examples[prediction.label];
        let probability = prediction.probabilities[prediction.label];
        // Keep the most probable; among equals the earlier sentence.
        let position = examples.iter().position(|e| probability > e.probability).unwrap_or(examples.len());
        if position < EXAMPLES_PER_CLASS {
            examples.insert(
                position,
                Example {
                    index,
                    id: sentence.record.id.clone(),
                    probability,
                    speaker: sentence.attribution.speaker.clone(),
                    text: sentence.record.text.clone(),
                },
            );
            examples.truncate(EXAMPLES_PER_CLASS);
        }
    }

    pub fn finish(mut self) -> Summary {
        let mut speakers: Vec<(usize, SpeakerSummary)> = self
            .speakers
            .into_iter()
            .map(|(speaker, (first, counts, sums))| {
                let dominant = (0..counts.len())
                    .max_by(|&a, &b| {
                        counts[a]
                            .cmp(&counts[b])
                            .then(sums[a].total_cmp(&sums[b]))
                            .then(b.cmp(&a))
                    })
                    .unwrap_or(0);
                (
                    first,
                    SpeakerSummary {
                        speaker,
                        sentences: counts.iter().sum(),
                        counts,
                        dominant,
                    },
                )
            })
            .collect();
        speakers.sort_by(|(first_a, a), (first_b, b)| {
            a.speaker
                .is_none()
                .cmp(&b.speaker.is_none())
                .then(b.sentences.cmp(&a.sentences))
                .then(first_a.cmp(first_b))
        });
        self.summary.speakers = speakers.into_iter().map(|(_, s)| s).collect();
        self.summary
    }
}

fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        (count as f64 / total as f64 * 1e6).round() / 1e6
    }
}

impl Summary {
    /// Builds the summary of sentences at once.
    pub fn of(model: &Model, article: &str, sentences: &[LabeledSentence]) -> Summary {
        let mut builder = SummaryBuilder::new(model, article);
        for sentence in sentences {
            builder.add(sentence);
        }
        builder.finish()
    }

    /// The index of the head whose labels speakers and examples use.
    pub fn primary(&self) -> usize {
        self.primary
    }

    /// The summary as one JSON object (see README "predict --summary").
    pub fn to_json(&self, model: &Model) -> Value {
        let heads = model.heads();
        let mut object = Map::new();
        object.insert("article".into(), self.article.clone().into());
        object.insert("sentences".into(), self.sentences.into());
        object.insert(
            "marks".into(),
            json!({"quote": self.marks[0], "reported": self.marks[1], "narration": self.marks[2]}),
        );
        let mut labels = Map::new();
        for (head, counts) in heads.iter().zip(&self.counts) {
            let count_map: Map<String, Value> = head.classes().iter().zip(counts).map(|(c, &n)| (c.clone(), n.into())).collect();
            let share_map: Map<String, Value> = head
                .classes()
                .iter()
                .zip(counts)
                .map(|(c, &n)| (c.clone(), share(n, self.sentences).into()))
                .collect();
            labels.insert(head.name.clone(), json!({"counts": count_map, "shares": share_map}));
        }
        object.insert("labels".into(), labels.into());
        let Some(primary) = heads.get(self.primary) else {
            return object.into();
        };
        let classes = primary.classes();
        object.insert("by".into(), primary.name.clone().into());
        let speakers: Vec<Value> = self
            .speakers
            .iter()
            .map(|s| {
                let counts: Map<String, Value> = classes.iter().zip(&s.counts).map(|(c, &n)| (c.clone(), n.into())).collect();
                json!({
                    "speaker": s.speaker,
                    "sentences": s.sentences,
                    "dominant": classes[s.dominant],
                    "dominant_sentences": s.counts[s.dominant],
                    "counts": counts,
                })
            })
            .collect();
        object.insert("speakers".into(), speakers.into());
        let examples: Map<String, Value> = classes
            .iter()
            .zip(&self.examples)
            .map(|(class, examples)| {
                let list: Vec<Value> = examples
                    .iter()
                    .map(|e| {
                        json!({
                            "id": e.id,
                            "sentence": e.index + 1,
                            "probability": (e.probability * 1e6).round() / 1e6,
                            "speaker": e.speaker,
                            "text": e.text,
                        })
                    })
                    .collect();
                (class.clone(), list.into())
            })
            .collect();
        object.insert("examples".into(), examples.into());
        object.into()
    }

    /// The summary as a table for people.
    pub fn to_table(&self, model: &Model) -> String {
        let heads = model.heads();
        let mut out = format!(
            "== {}: {} sentences ({} quote, {} reported, {} narration)\n",
            self.article, self.sentences, self.marks[0], self.marks[1], self.marks[2]
        );
        let name_width = heads.iter().map(|h| h.name.chars().count()).max().unwrap_or(0);
        for (head, counts) in heads.iter().zip(&self.counts) {
            let parts: Vec<String> = head
                .classes()
                .iter()
                .zip(counts)
                .map(|(class, &n)| format!("{class} {n} ({:.0}%)", 100.0 * share(n, self.sentences)))
                .collect();
            out.push_str(&format!("{:<name_width$}  {}\n", head.name, parts.join(", ")));
        }
        let Some(primary) = heads.get(self.primary) else {
            return out;
        };
        let classes = primary.classes();
        if !self.speakers.is_empty() {
            let label = |s: &SpeakerSummary| s.speaker.clone().unwrap_or_else(|| "(unnamed sources)".into());
            let width = self.speakers.iter().map(|s| label(s).chars().count()).max().unwrap_or(0).clamp(7, 40);
            out.push_str(&format!("\n{:<width$}  sentences  dominant {}\n", "speaker", primary.name));
            for s in &self.speakers {
                out.push_str(&format!(
                    "{:<width$}  {:>9}  {} ({} of {})\n",
                    truncated(&label(s), width),
                    s.sentences,
                    classes[s.dominant],
                    s.counts[s.dominant],
                    s.sentences
                ));
            }
        }
        out.push_str(&format!("\nmost confident sentences per {}\n", primary.name));
        let class_width = classes.iter().map(|c| c.chars().count()).max().unwrap_or(0);
        for (class, examples) in classes.iter().zip(&self.examples) {
            if examples.is_empty() {
                out.push_str(&format!("{class:<class_width$}  (none)\n"));
            }
            for (i, example) in examples.iter().enumerate() {
                out.push_str(&format!(
                    "{:<class_width$}  {:.2}  {:>3}  {}\n",
                    if i == 0 { class.as_str() } else { "" },
                    example.probability,
                    example.index + 1,
                    truncated(&example.text, 100)
                ));
            }
        }
        out
    }
}
