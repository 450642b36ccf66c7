//! Speaker attribution: who said each sentence of an article and whether it is a quote,
//! reported speech or narration, found by explainable rules over quotation marks, speech verbs
//! and names.
//!
//! The rules, in the order they apply to a sentence:
//!
//! 1. **Quotation marks.** “ ” „ « » ‘ ’ and straight `"` `'` open and close quotes; a quote may
//!    run over several sentences (the splitter cuts `"A. B," he said.` in two) and over paragraphs
//!    (a paragraph that ends inside a quote and a next one that opens a quote). An apostrophe
//!    inside a word (`Russia's`, `don't`) is not a quotation mark. Text inside quotes is never
//!    searched for attributions, so `"As I said last week, ..."` does not make "I" a speaker.
//! 2. **Attributions** outside the quotes: a speech verb (said, told, added, noted, stressed,
//!    accused, denied, warned, urged, ...; see [`SPEECH_VERBS`]) with its subject before it
//!    (`Peskov said`, `Kremlin spokesman Dmitry Peskov told reporters`, `Antonov, who ..., said`,
//!    `Russia's ambassador, Anatoly Antonov, said`) or after it (`," said Antonov`), `according to
//!    X`, and the headline forms `X: "..."` and `'...': X does`. Passive verbs (`was accused`,
//!    `were reported`) have no speaker. An attribution next to a quote wins over others in the
//!    sentence; otherwise the first one does.
//! 3. **Who the subject is.** A name, with or without a title (`Foreign Minister Sergei Lavrov` is
//!    Sergei Lavrov, `the Foreign Ministry` is Foreign Ministry); a later mention by surname
//!    (`Lavrov`) or by a shorter organisation name is the same speaker, shown by the fullest name
//!    the article gives. `he`/`she` refer to the last person who spoke (`she` skips a known `he`),
//!    `it` to the last organisation, `the spokesman`/`the minister`/`the ministry` to the last one
//!    with that title or that word in its name, also when it was only mentioned (`Foreign Minister
//!    Sergei Lavrov arrived ...`). Unnamed sources (`a U.S. official`, `diplomats`, `reports`,
//!    `the statement`) give no speaker, but `the official` after `a U.S. official` refers back to
//!    that unnamed person rather than to the last named one.
//! 4. **Sentences without an attribution.** A sentence inside a quote takes the attribution of
//!    that quote (found in the sentence where it opens or closes, or in the fragment the splitter
//!    cut off after `?"` / `!"`); a sentence that starts with a quote of its own and has no
//!    attribution continues the speaker of the sentence before it; anything else is narration.
//!
//! The mark: `quote` when the sentence is inside a quote that spans sentences, holds a quote of
//! at least [`MIN_QUOTE_WORDS`] words, or is all quote; `reported` when it has an attribution
//! but no such quote; `narration` otherwise.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::sentences::split_sentences;

/// A quotation of fewer words than this (`"frank"`, `"deeply concerning"`) is a scare quote and
/// does not make a sentence a quote.
pub const MIN_QUOTE_WORDS: usize = 3;

/// What kind of sentence it is, as far as speech goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// Someone's words in quotation marks (a whole quote, part of one, or a partial quote).
    Quote,
    /// Someone's words or position reported without a quote ("X said that ...", "according to X").
    Reported,
    /// No one is speaking: facts, background, datelines.
    Narration,
}

impl Mark {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Quote => "quote",
            Mark::Reported => "reported",
            Mark::Narration => "narration",
        }
    }
}

impl std::fmt::Display for Mark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The speaker and mark of one sentence, with the cue that decided them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub mark: Mark,
    /// The speaker's name, the fullest the article gives, without titles; `None` for narration
    /// and for unnamed sources.
    pub speaker: Option<String>,
    /// How it was found, for people: the attribution text (`Peskov told`), what a pronoun or
    /// title was taken to mean (`he added -> Dmitry Peskov`), or which sentence a quote continues.
    /// Empty for narration.
    pub cue: String,
}

impl Attribution {
    /// A sentence in which no one speaks.
    pub fn narration() -> Self {
        Attribution {
            mark: Mark::Narration,
            speaker: None,
            cue: String::new(),
        }
    }
}

/// Attributes every sentence of a plain-text article (split as `predict` splits it; each line is
/// a paragraph).
pub fn attribute_article(article: &str) -> Vec<Attribution> {
    let mut line = 1u64;
    let mut counted_to = 0;
    let sentences: Vec<(&str, u64)> = split_sentences(article)
        .into_iter()
        .map(|sentence| {
            line += article[counted_to..sentence.start].matches('\n').count() as u64;
            counted_to = sentence.start;
            (sentence.text, line)
        })
        .collect();
    attribute(sentences)
}

/// Attributes the sentences of one article, in order, each with a paragraph key (sentences with
/// the same key are in the same paragraph; `predict` uses the line number). Returns one
/// attribution per sentence.
pub fn attribute<'a>(sentences: impl IntoIterator<Item = (&'a str, u64)>) -> Vec<Attribution> {
    let sentences: Vec<(&str, u64)> = sentences.into_iter().collect();
    let scanned = scan_article(&sentences);
    let mut context = Context::default();
    // Pass 1: each sentence's own attribution, resolved in order; quotes collect theirs.
    let mut local: Vec<Option<Local>> = Vec::with_capacity(scanned.sentences.len());
    let mut group_attribution: Vec<Option<(Option<usize>, usize)>> = vec![None; scanned.groups];
    for (index, sentence) in scanned.sentences.iter().enumerate() {
        context.clock += 1;
        register_mentions(&sentence.toks, &mut context);
        let found = choose_candidate(&sentence.toks).map(|candidate| {
            let (entity, note) = context.resolve(&candidate.mention);
            Local {
                entity,
                cue: match note {
                    Some(note) => format!("{} -> {note}", candidate.cue),
                    None => candidate.cue,
                },
                start: candidate.start,
            }
        });
        if let Some(found) = &found {
            for &run in &sentence.runs {
                let group = &mut group_attribution[scanned.run_groups[run]];
                if group.is_none() {
                    *group = Some((found.entity, index));
                }
            }
            if let Some(run) = fragment_of(&scanned, index, found) {
                let group = &mut group_attribution[scanned.run_groups[run]];
                if group.is_none() {
                    *group = Some((found.entity, index));
                }
            }
        }
        local.push(found);
    }
    // Pass 2: marks, and speakers of sentences without an attribution of their own.
    let mut decided: Vec<(Mark, Option<usize>, String)> = Vec::with_capacity(local.len());
    for (index, sentence) in scanned.sentences.iter().enumerate() {
        let quote = sentence.is_quote();
        let decision = if let Some(found) = &local[index] {
            let fragment = fragment_of(&scanned, index, found).is_some();
            let mark = if quote || fragment { Mark::Quote } else { Mark::Reported };
            (mark, found.entity, found.cue.clone())
        } else if quote {
            let from_group = sentence
                .runs
                .iter()
                .find_map(|&run| group_attribution[scanned.run_groups[run]]);
            if let Some((entity, at)) = from_group {
                let cue = format!("in the quote attributed in sentence {}: {}", at + 1, local[at].as_ref().map_or("", |l| l.cue.as_str()));
                (Mark::Quote, entity, cue)
            } else if sentence.starts_with_quote && index > 0 && decided[index - 1].1.is_some() {
                let entity = decided[index - 1].1;
                (Mark::Quote, entity, format!("quote with no attribution, after sentence {}", index))
            } else {
                (Mark::Quote, None, "quote with no attribution".to_string())
            }
        } else {
            (Mark::Narration, None, String::new())
        };
        decided.push(decision);
    }
    decided
        .into_iter()
        .map(|(mark, entity, cue)| Attribution {
            mark,
            speaker: entity.and_then(|id| context.name_of(id)),
            cue,
        })
        .collect()
}

/// Normalises a speaker name for comparisons: lowercase, typographic apostrophes made plain,
/// single spaces, no leading "the".
pub fn normalize_speaker(name: &str) -> String {
    let lower = name.replace('\u{2019}', "'").to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let words = match words.first() {
        Some(&"the") => &words[1..],
        _ => &words[..],
    };
    words.join(" ")
}

// ---------------------------------------------------------------------------------------------
// Word lists. All lowercase; compared with the lowercased word (possessive 's removed).

