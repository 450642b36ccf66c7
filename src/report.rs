//! The HTML report: one self-contained page (inline CSS, no script, no network) with every
//! article's sentences coloured by stance, their probabilities and deciding terms on hover, a
//! per-speaker table and a chart of stance shares. Built with maud, which escapes every value it
//! interpolates, so article text can never become markup.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::model::Model;
use crate::predict::LabeledSentence;
use crate::speakers::Mark;
use crate::summary::Summary;

/// One article of the report.
pub struct ReportArticle {
    /// The name shown (the input's path).
    pub name: String,
    pub sentences: Vec<LabeledSentence>,
    pub summary: Summary,
}

/// Colours of the stance classes the shipped model knows; other classes take the palette.
const KNOWN_COLOURS: &[(&str, &str, &str)] = &[
    // class, background, strong
    ("accusatory", "#fbd5d0", "#c0392b"),
    ("conciliatory", "#d3efd6", "#2e7d32"),
    ("conditional", "#fdeab5", "#b7791f"),
    ("neutral", "#eceff1", "#78909c"),
];

const PALETTE: &[(&str, &str)] = &[
    ("#d6e4fb", "#1e5bb8"),
    ("#ead9f7", "#7b3fa8"),
    ("#d3f1f1", "#16807f"),
    ("#f7dcea", "#a8326b"),
    ("#e9e4d4", "#7a6a3a"),
];

/// The background and strong colour of class number `index` named `class`.
fn colours(class: &str, index: usize) -> (&'static str, &'static str) {
    KNOWN_COLOURS
        .iter()
        .find(|(name, _, _)| *name == class)
        .map(|&(_, background, strong)| (background, strong))
        .unwrap_or(PALETTE[index % PALETTE.len()])
}

/// A class name made safe for a CSS class: lowercase letters, digits and dashes.
fn css_name(class: &str) -> String {
    class
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect()
}

/// The sign shown for a sentiment-like label.
fn glyph(label: &str) -> &'static str {
    match label {
        "positive" => "+",
        "negative" => "\u{2212}",
        "neutral" => "=",
        _ => "\u{25CF}",
    }
}

fn percent(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * count as f64 / total as f64
    }
}

/// The page's style sheet: fixed rules plus one colour rule per class of the primary head.
fn style(model: &Model, primary: usize) -> String {
    let mut css = String::from(BASE_CSS);
    if let Some(head) = model.heads().get(primary) {
        for (index, class) in head.classes().iter().enumerate() {
            let (background, strong) = colours(class, index);
            let name = css_name(class);
            css.push_str(&format!(
                ".st-{name}{{background:{background};box-shadow:inset 0 -2px 0 {strong};}}\n.sw-{name}{{background:{strong};}}\n"
            ));
        }
    }
    css
}