/// Verbs that attribute what follows or precedes them to their subject.
pub static SPEECH_VERBS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "said", "says", "say", "told", "tells", "added", "adds", "noted", "notes", "stressed",
    "stresses", "emphasized", "emphasised", "emphasizes", "emphasises", "underlined",
    "underscored", "stated", "declared", "declares", "announced", "announces", "warned", "warns",
    "insisted", "insists", "claimed", "argued", "argues", "explained", "explains", "asserted",
    "remarked", "replied", "responded", "commented", "wrote", "writes", "tweeted", "urged",
    "urges", "accused", "accuses", "denied", "denies", "called", "calls", "recalled",
    "confirmed", "confirms", "acknowledged", "acknowledges", "admitted", "admits", "suggested",
    "suggests", "concluded", "complained", "charged", "alleged", "alleges", "vowed", "vows",
    "pledged", "promised", "reiterated", "reiterates", "welcomed", "welcomes", "rejected",
    "rejects", "criticized", "criticised", "criticizes", "criticises", "condemned", "condemns",
    "demanded", "demands", "asked", "asks", "hinted", "cautioned", "predicted", "observed",
    "mentioned", "quoted", "described", "describes", "dismissed", "dismisses", "threatened",
    "threatens", "proposed", "proposes", "reported", "conceded", "countered", "retorted",
    "shouted", "protested", "objected", "questioned", "praised", "blamed", "blames", "disputed",
    "maintained", "maintains", "expressed", "voiced", "signalled", "signaled", "indicated",
    "affirmed", "contended", "lamented", "boasted", "agreed", "declined", "refused",
    "clarified", "assured", "specified", "elaborated", "revealed", "disclosed", "recounted",
]));

/// "declined" and "refused" speak only before "to" and one of these.
static DECLINED_TO: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "comment", "say", "elaborate", "confirm", "discuss", "specify", "answer", "respond", "name",
    "give", "disclose", "speculate",
]));

/// "agreed" speaks only as "agreed that" (else it is an act: "agreed to meet").
const AGREED: &str = "agreed";

/// Verbs whose subject never comes after them (`told TASS` names the listener).
static NO_INVERSION: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter(["told", "tells", "asked", "asks", "urged", "urges", "accused", "accuses", "called", "calls", "quoted", "described", "describes"]));

/// Words skipped between a subject and its verb: auxiliaries, negation and adverbs.
static SKIPPED: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "has", "have", "had", "will", "would", "could", "may", "might", "must", "should", "can",
    "did", "does", "do", "also", "later", "earlier", "again", "then", "now", "previously",
    "repeatedly", "reportedly", "once", "twice", "first", "further", "not", "never", "only",
    "just", "already", "still", "publicly", "openly", "today", "yesterday", "tonight",
    "immediately", "quickly", "sharply", "strongly", "angrily", "bluntly", "flatly", "firmly",
    "separately", "privately", "recently", "initially", "subsequently", "jointly", "explicitly",
    "categorically", "simply", "even", "always", "often", "frequently", "however",
]));

/// Forms of "be": before a speech verb they make it passive ("was accused").
static BE_FORMS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter(["is", "are", "was", "were", "be", "been", "being"]));

/// Titles of people. A title followed by a name gives the name; without a name, "the TITLE"
/// refers back and "a TITLE" is an unnamed source.
static TITLE_HEADS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "spokesman", "spokeswoman", "spokesperson", "minister", "president", "vice-president",
    "premier", "chancellor", "ambassador", "envoy", "secretary", "secretary-general",
    "undersecretary", "under-secretary", "official", "diplomat", "negotiator", "adviser",
    "advisor", "aide", "senator", "congressman", "congresswoman", "lawmaker", "legislator",
    "governor", "mayor", "chairman", "chairwoman", "chair", "chief", "head", "director",
    "director-general", "commander", "general", "admiral", "colonel", "leader",
    "representative", "counterpart", "king", "queen", "prince", "emir", "pope", "prosecutor",
    "judge", "analyst", "expert", "professor", "researcher", "officer", "coordinator",
    "commissioner", "president-elect", "mp", "delegate", "observer", "witness", "resident",
    "journalist", "correspondent", "editor", "source", "attache", "consul", "deputy",
    "ombudsman", "mediator", "lieutenant", "captain", "sheikh", "ayatollah", "monitor",
    "inspector", "economist", "scholar", "campaigner", "activist", "member", "insider",
]));

/// Groups of people: always unnamed sources ("officials said", "Western governments").
static PEOPLE_PLURALS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "officials", "diplomats", "sources", "analysts", "experts", "observers", "witnesses",
    "residents", "lawmakers", "legislators", "protesters", "protestors", "activists", "critics",
    "drivers", "villagers", "farmers", "workers", "soldiers", "troops", "police", "doctors",
    "people", "locals", "eyewitnesses", "investigators", "prosecutors", "authorities",
    "governments", "leaders", "ministers", "spokesmen", "negotiators", "delegates",
    "commentators", "economists", "officers", "representatives", "members", "aides", "advisers",
    "advisors", "insiders", "participants", "organisers", "organizers", "scientists",
    "researchers", "journalists", "reporters", "monitors", "inspectors", "rebels", "militants",
    "separatists", "voters", "citizens", "refugees", "fishermen", "residents", "students",
    "survivors", "relatives", "families", "neighbours", "neighbors", "allies", "partners",
    "donors", "envoys", "ambassadors", "mediators", "campaigners", "opponents", "supporters",
    "parties", "sides", "countries", "states", "nations", "capitals",
]));

/// Things that speak for someone unnamed ("the statement said", "according to reports").
static SOURCE_NOUNS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "statement", "statements", "report", "reports", "document", "documents", "letter",
    "communique", "communiqué", "declaration", "media", "newspaper", "newspapers", "survey",
    "poll", "data", "figures", "estimates", "study", "website", "post", "message", "draft",
    "memo", "note", "resolution", "text", "transcript", "announcement", "readout", "tweet",
    "bulletin", "television", "radio", "broadcaster", "outlet", "outlets", "press", "footage",
    "video", "leak", "cable", "filing", "notice", "decree", "order", "assessment", "analysis",
]));

/// Words that make a name an organisation ("Foreign Ministry", "White House", "the army").
static ORG_HEADS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "ministry", "department", "office", "house", "kremlin", "government", "council",
    "commission", "embassy", "agency", "service", "committee", "parliament", "duma", "union",
    "organization", "organisation", "alliance", "pentagon", "cabinet", "senate", "congress",
    "secretariat", "court", "bank", "fund", "army", "navy", "forces", "force", "command",
    "military", "administration", "presidency", "party", "coalition", "mission", "delegation",
    "bureau", "institute", "association", "federation", "assembly", "authority", "guard",
    "company", "corporation", "group", "center", "centre", "foundation", "university", "bloc",
    "headquarters", "staff", "directorate", "regime", "movement", "council", "chamber",
    "tribunal", "observatory", "network", "board", "legislature", "police",
]));

/// Lowercase words allowed inside a title ("senior official", "deputy foreign minister").
static TITLE_MODIFIERS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "senior", "top", "former", "chief", "deputy", "acting", "special", "presidential", "foreign",
    "defence", "defense", "interior", "justice", "finance", "economy", "trade", "energy",
    "health", "military", "state", "national", "security", "press", "prime", "vice", "first",
    "high-ranking", "unnamed", "anonymous", "western", "european", "regional", "local",
    "policy", "executive", "general", "permanent", "assistant", "associate", "lead", "chief",
    "government", "ministry", "party", "opposition", "white", "house", "kremlin", "police",
    "army", "navy", "affairs", "external", "home", "culture", "education", "transport",
    "agriculture", "environment", "labour", "labor", "industry", "economic", "political",
    "cabinet", "communications", "information", "media", "public", "relations", "international",
]));

/// Capitalised words that do not start or belong to a name.
static NOT_NAMES: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "but", "and", "or", "so", "yet", "however", "meanwhile", "moreover", "still", "also", "in",
    "on", "at", "by", "for", "from", "with", "without", "after", "before", "during", "since",
    "until", "when", "while", "whereas", "although", "though", "as", "if", "unless", "this",
    "that", "these", "those", "there", "here", "it", "he", "she", "they", "we", "i", "you",
    "his", "her", "their", "our", "its", "my", "your", "speaking", "asked", "according",
    "earlier", "later", "last", "next", "then", "now", "today", "yesterday", "tomorrow", "both",
    "neither", "either", "each", "every", "all", "some", "many", "most", "few", "several", "no",
    "not", "only", "even", "such", "other", "nobody", "nothing", "everyone", "everybody",
    "someone", "what", "why", "how", "where", "who", "which", "whose", "instead", "despite",
    "under", "over", "against", "among", "between", "through", "amid", "once", "because",
    "separately", "finally", "indeed", "thus", "therefore", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "january", "february", "april",
    "july", "august", "september", "october", "november", "december", "to", "the", "a",
    "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
]));

/// Determiners that start a noun phrase; "the" makes a title refer back.
static DETERMINERS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "the", "a", "an", "one", "another", "his", "her", "its", "their", "our", "two", "three",
    "four", "five", "several", "some", "many", "other", "both", "two", "most", "few",
]));

static WEEKDAYS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
]));

/// Prepositions after which a name is a place or a group, not the subject ("Diplomats in Vienna
/// said", "The ministry in Beijing said").
static PREPOSITIONS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "in", "at", "from", "on", "with", "near", "to", "across", "inside", "outside", "within",
    "by", "under", "over",
]));

/// Words that join a multi-word name or title ("Secretary of State", "Department of Foreign Affairs").
static CONNECTORS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter(["of", "for"]));