const BASE_CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.6 Georgia,"Times New Roman",serif;color:#1d232a;background:#fafaf7}
header,main,nav,footer{max-width:980px;margin:0 auto;padding:0 24px}
header{padding-top:24px}
h1{font:600 26px/1.2 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 0 6px}
h2{font:600 20px/1.3 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 0 4px;word-break:break-all}
h3{font:600 13px/1.3 system-ui,sans-serif;text-transform:uppercase;letter-spacing:.05em;color:#56606b;margin:0 0 6px}
.meta,.counts,.legend,table,nav,footer,.tip,figure{font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
.meta{color:#56606b;font-size:13px;margin:0 0 12px}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:13px;color:#333;background:#fff;border:1px solid #e2e4e8;border-radius:6px;padding:10px 14px;margin-bottom:16px}
.legend .group{display:flex;gap:6px 12px;align-items:center;flex-wrap:wrap}
.legend b{font-weight:600;margin-right:2px}
.chip{display:inline-block;padding:0 6px;border-radius:3px}
.dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
nav{margin-bottom:8px}
nav table{width:100%;border-collapse:collapse;font-size:13px}
nav td{padding:3px 6px;border-bottom:1px solid #eceef1;vertical-align:middle}
nav td.name{word-break:break-all}
nav a{color:#1e5bb8;text-decoration:none}
.stack{display:flex;height:10px;width:220px;border-radius:2px;overflow:hidden;background:#eceff1}
.stack span{display:block;height:100%}
article{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:18px 22px;margin:18px 0}
.counts{color:#56606b;font-size:13px;margin:0 0 12px}
.overview{display:flex;flex-wrap:wrap;gap:18px 32px;align-items:flex-start;margin-bottom:14px;padding-bottom:12px;border-bottom:1px solid #eceef1}
figure{margin:0}
table.speakers{border-collapse:collapse;font-size:13px}
table.speakers th{text-align:left;font-weight:600;color:#56606b;padding:2px 10px 4px 0;border-bottom:1px solid #e2e4e8}
table.speakers td{padding:3px 10px 3px 0;border-bottom:1px solid #f0f1f3;vertical-align:middle}
table.speakers td.n{text-align:right}
.unnamed{color:#78909c;font-style:italic}
.text p{margin:0 0 .8em}
.s{position:relative;border-radius:3px;padding:1px 2px;cursor:default;outline:none}
.s:hover,.s:focus{filter:brightness(.93)}
.q .t{font-style:italic}
.sent{display:inline-block;font:700 11px/13px system-ui,sans-serif;width:13px;height:13px;text-align:center;border-radius:7px;color:#fff;background:#90a4ae;vertical-align:2px;margin-left:3px;font-style:normal}
.sent-positive{background:#2e7d32}.sent-negative{background:#c0392b}.sent-neutral{background:#b0bec5}
.who{font:500 11px/1 system-ui,sans-serif;color:#56606b;vertical-align:super;margin-right:2px}
.tip{display:none;position:absolute;left:0;top:100%;z-index:10;width:340px;max-width:90vw;margin-top:4px;background:#fff;color:#1d232a;border:1px solid #c9ced6;border-radius:6px;box-shadow:0 4px 16px rgba(0,0,0,.15);padding:8px 10px;font-size:12px;line-height:1.45;font-style:normal;white-space:normal}
.s:hover>.tip,.s:focus>.tip{display:block}
.tip .l{display:block}
.tip .r{display:flex;align-items:center;gap:6px}
.tip .r u{width:88px;text-decoration:none}
.tip .r::after{content:"";order:1;flex:1;height:7px;border-radius:2px;background:linear-gradient(90deg,#90a4ae var(--p),#eef0f2 0)}
.tip .r i{order:2;width:34px;text-align:right;font-style:normal;font-variant-numeric:tabular-nums}
.tip .k{font-weight:600}
.tip .k::after{background:linear-gradient(90deg,#37414b var(--p),#eef0f2 0)}
.tip .w{color:#37414b;margin-top:2px}
.tip .h{font-weight:600;text-transform:uppercase;font-size:10px;letter-spacing:.05em;color:#56606b;margin-top:6px}
footer{color:#78909c;font-size:12px;padding-bottom:32px}
"#;

/// Renders the whole page.
pub fn render(model: &Model, model_name: &str, title: &str, articles: &[ReportArticle]) -> String {
    let primary = crate::summary::primary_head(model);
    let sentences: usize = articles.iter().map(|a| a.sentences.len()).sum();
    let training = model.training();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(format!("stancekit {}", env!("CARGO_PKG_VERSION")));
                title { (title) }
                style { (PreEscaped(style(model, primary))) }
            }
            body {
                header {
                    h1 { (title) }
                    p.meta {
                        (articles.len()) " article" @if articles.len() != 1 { "s" } ", " (sentences) " sentences. "
                        "Model " b { (model_name) } " (model format " (model.format_version()) ", written by stancekit "
                        (model.crate_version()) ", trained on " (training.data_file) " with " (training.rows) " rows, sha256 "
                        (training.data_sha256.get(..12).unwrap_or(&training.data_sha256)) "…). Report by stancekit "
                        (env!("CARGO_PKG_VERSION")) "."
                    }
                    (legend(model, primary))
                }
                @if articles.len() > 1 {
                    nav { (contents(model, primary, articles)) }
                }
                main {
                    @for (index, article) in articles.iter().enumerate() {
                        (render_article(model, primary, index, article))
                    }
                }
                footer {
                    "Labels are predictions of a statistical model and can be wrong; the speakers come from rules over quotation marks and speech verbs (see the stancekit README). "
                    "This page is self-contained: it loads nothing from the network."
                }
            }
        }
    };
    markup.into_string()
}

fn legend(model: &Model, primary: usize) -> Markup {
    let heads = model.heads();
    html! {
        div.legend role="note" {
            @if let Some(head) = heads.get(primary) {
                div.group {
                    b { (head.name) }
                    @for class in head.classes() {
                        span class={ "chip st-" (css_name(class)) } { (class) }
                    }
                }
            }
            @for (index, head) in heads.iter().enumerate() {
                @if index != primary {
                    div.group {
                        b { (head.name) }
                        @for class in head.classes() {
                            @if class == "neutral" {
                                span { "no mark: neutral" }
                            } @else {
                                span { span class={ "sent sent-" (css_name(class)) } { (glyph(class)) } " " (class) }
                            }
                        }
                    }
                }
            }
            div.group {
                b { "speech" }
                span.q { span.t { "italic" } } " quote"
                span { sup.who { "Name" } " speaker (shown where it changes)" }
            }
            div.group { "Hover over or tab to a sentence for its probabilities, the terms behind its labels and how its speaker was found." }
        }
    }
}

/// The stance shares of an article as a stacked bar.
fn stack(model: &Model, primary: usize, summary: &Summary) -> Markup {
    let Some(head) = model.heads().get(primary) else { return html! {} };
    let counts = &summary.counts[primary];
    html! {
        div.stack role="img" aria-label=(shares_text(head.classes(), counts, summary.sentences)) {
            @for (class, &count) in head.classes().iter().zip(counts) {
                @if count > 0 {
                    span class={ "sw-" (css_name(class)) } style=(format!("width:{:.2}%", percent(count, summary.sentences))) title=(format!("{class} {count}")) {}
                }
            }
        }
    }
}

fn shares_text(classes: &[String], counts: &[usize], total: usize) -> String {
    classes
        .iter()
        .zip(counts)
        .map(|(c, &n)| format!("{c} {n} ({:.0}%)", percent(n, total)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn contents(model: &Model, primary: usize, articles: &[ReportArticle]) -> Markup {
    html! {
        h3 { "Articles" }
        table {
            @for (index, article) in articles.iter().enumerate() {
                tr {
                    td.name { a href={ "#article-" (index + 1) } { (article.name) } }
                    td { (article.sentences.len()) " sentences" }
                    td { (stack(model, primary, &article.summary)) }
                }
            }
        }
    }
}

/// A bar chart of the stance shares, as inline SVG.
fn chart(model: &Model, primary: usize, summary: &Summary) -> Markup {
    let Some(head) = model.heads().get(primary) else { return html! {} };
    let classes = head.classes();
    let counts = &summary.counts[primary];
    let (label_width, bar_width, row) = (96.0, 170.0, 20.0);
    let height = row * classes.len() as f64 + 4.0;
    html! {
        figure {
            h3 { (head.name) " shares" }
            svg xmlns="http://www.w3.org/2000/svg" width=(label_width + bar_width + 90.0) height=(height)
                role="img" aria-label=(shares_text(classes, counts, summary.sentences)) {
                @for (index, (class, &count)) in classes.iter().zip(counts).enumerate() {
                    @let y = row * index as f64 + 2.0;
                    @let share = percent(count, summary.sentences);
                    text x=(label_width - 6.0) y=(y + 13.0) text-anchor="end" font-size="12" fill="#37414b" { (class) }
                    rect x=(label_width) y=(y + 2.0) width=(bar_width) height="13" fill="#eef0f2" rx="2" {}
                    rect class={ "sw-" (css_name(class)) } x=(label_width) y=(y + 2.0)
                        width=(format!("{:.2}", bar_width * share / 100.0)) height="13" rx="2"
                        fill=(colours(class, index).1) {}
                    text x=(label_width + bar_width + 6.0) y=(y + 13.0) font-size="12" fill="#37414b" {
                        (format!("{share:.0}% ({count})"))
                    }
                }
            }
        }
    }
}

fn speaker_table(model: &Model, primary: usize, summary: &Summary) -> Markup {
    let Some(head) = model.heads().get(primary) else { return html! {} };
    let classes = head.classes();
    html! {
        div {
            h3 { "Speakers" }
            @if summary.speakers.is_empty() {
                p.counts { "No quotes or reported speech found." }
            } @else {
                table.speakers {
                    thead { tr { th { "speaker" } th { "sentences" } th { "dominant " (head.name) } th { (head.name) " mix" } } }
                    tbody {
                        @for speaker in &summary.speakers {
                            tr {
                                td {
                                    @match &speaker.speaker {
                                        Some(name) => { (name) },
                                        None => { span.unnamed { "unnamed sources" } },
                                    }
                                }
                                td.n { (speaker.sentences) }
                                td {
                                    span class={ "chip st-" (css_name(&classes[speaker.dominant])) } { (classes[speaker.dominant]) }
                                    " " (speaker.counts[speaker.dominant]) "/" (speaker.sentences)
                                }
                                td {
                                    div.stack style="width:120px" {
                                        @for (class, &count) in classes.iter().zip(&speaker.counts) {
                                            @if count > 0 {
                                                span class={ "sw-" (css_name(class)) } style=(format!("width:{:.2}%", percent(count, speaker.sentences))) title=(format!("{class} {count}")) {}
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn render_article(model: &Model, primary: usize, index: usize, article: &ReportArticle) -> Markup {
    let summary = &article.summary;
    let heads = model.heads();
    // Paragraphs: consecutive sentences from the same line.
    let mut paragraphs: Vec<(usize, &[LabeledSentence])> = Vec::new();
    let mut start = 0;
    for i in 1..=article.sentences.len() {
        if i == article.sentences.len() || article.sentences[i].record.line != article.sentences[start].record.line {
            if i > start {
                paragraphs.push((start, &article.sentences[start..i]));
            }
            start = i;
        }
    }
    html! {
        article id={ "article-" (index + 1) } {
            h2 { (article.name) }
            p.counts {
                (summary.sentences) " sentences: " (summary.marks[0]) " quote, " (summary.marks[1]) " reported, "
                (summary.marks[2]) " narration. "
                @for (head, counts) in heads.iter().zip(&summary.counts) {
                    @if !std::ptr::eq(head, &heads[primary]) {
                        (head.name) ": " (shares_text(head.classes(), counts, summary.sentences)) ". "
                    }
                }
            }
            @if !article.sentences.is_empty() {
                div.overview {
                    (chart(model, primary, summary))
                    (speaker_table(model, primary, summary))
                }
            }
            div.text {
                @if article.sentences.is_empty() {
                    p.counts { "This input has no sentences." }
                }
                @for (first, paragraph) in &paragraphs {
                    p {
                        @for (n, sentence) in paragraph.iter().enumerate() {
                            @if n > 0 { " " }
                            // The speaker's name where it changes; the tooltip always has it.
                            @let same = n > 0 && paragraph[n - 1].attribution.speaker == sentence.attribution.speaker;
                            (render_sentence(model, primary, (&article.name, first + n), sentence, !same))
                        }
                    }
                }
            }
        }
    }
}

/// How the tooltip names a sentence: "sentence N" for an article's own numbering, else its id.
fn sentence_label(article_name: &str, index: usize, id: &str) -> String {
    let own = id.strip_prefix(article_name).and_then(|rest| rest.strip_prefix(':')) == Some((index + 1).to_string().as_str());
    if own {
        format!("sentence {}", index + 1)
    } else {
        id.to_string()
    }
}

fn render_sentence(
    model: &Model,
    primary: usize,
    (article_name, index): (&str, usize),
    sentence: &LabeledSentence,
    show_speaker: bool,
) -> Markup {
    let heads = model.heads();
    let stance = sentence
        .predictions
        .get(primary)
        .map(|p| heads[primary].classes()[p.label].as_str())
        .unwrap_or("");
    let attribution = &sentence.attribution;
    let mut class = format!("s st-{}", css_name(stance));
    if attribution.mark == Mark::Quote {
        class.push_str(" q");
    }
    html! {
        span class=(class) tabindex="0" {
            @if let (Some(speaker), true) = (&attribution.speaker, show_speaker) {
                sup.who { (speaker) }
            }
            span.t { (sentence.record.text) }
            @for (index, (head, prediction)) in heads.iter().zip(&sentence.predictions).enumerate() {
                @let label = &head.classes()[prediction.label];
                // A neutral tone is left unmarked (the legend says so); the tooltip shows it.
                @if index != primary && label != "neutral" {
                    span class={ "sent sent-" (css_name(label)) } title=(format!("{}: {label}", head.name)) { (glyph(label)) }
                }
            }
            // Phrasing content only: a table or div here would close the paragraph in an HTML
            // parser and spill the tooltip into the text.
            span.tip role="tooltip" {
                span.l { b { (sentence_label(article_name, index, &sentence.record.id)) } " \u{2014} " (attribution.mark.as_str())
                    @if let Some(speaker) = &attribution.speaker { ", speaker " b { (speaker) } } }
                @if !attribution.cue.is_empty() { span.l.w { "speaker cue: " (attribution.cue) } }
                @for (head, prediction) in heads.iter().zip(&sentence.predictions) {
                    span.l.h { (head.name) }
                    @for (class_index, (class, &p)) in head.classes().iter().zip(&prediction.probabilities).enumerate() {
                        span class=(if class_index == prediction.label { "r k" } else { "r" }) style=(format!("--p:{:.0}%", 100.0 * p)) {
                            u { (class) } i { (format!("{p:.2}")) }
                        }
                    }
                    @if !prediction.terms.is_empty() {
                        span.l.w {
                            "why " (head.classes()[prediction.label]) ": "
                            @for (n, (term, contribution)) in prediction.terms.iter().enumerate() {
                                @if n > 0 { "; " }
                                (term) " (" (format!("{contribution:+.2}")) ")"
                            }
                        }
                    }
                }
            }
        }
    }
}