/// First words of places, so that "South Korea" is not taken for a person.
static PLACE_FIRST_WORDS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "north", "south", "east", "west", "united", "new", "saudi", "hong", "sri", "costa", "el",
    "los", "san", "sao", "são", "czech", "central", "northern", "southern", "eastern",
    "western", "upper", "lower", "great", "greater", "democratic", "republic", "kingdom",
    "middle", "far", "near", "gaza", "west", "white", "black", "red", "baltic",
]));

const HONORIFICS: &[(&str, Option<Gender>)] = &[
    ("mr.", Some(Gender::Male)),
    ("mr", Some(Gender::Male)),
    ("mrs.", Some(Gender::Female)),
    ("mrs", Some(Gender::Female)),
    ("ms.", Some(Gender::Female)),
    ("ms", Some(Gender::Female)),
    ("dr.", None),
    ("dr", None),
    ("sir", Some(Gender::Male)),
    ("dame", Some(Gender::Female)),
];

/// A fixed list of words, looked up often: a hash set, because these tests run for every word of
/// every sentence.
type WordSet = rustc_hash::FxHashSet<&'static str>;

/// A lowercased word. Short ASCII words, almost all of them, stay inline: the rules fold words
/// for every word of every sentence, and a heap string each time cost a tenth of predict time.
#[derive(Clone, Debug)]
enum Folded {
    Inline { bytes: [u8; FOLDED_INLINE], len: u8 },
    Heap(String),
}

const FOLDED_INLINE: usize = 30;

impl Folded {
    fn as_str(&self) -> &str {
        match self {
            // Only ASCII bytes are stored inline, so they are valid UTF-8.
            Folded::Inline { bytes, len } => std::str::from_utf8(&bytes[..*len as usize]).unwrap_or_default(),
            Folded::Heap(text) => text,
        }
    }
}

impl std::ops::Deref for Folded {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for Folded {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<Folded> for String {
    fn from(folded: Folded) -> String {
        match folded {
            Folded::Heap(text) => text,
            inline => inline.as_str().to_string(),
        }
    }
}

/// `word.to_lowercase()`, without allocating for short ASCII words.
fn lower(word: &str) -> Folded {
    if word.len() <= FOLDED_INLINE && word.is_ascii() {
        let mut bytes = [0u8; FOLDED_INLINE];
        bytes[..word.len()].copy_from_slice(word.as_bytes());
        bytes[..word.len()].make_ascii_lowercase();
        Folded::Inline { bytes, len: word.len() as u8 }
    } else {
        Folded::Heap(word.to_lowercase())
    }
}

/// The word without a possessive ending ("Russia's" -> "Russia").
fn base(word: &str) -> &str {
    for ending in ["'s", "\u{2019}s", "'", "\u{2019}"] {
        if let Some(stem) = word.strip_suffix(ending) {
            if !stem.is_empty() {
                return stem;
            }
        }
    }
    word
}

/// The lowercased word without a possessive ending, as the word lists hold it.
fn key(word: &str) -> Folded {
    lower(base(word))
}

fn in_list(list: &WordSet, word: &str) -> bool {
    list.contains(key(word).as_str())
}

fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// NATO, IAEA, U.S., EU.
fn is_acronym(word: &str) -> bool {
    let letters: Vec<char> = base(word).chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase())
}

fn is_possessive(word: &str) -> bool {
    base(word).len() != word.len()
}

// ---------------------------------------------------------------------------------------------
// Quotes and tokens.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    Punct(char),
    /// A quoted span (run number).
    Quote(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Closer {
    Double,
    Single,
}

/// One sentence after quote scanning.
#[derive(Debug, Default)]
struct Scanned<'a> {
    toks: Vec<Tok<'a>>,
    /// The most words in one quoted span of this sentence.
    longest_quote: usize,
    quoted_words: usize,
    outside_words: usize,
    starts_inside: bool,
    ends_inside: bool,
    /// Runs (quotes) this sentence has a part of, in order.
    runs: Vec<usize>,
    /// The sentence begins with a quote (or inside one).
    starts_with_quote: bool,
    /// The sentence ends with a quote that closes with ? or ! (the splitter cuts after those,
    /// leaving the attribution in the next "sentence").
    ends_with_question: bool,
}

impl Scanned<'_> {
    fn is_quote(&self) -> bool {
        self.starts_inside
            || self.ends_inside
            || self.longest_quote >= MIN_QUOTE_WORDS
            || (self.outside_words == 0 && self.quoted_words > 0)
    }
}

struct ScannedArticle<'a> {
    sentences: Vec<Scanned<'a>>,
    /// The quote group of every run: runs of one quote that spans paragraphs share a group.
    run_groups: Vec<usize>,
    groups: usize,
}

fn scan_article<'a>(sentences: &[(&'a str, u64)]) -> ScannedArticle<'a> {
    let mut out = Vec::with_capacity(sentences.len());
    let mut run_groups: Vec<usize> = Vec::new();
    let mut groups = 0;
    let mut open: Option<(usize, Closer)> = None;
    let mut dangling: Option<usize> = None;
    let mut paragraph: Option<u64> = None;
    for &(text, key) in sentences {
        let new_paragraph = paragraph != Some(key);
        if new_paragraph {
            dangling = open.take().map(|(run, _)| run);
            paragraph = Some(key);
        }
        // A paragraph that opens with a quote continues a quote left open by the paragraph
        // before (the convention for quotes over several paragraphs).
        let opens_with_quote = text.trim_start().starts_with(['"', '\u{201C}', '\u{201E}', '\u{00AB}', '\u{2018}', '\'']);
        let mut continues = if new_paragraph && opens_with_quote { dangling.take() } else { None };
        let mut new_run = |run_groups: &mut Vec<usize>| {
            let group = match continues.take() {
                Some(previous) => run_groups[previous],
                None => {
                    groups += 1;
                    groups - 1
                }
            };
            run_groups.push(group);
            run_groups.len() - 1
        };
        out.push(scan_sentence(text, &mut open, &mut run_groups, &mut new_run));
    }
    ScannedArticle {
        sentences: out,
        run_groups,
        groups,
    }
}

fn scan_sentence<'a>(
    text: &'a str,
    open: &mut Option<(usize, Closer)>,
    run_groups: &mut Vec<usize>,
    new_run: &mut dyn FnMut(&mut Vec<usize>) -> usize,
) -> Scanned<'a> {
    let mut scanned = Scanned {
        starts_inside: open.is_some(),
        ..Default::default()
    };
    // (run or None, byte range of the content)
    let mut segments: Vec<(Option<usize>, usize, usize)> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut segment_start = 0;
    for (k, &(i, c)) in chars.iter().enumerate() {
        let previous = k.checked_sub(1).map(|p| chars[p].1);
        let next = chars.get(k + 1).map(|&(_, n)| n);
        let after = i + c.len_utf8();
        match *open {
            None => {
                let opens = match c {
                    '\u{201C}' | '\u{201E}' | '\u{00AB}' | '"' => Some(Closer::Double),
                    '\u{2018}' => Some(Closer::Single),
                    '\'' if previous.is_none_or(|p| p.is_whitespace() || "([{\u{2014}\u{2013}-:".contains(p))
                        && next.is_some_and(char::is_alphanumeric) =>
                    {
                        Some(Closer::Single)
                    }
                    _ => None,
                };
                if let Some(kind) = opens {
                    segments.push((None, segment_start, i));
                    let run = new_run(run_groups);
                    *open = Some((run, kind));
                    segment_start = after;
                } else if matches!(c, '\u{201D}' | '\u{00BB}') {
                    // A closing mark with no opening one: what came before was quoted.
                    let run = new_run(run_groups);
                    if segments.is_empty() {
                        scanned.starts_inside = true;
                    }
                    segments.push((Some(run), segment_start, i));
                    segment_start = after;
                }
            }
            Some((run, Closer::Double)) => {
                if matches!(c, '\u{201D}' | '\u{00BB}' | '"') {
                    segments.push((Some(run), segment_start, i));
                    *open = None;
                    segment_start = after;
                }
            }
            Some((run, Closer::Single)) => {
                if matches!(c, '\u{2019}' | '\'')
                    && next.is_none_or(|n| !n.is_alphanumeric())
                    && previous.is_some_and(|p| !p.is_whitespace())
                {
                    segments.push((Some(run), segment_start, i));
                    *open = None;
                    segment_start = after;
                }
            }
        }
    }
    match *open {
        Some((run, _)) => {
            segments.push((Some(run), segment_start, text.len()));
            scanned.ends_inside = true;
        }
        None => segments.push((None, segment_start, text.len())),
    }
    for (run, start, end) in segments {
        let content = &text[start..end];
        match run {
            Some(run) => {
                let words = content.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count();
                scanned.quoted_words += words;
                scanned.longest_quote = scanned.longest_quote.max(words);
                if scanned.toks.is_empty() {
                    scanned.starts_with_quote = true;
                }
                scanned.toks.push(Tok::Quote(run));
                if !scanned.runs.contains(&run) {
                    scanned.runs.push(run);
                }
                scanned.ends_with_question = content.trim_end().ends_with(['?', '!']);
            }
            None => {
                let before = scanned.toks.len();
                tokenize(content, &mut scanned.toks);
                scanned.outside_words += scanned.toks[before..].iter().filter(|t| matches!(t, Tok::Word(_))).count();
                if scanned.toks.len() > before {
                    scanned.ends_with_question = false;
                }
            }
        }
    }
    if scanned.starts_inside {
        scanned.starts_with_quote = true;
    }
    scanned
}

/// Abbreviations whose final period belongs to the word.
static ABBREVIATIONS: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter([
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "lt", "col", "sen", "rep", "gov", "prof",
    "maj", "capt", "adm", "sgt", "no", "vs", "inc", "co", "corp", "ltd",
]));

/// Splits text outside quotes into words and punctuation marks.
fn tokenize<'a>(text: &'a str, out: &mut Vec<Tok<'a>>) {
    for chunk in text.split_whitespace() {
        for piece in chunk.split_inclusive(['\u{2014}', '\u{2013}']) {
            let (piece, dash) = match piece.strip_suffix(['\u{2014}', '\u{2013}']) {
                Some(rest) => (rest, true),
                None => (piece, false),
            };
            tokenize_piece(piece, out);
            if dash {
                out.push(Tok::Punct('\u{2014}'));
            }
        }
    }
}

fn tokenize_piece<'a>(piece: &'a str, out: &mut Vec<Tok<'a>>) {
    if piece == "-" {
        out.push(Tok::Punct('\u{2014}'));
        return;
    }
    let is_punct = |c: char| !c.is_alphanumeric() && !matches!(c, '\'' | '\u{2019}' | '-' | '&');
    let mut start = 0;
    for c in piece.chars() {
        if is_punct(c) {
            out.push(Tok::Punct(c));
            start += c.len_utf8();
        } else {
            break;
        }
    }
    let rest = &piece[start..];
    let mut end = rest.len();
    let mut trailing = Vec::new();
    for (i, c) in rest.char_indices().rev() {
        if is_punct(c) {
            end = i;
            trailing.push(c);
        } else {
            break;
        }
    }
    let mut word = &rest[..end];
    // Keep the period of "U.S." and "Mr." with the word.
    if trailing.last() == Some(&'.') && !word.is_empty() {
        let abbreviation = word.contains('.') || ABBREVIATIONS.contains(&lower(word).as_str()) || (word.chars().count() == 1 && is_capitalised(word));
        if abbreviation {
            word = &rest[..end + 1];
            trailing.pop();
        }
    }
    if !word.is_empty() {
        out.push(Tok::Word(word));
    }
    for c in trailing.into_iter().rev() {
        out.push(Tok::Punct(c));
    }
}

// ---------------------------------------------------------------------------------------------
// Noun phrases and mentions.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gender {
    Male,
    Female,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Person,
    Org,
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pronoun {
    He,
    She,
    It,
    They,
}

/// Who an attribution names, before it is resolved against the article.
#[derive(Clone, Debug, PartialEq)]
enum Mention {
    Named {
        name: String,
        kind: Kind,
        titles: Vec<String>,
        gender: Option<Gender>,
    },
    Pronoun(Pronoun),
    /// "the spokesman", "the ministry": refers back.
    Definite { head: String, person: bool },
    /// "a U.S. official", "diplomats", "the statement", "reports".
    Unnamed { titles: Vec<String>, person: bool },
}

/// A noun phrase: tokens `start..end`, its determiner and its words.
#[derive(Clone, Debug)]
struct Np<'a> {
    start: usize,
    end: usize,
    determiner: Option<String>,
    words: Vec<&'a str>,
}

/// Whether a word can be part of a name or title.
fn np_word(word: &str) -> bool {
    let k = key(word);
    if NOT_NAMES.contains(k.as_str()) || DETERMINERS.contains(&k.as_str()) || pronoun(word).is_some() {
        return false;
    }
    if is_capitalised(word) {
        return word.chars().any(char::is_alphabetic);
    }
    TITLE_HEADS.contains(&k.as_str())
        || PEOPLE_PLURALS.contains(&k.as_str())
        || TITLE_MODIFIERS.contains(&k.as_str())
        || ORG_HEADS.contains(&k.as_str())
        || SOURCE_NOUNS.contains(&k.as_str())
}

fn pronoun(word: &str) -> Option<Pronoun> {
    match lower(word).as_str() {
        "he" => Some(Pronoun::He),
        "she" => Some(Pronoun::She),
        "it" => Some(Pronoun::It),
        "they" => Some(Pronoun::They),
        _ => None,
    }
}

fn word<'a>(toks: &[Tok<'a>], i: usize) -> Option<&'a str> {
    match toks.get(i) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

fn is_connector(word: &str) -> bool {
    CONNECTORS.contains(&word)
}

/// Whether token `i` is a "the" inside an organisation's name, after an organisation word and a
/// connector and before a capitalised word ("International Council for the Exploration of the
/// Sea"; but not "Lars Haugen of the Norwegian branch").
fn inner_article(toks: &[Tok<'_>], i: usize) -> bool {
    word(toks, i) == Some("the")
        && i.checked_sub(1).and_then(|p| word(toks, p)).is_some_and(is_connector)
        && word(toks, i + 1).is_some_and(|n| is_capitalised(n) && np_word(n))
        && (0..i.saturating_sub(1)).rev().map_while(|j| word(toks, j)).take_while(|w| np_word(w) || *w == "the" || is_connector(w)).any(|w| in_list(&ORG_HEADS, w) && is_capitalised(w))
}

/// The noun phrase that ends just before token `end`.
fn np_backward<'a>(toks: &[Tok<'a>], end: usize) -> Option<Np<'a>> {
    let mut start = end;
    while start > 0 {
        match toks[start - 1] {
            Tok::Word(w) if np_word(w) || (is_connector(w) && start < end) || inner_article(toks, start - 1) => start -= 1,
            _ => break,
        }
    }
    while start < end && word(toks, start).is_some_and(is_connector) {
        start += 1;
    }
    if start == end {
        return None;
    }
    let words: Vec<&str> = (start..end).filter_map(|i| word(toks, i)).collect();
    let mut determiner = None;
    if let Some(w) = start.checked_sub(1).and_then(|i| word(toks, i)) {
        let k = lower(w);
        if DETERMINERS.contains(&k.as_str()) {
            determiner = Some(String::from(k));
            start -= 1;
        } else if is_possessive(w) && !is_capitalised(w) {
            // "the ministry's spokeswoman": a lowercase possessive owner.
            determiner = Some("the".into());
        }
    }
    Some(Np {
        start,
        end,
        determiner,
        words,
    })
}

/// The noun phrase that starts at token `start` (a determiner may come first).
fn np_forward<'a>(toks: &[Tok<'a>], start: usize) -> Option<Np<'a>> {
    let mut i = start;
    let mut determiner = None;
    if let Some(w) = word(toks, i) {
        let k = lower(w);
        if DETERMINERS.contains(&k.as_str()) {
            determiner = Some(String::from(k));
            i += 1;
        }
    }
    let first = i;
    while let Some(w) = word(toks, i) {
        if np_word(w) || (is_connector(w) && i > first) || (i > first && inner_article(toks, i)) {
            i += 1;
        } else {
            break;
        }
    }
    while i > first && word(toks, i - 1).is_some_and(is_connector) {
        i -= 1;
    }
    if i == first {
        return None;
    }
    Some(Np {
        start,
        end: i,
        determiner,
        words: (first..i).filter_map(|j| word(toks, j)).collect(),
    })
}

/// What a noun phrase names.
fn classify(np: &Np<'_>) -> Option<Mention> {
    let mut words: &[&str] = &np.words;
    let mut gender = None;
    while let Some((first, rest)) = words.split_first() {
        match HONORIFICS.iter().find(|(h, _)| lower(first) == *h) {
            Some((_, g)) if !rest.is_empty() => {
                gender = *g;
                words = rest;
            }
            _ => break,
        }
    }
    let last = *words.last()?;
    // A capitalised plural is a name ("United States") unless it stands alone at the start of a
    // sentence ("Diplomats said").
    let common = !is_capitalised(last) || words.len() == 1;
    if common && in_list(&PEOPLE_PLURALS, last) {
        return Some(Mention::Unnamed {
            titles: vec![key(last).into()],
            person: true,
        });
    }
    if common && in_list(&SOURCE_NOUNS, last) {
        return Some(Mention::Unnamed {
            titles: vec![key(last).into()],
            person: false,
        });
    }
    let is_title = |w: &str| in_list(&TITLE_HEADS, w);
    let is_title_part = |w: &str| in_list(&TITLE_HEADS, w) || in_list(&TITLE_MODIFIERS, w) || is_connector(w);
    let is_name_word = |w: &str| {
        is_capitalised(w) && !in_list(&TITLE_HEADS, w) && !in_list(&TITLE_MODIFIERS, w) && !in_list(&ORG_HEADS, w)
    };
    if let Some(head) = words.iter().rposition(|w| is_title(w)) {
        let name_start = words.iter().rposition(|w| !is_name_word(w)).map_or(0, |i| i + 1);
        let between_ok = name_start > head && words[head + 1..name_start].iter().all(|w| is_title_part(w));
        let titles: Vec<String> = words[..=head].iter().map(|w| key(w).into()).collect();
        if between_ok && name_start < words.len() {
            let name = words[name_start..].join(" ");
            return Some(Mention::Named {
                name: base(&name).to_string(),
                kind: Kind::Person,
                titles: words[..name_start].iter().map(|w| key(w).into()).collect(),
                gender,
            });
        }
        if name_start <= head || words[head + 1..].iter().all(|w| is_title_part(w)) {
            let title: String = key(words[head]).into();
            return Some(if np.determiner.as_deref() == Some("the") {
                Mention::Definite {
                    head: title,
                    person: true,
                }
            } else {
                Mention::Unnamed {
                    titles,
                    person: true,
                }
            });
        }
        return Some(Mention::Unnamed {
            titles,
            person: true,
        });
    }
    let capitalised = words.iter().any(|w| is_capitalised(w) || is_acronym(w));
    let org_head = words.iter().rposition(|w| in_list(&ORG_HEADS, w));
    if !capitalised {
        // "the ministry", "the country's foreign ministry", "government".
        return match org_head {
            Some(head) if np.determiner.as_deref() == Some("the") => Some(Mention::Definite {
                head: key(words[head]).into(),
                person: false,
            }),
            Some(_) => Some(Mention::Unnamed {
                titles: Vec::new(),
                person: false,
            }),
            None => None,
        };
    }
    if words.iter().any(|w| !is_capitalised(w) && !is_connector(w) && *w != "the" && !in_list(&ORG_HEADS, w) && !in_list(&TITLE_MODIFIERS, w)) {
        return None;
    }
    if matches!(np.determiner.as_deref(), Some("a" | "an" | "one" | "another")) {
        // "a U.S. security firm", "a Western government": unnamed.
        return Some(Mention::Unnamed {
            titles: Vec::new(),
            person: false,
        });
    }
    // A name starts with a capital ("information security Andrei Krutskikh" names Andrei Krutskikh)
    // and ends with one or with an organisation word ("Krutskikh's office").
    let first = words.iter().position(|w| is_capitalised(w) || is_acronym(w))?;
    let last = words.iter().rposition(|w| is_capitalised(w) || is_acronym(w) || in_list(&ORG_HEADS, w))?;
    let words = &words[first..=last];
    let org_head = words.iter().rposition(|w| in_list(&ORG_HEADS, w));
    let name = base(&words.join(" ")).to_string();
    let kind = if org_head.is_some() || words.iter().any(|w| is_acronym(w)) {
        Kind::Org
    } else if gender.is_some()
        || (words.len() >= 2 && !in_list(&PLACE_FIRST_WORDS, words[0]) && words.iter().all(|w| is_capitalised(w)))
    {
        Kind::Person
    } else {
        Kind::Unknown
    };
    Some(Mention::Named {
        name,
        kind,
        titles: Vec::new(),
        gender,
    })
}

// ---------------------------------------------------------------------------------------------
// Attribution candidates in one sentence.

struct Candidate {
    mention: Mention,
    /// First token of the attribution.
    start: usize,
    /// The token after it.
    end: usize,
    adjacent: bool,
    cue: String,
}

fn is_speech_verb(toks: &[Tok<'_>], v: usize) -> bool {
    let Some(w) = word(toks, v) else { return false };
    if is_capitalised(w) || !SPEECH_VERBS.contains(&w) {
        return false;
    }
    match w {
        "declined" | "refused" => {
            word(toks, v + 1) == Some("to") && word(toks, v + 2).is_some_and(|n| DECLINED_TO.contains(&n))
        }
        AGREED => word(toks, v + 1) == Some("that"),
        // "said" as an adjective ("the said agreement") never follows a determiner.
        _ => !v.checked_sub(1).and_then(|p| word(toks, p)).is_some_and(|p| DETERMINERS.contains(&lower(p).as_str())),
    }
}

/// The text of tokens `start..end` for a cue.
fn text_of(toks: &[Tok<'_>], start: usize, end: usize) -> String {
    let mut out = String::new();
    for tok in &toks[start..end.min(toks.len())] {
        match tok {
            Tok::Word(w) => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(w);
            }
            Tok::Punct(c) => out.push(*c),
            Tok::Quote(_) => out.push_str(" \"...\""),
        }
    }
    out.trim().to_string()
}

/// Every attribution in the sentence, in order.
fn candidates(toks: &[Tok<'_>]) -> Vec<Candidate> {
    let mut found = Vec::new();
    // Headlines: `X: "..."` and `'...': X does`.
    if let Some(colon) = toks.iter().position(|t| *t == Tok::Punct(':')) {
        if matches!(toks.get(colon + 1), Some(Tok::Quote(_))) && colon > 0 {
            if let Some(np) = np_backward(toks, colon).filter(|np| np.start == 0) {
                if let Some(mention) = classify(&np) {
                    found.push(Candidate {
                        mention,
                        start: 0,
                        end: colon,
                        adjacent: true,
                        cue: format!("{}: \"...\"", text_of(toks, 0, colon)),
                    });
                }
            }
        }
        if colon == 1 && matches!(toks[0], Tok::Quote(_)) {
            if let Some(np) = np_forward(toks, 2) {
                if let Some(mention @ Mention::Named { .. }) = classify(&np) {
                    found.push(Candidate {
                        mention,
                        start: 2,
                        end: np.end,
                        adjacent: true,
                        cue: format!("\"...\": {}", text_of(toks, np.start, np.end)),
                    });
                }
            }
        }
    }
    for v in 0..toks.len() {
        let Some(w) = word(toks, v) else { continue };
        if lower(w) == "according" && word(toks, v + 1) == Some("to") {
            let np = np_forward(toks, v + 2).filter(|np| !is_modifier(toks, np));
            let end = np.as_ref().map_or(v + 2, |np| np.end);
            let mention = np.as_ref().and_then(classify).unwrap_or(Mention::Unnamed {
                titles: Vec::new(),
                person: false,
            });
            let mention = with_apposition_title(toks, end, mention);
            found.push(Candidate {
                adjacent: is_adjacent(toks, v, end),
                mention,
                start: v,
                end,
                cue: text_of(toks, v, end.max(v + 3)),
            });
            continue;
        }
        if !is_speech_verb(toks, v) {
            continue;
        }
        if let Some((mention, start)) = subject_before(toks, v) {
            found.push(Candidate {
                mention,
                start,
                end: v + 1,
                adjacent: is_adjacent(toks, start, v + 1),
                cue: text_of(toks, start, v + 1),
            });
            continue;
        }
        let inverted = v == 0
            || matches!(toks[v - 1], Tok::Punct(',') | Tok::Punct(':') | Tok::Punct('\u{2014}') | Tok::Quote(_));
        if inverted && !NO_INVERSION.contains(&w) && !before_is_passive(toks, v) {
            if let Some(np) = np_forward(toks, v + 1).filter(|np| !is_modifier(toks, np)) {
                if let Some(mention) = classify(&np) {
                    let mention = with_apposition_title(toks, np.end, mention);
                    found.push(Candidate {
                        mention,
                        start: v,
                        end: np.end,
                        adjacent: is_adjacent(toks, v, np.end),
                        cue: text_of(toks, v, np.end),
                    });
                }
            }
        }
    }
    found
}

/// The attribution that speaks for the sentence: one next to a quote; else one that closes the
/// sentence after a comma (`..., says Kremlin`, `..., the ministry said`), which attributes all
/// that comes before it; else the first.
fn choose_candidate(toks: &[Tok<'_>]) -> Option<Candidate> {
    let mut all = candidates(toks);
    let closing = all
        .last()
        .filter(|c| {
            // Only circumstances may follow: "in a statement on Monday", not another clause.
            let rest = &toks[c.end.min(toks.len())..];
            c.start > 0
                && toks[c.start - 1] == Tok::Punct(',')
                && !rest.iter().any(|t| matches!(t, Tok::Punct(',' | ';' | ':') | Tok::Quote(_)))
                && rest.iter().filter(|t| matches!(t, Tok::Word(_))).count() <= 8
        })
        .map(|_| all.len() - 1);
    let index = all.iter().position(|c| c.adjacent).or(closing).unwrap_or(0);
    (!all.is_empty()).then(|| all.swap_remove(index))
}

/// Whether the attribution spanning tokens `start..end` sits right after a quote (`"...," X
/// said`) or right before one (`X said: "..."`).
fn is_adjacent(toks: &[Tok<'_>], start: usize, end: usize) -> bool {
    let after_quote = match start.checked_sub(1).map(|i| toks[i]) {
        Some(Tok::Quote(_)) => true,
        Some(Tok::Punct(',' | '\u{2014}')) => start >= 2 && matches!(toks[start - 2], Tok::Quote(_)),
        _ => false,
    };
    let before_quote = toks[end.min(toks.len())..]
        .iter()
        .take(5)
        .position(|t| matches!(t, Tok::Quote(_)))
        .is_some_and(|offset| {
            let quote = end + offset;
            quote == end
                || matches!(toks[quote - 1], Tok::Punct(':' | ','))
                || word(toks, quote - 1) == Some("that")
        });
    after_quote || before_quote
}

/// Whether the speech verb at `v` is passive ("was accused", "were reported").
fn before_is_passive(toks: &[Tok<'_>], v: usize) -> bool {
    let mut j = v;
    while let Some(w) = j.checked_sub(1).and_then(|i| word(toks, i)) {
        let k = lower(w);
        if BE_FORMS.contains(&k.as_str()) {
            return word(toks, v) != Some("quoted");
        }
        if SKIPPED.contains(&k.as_str()) {
            j -= 1;
        } else {
            break;
        }
    }
    false
}

/// The subject of the speech verb at `v`, searched backwards, and the token where it starts.
fn subject_before(toks: &[Tok<'_>], v: usize) -> Option<(Mention, usize)> {
    if before_is_passive(toks, v) {
        return None;
    }
    let mut j = v;
    loop {
        if let Some(w) = j.checked_sub(1).and_then(|i| word(toks, i)) {
            if SKIPPED.contains(&lower(w).as_str()) {
                j -= 1;
                continue;
            }
            if j >= 2 && in_list(&WEEKDAYS, w) && word(toks, j - 2).is_some_and(|p| lower(p) == "on") {
                j -= 2;
                continue;
            }
        }
        break;
    }
    let previous = *toks.get(j.checked_sub(1)?)?;
    match previous {
        Tok::Word(w) => {
            if let Some(p) = pronoun(w) {
                return Some((Mention::Pronoun(p), j - 1));
            }
            subject_np(toks, j)
        }
        Tok::Punct(',') => apposition(toks, j - 1),
        _ => None,
    }
}

/// The noun phrase ending before `end` as a subject; a place after a preposition ("Diplomats in
/// Vienna") is skipped for the noun before it.
fn subject_np(toks: &[Tok<'_>], end: usize) -> Option<(Mention, usize)> {
    let np = np_backward(toks, end)?;
    // "Washington and London have accused": two names speak together.
    if np.determiner.is_none() && np.start >= 2 && word(toks, np.start - 1) == Some("and") {
        if let (Some(Mention::Named { name: second, kind: k2, titles: t2, .. }), Some(first)) =
            (classify(&np), np_backward(toks, np.start - 1))
        {
            if let Some(Mention::Named { name: one, kind: k1, titles: t1, .. }) = classify(&first).filter(|_| first.determiner.is_none()) {
                if t1.is_empty() && t2.is_empty() {
                    let kind = if k1 == Kind::Person && k2 == Kind::Person { Kind::Person } else { Kind::Org };
                    let mention = Mention::Named { name: format!("{one} and {second}"), kind, titles: Vec::new(), gender: None };
                    return Some((mention, first.start));
                }
            }
        }
    }
    let before = np.start.checked_sub(1).and_then(|i| word(toks, i));
    if before.is_some_and(|p| PREPOSITIONS.contains(&lower(p).as_str())) {
        let outer = subject_np(toks, np.start - 1);
        if let Some((title, start)) = &outer {
            if let Some(named) = title_place_name(title, &np) {
                return Some((named, *start));
            }
        }
        return outer;
    }
    Some((classify(&np)?, np.start))
}

/// "Russian Ambassador to the US Anatoly Antonov", "adviser on information security Pavel Orlov":
/// a title, a preposition, then a place or a field and a name run together; the name is taken
/// to be the last two capitalised words.
fn title_place_name(title: &Mention, place: &Np<'_>) -> Option<Mention> {
    let titles = match title {
        Mention::Unnamed { titles, person: true } => titles.clone(),
        Mention::Definite { head, person: true } => vec![head.clone()],
        _ => return None,
    };
    let words = &place.words;
    let plain_name = |w: &&str| {
        is_capitalised(w) && !is_possessive(w) && !is_acronym(w) && !in_list(&ORG_HEADS, w) && !in_list(&TITLE_HEADS, w) && !in_list(&TITLE_MODIFIERS, w)
    };
    if words.len() < 3 || !words[words.len() - 2..].iter().all(plain_name) {
        return None;
    }
    Some(Mention::Named {
        name: words[words.len() - 2..].join(" "),
        kind: Kind::Person,
        titles,
        gender: None,
    })
}

/// Words that may follow a name in an attribution ("according to Krutskikh in an interview",
/// "said Antonov and ..."); any other lowercase word makes a lone capitalised word an adjective
/// ("according to American intelligence services").
static AFTER_NAME: LazyLock<WordSet> = LazyLock::new(|| WordSet::from_iter(["and", "or", "but", "who", "which", "that", "as", "after", "before", "when", "while", "said", "says", "told", "added"]));

/// A single capitalised word, or a phrase ending in a lowercase modifier, followed by a lowercase
/// noun is a modifier, not a name ("according to American intelligence services", "according to
/// U.S. security researchers").
fn is_modifier(toks: &[Tok<'_>], np: &Np<'_>) -> bool {
    let last = np.words[np.words.len() - 1];
    let modifier_last = !is_capitalised(last) && in_list(&TITLE_MODIFIERS, last) && !in_list(&ORG_HEADS, last);
    ((np.words.len() == 1 && !is_acronym(last)) || modifier_last)
        && word(toks, np.end).is_some_and(|next| {
            let k = lower(next);
            !is_capitalised(next)
                && !PREPOSITIONS.contains(&k.as_str())
                && !AFTER_NAME.contains(&k.as_str())
                && !SKIPPED.contains(&k.as_str())
                && !is_connector(next)
        })
}

/// `A, B, said`: the subject is the name among A and B ("Russia's ambassador, Anatoly Antonov,
/// said"; "Antonov, who arrived on Monday, said"; "Zakharova, the ministry's spokeswoman, said").
fn apposition(toks: &[Tok<'_>], comma: usize) -> Option<(Mention, usize)> {
    let mut k = comma;
    let first = loop {
        k = k.checked_sub(1)?;
        match toks[k] {
            Tok::Punct(',') => break k,
            Tok::Quote(_) | Tok::Punct(':' | ';' | '.' | '(' | ')') => return None,
            _ => {}
        }
        if comma - k > 16 {
            return None;
        }
    };
    if first + 1 == comma {
        return None;
    }
    // B is a name, or an aside that starts in lowercase ("who ...", "the ministry's spokeswoman",
    // "speaking on condition of anonymity"); a capitalised clause ("Seoul warned of ...") makes
    // the commas a list, not an apposition.
    let b_is_name = np_forward(toks, first + 1).is_some_and(|np| np.end == comma);
    if !b_is_name && word(toks, first + 1).is_none_or(is_capitalised) {
        return None;
    }
    let a = subject_np(toks, first);
    let b = np_forward(toks, first + 1).filter(|np| np.end == comma && np.determiner.is_none());
    if let Some(Mention::Named { name, kind, mut titles, gender }) = b.as_ref().and_then(classify) {
        let a_is_title = matches!(a, Some((Mention::Unnamed { person: true, .. } | Mention::Definite { person: true, .. }, _)));
        if a_is_title || (a.is_none() && kind != Kind::Org) {
            if let Some((Mention::Unnamed { titles: more, .. }, _)) = &a {
                titles.extend(more.iter().cloned());
            }
            if let Some((Mention::Definite { head, .. }, _)) = &a {
                titles.push(head.clone());
            }
            return Some((Mention::Named { name, kind: Kind::Person, titles, gender }, first + 1));
        }
    }
    let (mention, start) = a?;
    Some((with_titles_of(toks, first + 1, comma, mention), start))
}

/// Adds the title of an apposition between `start..end` ("the Foreign Ministry spokeswoman") to a
/// named mention.
fn with_titles_of(toks: &[Tok<'_>], start: usize, end: usize, mention: Mention) -> Mention {
    let Mention::Named { name, kind, mut titles, gender } = mention else {
        return mention;
    };
    let mut kind = kind;
    if let Some(np) = np_forward(toks, start).filter(|np| np.end <= end) {
        match classify(&np) {
            Some(Mention::Unnamed { titles: more, person: true }) => {
                titles.extend(more);
                kind = Kind::Person;
            }
            Some(Mention::Definite { head, person: true }) => {
                titles.push(head);
                kind = Kind::Person;
            }
            _ => {}
        }
    }
    Mention::Named { name, kind, titles, gender }
}

/// "said Antonov, Russia's ambassador to the U.S." and "according to X, the president's
/// envoy,": the title after the comma belongs to the name.
fn with_apposition_title(toks: &[Tok<'_>], end: usize, mention: Mention) -> Mention {
    if toks.get(end) != Some(&Tok::Punct(',')) {
        return mention;
    }
    let stop = toks[end + 1..]
        .iter()
        .position(|t| matches!(t, Tok::Punct(_) | Tok::Quote(_)))
        .map_or(toks.len(), |p| end + 1 + p);
    with_titles_of(toks, end + 1, stop, mention)
}

// ---------------------------------------------------------------------------------------------
// The article's people and organisations.

#[derive(Debug)]
struct Entity {
    name: String,
    named: bool,
    kind: Kind,
    titles: Vec<String>,
    gender: Option<Gender>,
    last: usize,
    spoke: bool,
}

/// How many of the most recently mentioned people and organisations a reference can reach back
/// to. Bounds the work per sentence, so a long article with thousands of names is attributed
/// in linear time.
const RECENT_ENTITIES: usize = 256;

#[derive(Debug, Default)]
struct Context {
    entities: Vec<Entity>,
    /// Ids of the most recently mentioned entities, oldest first (by sentence, then by id), at
    /// most [`RECENT_ENTITIES`].
    recent: Vec<usize>,
    clock: usize,
}

struct Local {
    entity: Option<usize>,
    cue: String,
    start: usize,
}

fn name_words(name: &str) -> Vec<String> {
    name.split_whitespace().map(|word| key(word).into()).collect()
}

impl Context {
    fn name_of(&self, id: usize) -> Option<String> {
        let entity = &self.entities[id];
        entity.named.then(|| entity.name.clone())
    }

    /// The most recently mentioned entity that `keep` accepts (among the last
    /// [`RECENT_ENTITIES`]).
    fn most_recent(&self, keep: impl Fn(&Entity) -> bool) -> Option<usize> {
        self.recent.iter().rev().copied().find(|&id| keep(&self.entities[id]))
    }

    /// Marks entity `id` as mentioned in the current sentence.
    fn touch(&mut self, id: usize) {
        self.entities[id].last = self.clock;
        if let Some(position) = self.recent.iter().position(|&r| r == id) {
            self.recent.remove(position);
        }
        let mut at = self.recent.len();
        while at > 0 && self.entities[self.recent[at - 1]].last == self.clock && self.recent[at - 1] > id {
            at -= 1;
        }
        self.recent.insert(at, id);
        if self.recent.len() > RECENT_ENTITIES {
            self.recent.remove(0);
        }
    }

    /// Finds or adds a named entity; a fuller name replaces a shorter one ("Peskov" -> "Dmitry
    /// Peskov"), and a surname alone finds the full name.
    fn named(&mut self, name: &str, kind: Kind, titles: &[String], gender: Option<Gender>, spoke: bool) -> usize {
        let words = name_words(name);
        let found = self.most_recent(|e| {
            if !e.named {
                return false;
            }
            let known = name_words(&e.name);
            known == words
                || (words.len() == 1 && e.kind != Kind::Org && kind != Kind::Org && (known.first() == words.first() || known.last() == words.last()))
                || (words.len() < known.len() && known.ends_with(&words) && (kind == Kind::Org || e.kind != Kind::Org) && words.len() >= 2.min(known.len()))
                || (words.len() > known.len() && words.ends_with(&known))
        });
        let id = match found {
            Some(id) => {
                let entity = &mut self.entities[id];
                if words.len() > name_words(&entity.name).len() {
                    entity.name = name.to_string();
                }
                if entity.kind == Kind::Unknown {
                    entity.kind = kind;
                }
                id
            }
            None => {
                self.entities.push(Entity {
                    name: name.to_string(),
                    named: true,
                    kind,
                    titles: Vec::new(),
                    gender: None,
                    last: 0,
                    spoke: false,
                });
                self.entities.len() - 1
            }
        };
        let entity = &mut self.entities[id];
        for title in titles {
            if !entity.titles.contains(title) {
                entity.titles.push(title.clone());
            }
        }
        entity.gender = entity.gender.or(gender);
        entity.spoke |= spoke;
        self.touch(id);
        id
    }

    /// The entity a mention in an attribution refers to, and a note on how it was found when that
    /// is not plain from the text.
    fn resolve(&mut self, mention: &Mention) -> (Option<usize>, Option<String>) {
        let found = match mention {
            Mention::Named { name, kind, titles, gender } => {
                let id = self.named(name, *kind, titles, *gender, true);
                let full = &self.entities[id].name;
                let note = (full != name).then(|| full.clone());
                return (Some(id), note);
            }
            Mention::Pronoun(Pronoun::They) => return (None, Some("unnamed".into())),
            Mention::Pronoun(p) => {
                let wanted = match p {
                    Pronoun::He => Some(Gender::Male),
                    Pronoun::She => Some(Gender::Female),
                    _ => None,
                };
                let person = matches!(p, Pronoun::He | Pronoun::She);
                let fits = |e: &Entity| {
                    if person {
                        e.kind != Kind::Org && (e.gender.is_none() || e.gender == wanted)
                    } else {
                        e.kind != Kind::Person
                    }
                };
                let id = self
                    .most_recent(|e| e.spoke && fits(e))
                    .or_else(|| self.most_recent(|e| fits(e) && (e.kind == Kind::Person || e.kind == Kind::Org)));
                if let (Some(id), Some(gender)) = (id, wanted) {
                    let entity = &mut self.entities[id];
                    entity.gender.get_or_insert(gender);
                    entity.kind = Kind::Person;
                }
                id
            }
            Mention::Definite { head, person: true } => self
                .most_recent(|e| e.kind != Kind::Org && e.titles.contains(head))
                .or_else(|| self.most_recent(|e| e.spoke && e.kind == Kind::Person)),
            Mention::Definite { head, person: false } => self.most_recent(|e| {
                e.kind != Kind::Person && (name_words(&e.name).contains(head) || e.titles.contains(head))
            }),
            Mention::Unnamed { titles, person } => {
                if titles.is_empty() {
                    return (None, Some("unnamed".into()));
                }
                self.entities.push(Entity {
                    name: titles.join(" "),
                    named: false,
                    kind: if *person { Kind::Person } else { Kind::Org },
                    titles: titles.clone(),
                    gender: None,
                    last: self.clock,
                    spoke: *person,
                });
                let id = self.entities.len() - 1;
                self.touch(id);
                return (Some(id), Some("unnamed".into()));
            }
        };
        match found {
            Some(id) => {
                self.touch(id);
                let entity = &mut self.entities[id];
                entity.spoke = true;
                let note = if entity.named { entity.name.clone() } else { "unnamed".into() };
                (Some(id), Some(note))
            }
            None => (None, Some("unresolved".into())),
        }
    }
}

/// Remembers the people with titles ("Foreign Minister Sergei Lavrov arrived"), the
/// organisations and the full names a sentence mentions, so that later titles, pronouns and
/// surnames can refer to them. The earliest mention (usually the subject) counts as the most
/// recent.
fn register_mentions(toks: &[Tok<'_>], context: &mut Context) {
    let mut found: Vec<(Mention, Option<Mention>)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        // The cheap test first: most words are neither capitalised nor titles.
        let starts = word(toks, i).is_some_and(|w| (is_capitalised(w) || in_list(&TITLE_HEADS, w)) && np_word(w));
        if !starts {
            i += 1;
            continue;
        }
        let Some(np) = np_forward(toks, i) else {
            i += 1;
            continue;
        };
        let mut end = np.end.max(i + 1);
        let mut mention = classify(&np);
        // "Russian Ambassador to the US Anatoly Antonov".
        if let Some(title) = &mention {
            let preposition = word(toks, np.end).is_some_and(|p| PREPOSITIONS.contains(&lower(p).as_str()));
            if let Some(place) = np_forward(toks, np.end + 1).filter(|_| preposition) {
                if let Some(named) = title_place_name(title, &place) {
                    mention = Some(named);
                    end = place.end;
                }
            }
        }
        // "his Russian counterpart, Sergei Lavrov, in ...": the title goes with the name, when
        // the name ends at a comma or the end of the sentence.
        let apposed = if toks.get(end) == Some(&Tok::Punct(',')) {
            np_forward(toks, end + 1)
                .filter(|b| matches!(toks.get(b.end), None | Some(Tok::Punct(',' | '.' | ';' | ')'))))
                .and_then(|b| classify(&b))
        } else {
            None
        };
        if let Some(mention) = mention {
            found.push((mention, apposed));
        }
        i = end;
    }
    for (mention, apposed) in found.into_iter().rev() {
        match (mention, apposed) {
            (Mention::Unnamed { titles, person: true }, Some(Mention::Named { name, gender, titles: more, .. })) => {
                let all: Vec<String> = titles.into_iter().chain(more).collect();
                context.named(&name, Kind::Person, &all, gender, false);
            }
            (Mention::Named { name, kind, titles, gender }, _) => {
                let worth = !titles.is_empty() || kind == Kind::Org || (kind == Kind::Person && name.split_whitespace().count() >= 2);
                if worth {
                    context.named(&name, kind, &titles, gender, false);
                }
            }
            _ => {}
        }
    }
}

/// When sentence `index` is an attribution cut off its quote by the splitter (`"Why now?"` /
/// `he asked.`), the run of that quote.
fn fragment_of(article: &ScannedArticle<'_>, index: usize, found: &Local) -> Option<usize> {
    let previous = article.sentences.get(index.checked_sub(1)?)?;
    let sentence = &article.sentences[index];
    let fragment = previous.ends_with_question
        && !previous.ends_inside
        && sentence.runs.is_empty()
        && found.start == 0;
    if fragment {
        previous.runs.last().copied()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speakers(article: &str) -> Vec<(Option<String>, Mark)> {
        attribute_article(article).into_iter().map(|a| (a.speaker, a.mark)).collect()
    }

    fn some(name: &str) -> Option<String> {
        Some(name.to_string())
    }

    #[test]
    fn quote_with_attribution_after_it() {
        let article = "\u{201C}We are ready to talk at any time,\u{201D} Kremlin spokesman Dmitry Peskov told reporters.\nHe added that nothing had changed.";
        assert_eq!(
            speakers(article),
            vec![(some("Dmitry Peskov"), Mark::Quote), (some("Dmitry Peskov"), Mark::Reported)]
        );
        let attributions = attribute_article(article);
        assert_eq!(attributions[0].cue, "Kremlin spokesman Dmitry Peskov told");
        assert_eq!(attributions[1].cue, "He added -> Dmitry Peskov");
    }

    #[test]
    fn inverted_attribution_and_surname_resolution() {
        let article = "Ambassador Anatoly Antonov arrived on Monday.\n\"We proposed talks three times,\" said Antonov.";
        assert_eq!(speakers(article)[1], (some("Anatoly Antonov"), Mark::Quote));
    }

    #[test]
    fn said_inside_a_quote_is_not_an_attribution() {
        let article = "\"As I said last week, the talks are over,\" Lavrov noted.\n\"Nobody said it would be easy.\"";
        assert_eq!(speakers(article), vec![(some("Lavrov"), Mark::Quote), (some("Lavrov"), Mark::Quote)]);
        assert_eq!(attribute_article(article)[1].cue, "quote with no attribution, after sentence 1");
    }

    #[test]
    fn a_quote_split_by_the_splitter_takes_the_attribution_of_its_end() {
        let article = "\"This is important. We welcome it,\" Lavrov said.";
        assert_eq!(speakers(article), vec![(some("Lavrov"), Mark::Quote), (some("Lavrov"), Mark::Quote)]);
        let article = "Lavrov said: \u{201C}We are ready. We were always ready.\u{201D}";
        assert_eq!(speakers(article), vec![(some("Lavrov"), Mark::Quote), (some("Lavrov"), Mark::Quote)]);
    }

    #[test]
    fn a_quote_over_two_paragraphs_keeps_its_speaker() {
        let article = "\"We will not give in,\" Zakharova said, \"and we will not forget.\n\"Anyone who doubts it will see.\"";
        assert_eq!(speakers(article)[1], (some("Zakharova"), Mark::Quote));
    }

    #[test]
    fn according_to_names_the_source_or_nobody() {
        assert_eq!(speakers("According to Krutskikh, most attacks came from abroad.")[0], (some("Krutskikh"), Mark::Reported));
        assert_eq!(speakers("According to reports, the talks failed.")[0], (None, Mark::Reported));
        assert_eq!(speakers("The talks failed, according to the Foreign Ministry.")[0], (some("Foreign Ministry"), Mark::Reported));
    }

    #[test]
    fn a_definite_title_refers_back_to_an_unnamed_source_too() {
        let article = "Foreign Minister Sergei Lavrov spoke first.\nA U.S. official said the meeting was useful.\n\"We will see,\" the official said.\n\"It is a start,\" the minister said.";
        assert_eq!(
            speakers(article),
            vec![
                (None, Mark::Narration),
                (None, Mark::Reported),
                (None, Mark::Quote),
                (some("Sergei Lavrov"), Mark::Quote)
            ]
        );
    }

    #[test]
    fn passive_verbs_have_no_speaker_and_scare_quotes_are_not_quotes() {
        assert_eq!(speakers("Iceland was accused of overfishing.")[0], (None, Mark::Narration));
        assert_eq!(speakers("Blinken called the talks \"frank.\"")[0], (some("Blinken"), Mark::Reported));
    }

    #[test]
    fn she_skips_a_man_and_it_finds_an_organisation() {
        let article = "Ms. Maria Zakharova said the move was hostile.\nMr. Ivan Petrov said he agreed.\n\"Nothing will change,\" she said.\nThe Pentagon said it was watching.\nIt said more later.";
        let result = speakers(article);
        assert_eq!(result[2].0, some("Maria Zakharova"));
        assert_eq!(result[4].0, some("Pentagon"));
    }

    #[test]
    fn typographic_and_single_quotes_and_apostrophes() {
        let result = speakers("\u{00AB}Russia\u{2019}s position has not changed,\u{00BB} the ministry said.");
        assert_eq!(result[0].1, Mark::Quote);
        let result = speakers("'We will not be intimidated': Vilnius defies Minsk");
        assert_eq!(result[0], (some("Vilnius"), Mark::Quote));
        // An apostrophe opens no quote.
        assert_eq!(speakers("Russia's envoy met the ministers' aides.")[0], (None, Mark::Narration));
    }

    #[test]
    fn an_attribution_closing_the_sentence_wins_over_verbs_before_it() {
        let article = "Tokyo, Seoul warned of further delays in the fisheries talks, says Kremlin.\nOfficials accused the navy of delays, the ministry said.";
        let result = attribute_article(article);
        assert_eq!(result[0].speaker, some("Kremlin"));
        assert_eq!(result[1].cue, "the ministry said -> unresolved");
        // An "according to" in the middle is not the closing attribution.
        let article = "He noted that, according to the ministry, the talks could resume.";
        assert_eq!(attribute_article(article)[0].cue, "He noted -> unresolved");
    }

    #[test]
    fn a_title_with_a_place_before_the_name() {
        let article = "Relations can improve, Russian Ambassador to the United States Ivan Sorokin told reporters.\nThe diplomat, who arrived on Monday, confirmed the plan.";
        assert_eq!(
            speakers(article),
            vec![(some("Ivan Sorokin"), Mark::Reported), (some("Ivan Sorokin"), Mark::Reported)]
        );
    }

    #[test]
    fn two_names_can_speak_together_and_lowercase_modifiers_are_not_names() {
        assert_eq!(speakers("Oslo and Reykjavik have accused the fleet of overfishing.")[0].0, some("Oslo and Reykjavik"));
        assert_eq!(speakers("The cabinet met, the adviser on information security Pavel Orlov said.")[0].0, some("Pavel Orlov"));
        assert_eq!(speakers("The attacks began in May, according to a U.S. security company.")[0], (None, Mark::Reported));
    }

    #[test]
    fn a_nationality_is_not_a_source() {
        assert_eq!(speakers("According to Western intelligence agencies, the group is based abroad.")[0], (None, Mark::Reported));
        let article = "According to the diplomat, Moscow also hopes for progress.";
        assert_eq!(speakers(article)[0], (None, Mark::Reported));
    }

    #[test]
    fn names_may_hold_of_the_and_for_the() {
        let article = "Catches rose, according to the International Council for the Exploration of the Sea.";
        assert_eq!(speakers(article)[0].0, some("International Council for the Exploration of the Sea"));
    }

    #[test]
    fn narration_has_no_speaker_and_an_empty_cue() {
        assert_eq!(attribute_article("The summit took place in Geneva on June 16."), vec![Attribution::narration()]);
    }

    #[test]
    fn thousands_of_names_are_attributed_in_linear_time() {
        // Each paragraph names a new person; references only reach the recent ones, so this
        // took 51 s in a release build before the window and takes well under a second now.
        let name = |mut i: usize| {
            let mut s = String::from("Q");
            for _ in 0..6 {
                s.push((b'a' + (i % 26) as u8) as char);
                i /= 26;
            }
            s
        };
        let article: String = (0..20_000)
            .map(|i| format!("\"We will respond,\" Ivan {} said. He added that talks were over.\n", name(i)))
            .collect();
        let started = std::time::Instant::now();
        let result = attribute_article(&article);
        assert_eq!(result.len(), 40_000);
        assert_eq!(result[39_999].speaker.as_deref(), Some(format!("Ivan {}", name(19_999)).as_str()));
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    }

    #[test]
    fn speaker_names_normalize_for_comparison() {
        assert_eq!(normalize_speaker("The  Foreign Ministry"), "foreign ministry");
        assert_eq!(normalize_speaker("China\u{2019}s Foreign Ministry"), "china's foreign ministry");
    }
}
