//! End-to-end tests of article analysis (issue #6): speakers in every predict format, --summary,
//! directories and --files-from, the HTML report, and their bad inputs. All use the shipped
//! model; the articles are the attribution fixtures or written here.

use std::path::{Path, PathBuf};

mod common;

use common::{fails_with, stancekit, temporary_files};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

const KREMLIN: &str = "tests/fixtures/attribution/01-kremlin-talks.txt";
const ENVOY: &str = "tests/fixtures/attribution/05-british-envoy.txt";

fn stdout_of(args: &[&str]) -> String {
    let output = stancekit().args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(output).unwrap()
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    html.select(&Selector::parse(css).unwrap()).collect()
}

fn text_of(element: &ElementRef<'_>) -> String {
    element.text().collect()
}

#[test]
fn every_predict_format_carries_speaker_and_mark() {
    let records = jsonl(&stdout_of(&["predict", "--format", "jsonl", KREMLIN]));
    assert_eq!(records.len(), 11);
    // "We have never closed the door ...," Peskov told reporters ...
    assert_eq!(records[3]["speaker"], "Dmitry Peskov");
    assert_eq!(records[3]["mark"], "quote");
    assert_eq!(records[3]["speaker_cue"], "Peskov told -> Dmitry Peskov");
    // He added that Moscow was still waiting ...
    assert_eq!(records[4]["speaker"], "Dmitry Peskov");
    assert_eq!(records[4]["mark"], "reported");
    // The last round of consultations ended ...: narration, no speaker.
    assert_eq!(records[8]["speaker"], Value::Null);
    assert_eq!(records[8]["mark"], "narration");
    assert_eq!(records[8]["speaker_cue"], "");
    // The existing fields are still there.
    assert!(records[3]["stance"]["label"].is_string() && records[3]["sentiment"]["probabilities"].is_object());

    let csv = stdout_of(&["predict", "--format", "csv", KREMLIN]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..3], ["id", "text", "stance"]);
    assert_eq!(&header[header.len() - 3..], ["speaker", "mark", "speaker_cue"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 11);
    let speaker = header.iter().position(|h| h == "speaker").unwrap();
    assert_eq!(&rows[3][speaker], "Dmitry Peskov");
    assert_eq!(&rows[3][speaker + 1], "quote");
    assert_eq!(&rows[8][speaker], "");

    let table = stdout_of(&["predict", "--format", "table", KREMLIN]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 12);
    assert!(lines[0].contains("  mark ") && lines[0].contains("  speaker "), "{}", lines[0]);
    assert!(lines[4].contains("quote      Dmitry Peskov"), "{}", lines[4]);
    assert!(lines[9].contains("narration  -"), "{}", lines[9]);
}

#[test]
fn rows_of_a_table_are_attributed_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("rows.csv");
    std::fs::write(
        &table,
        "id,text\nr1,\"\"\"We will respond in kind,\"\" Lavrov said.\"\nr2,He added that talks were over.\nr3,The talks ended on Monday.\n",
    )
    .unwrap();
    let records = jsonl(&stdout_of(&["predict", "--format", "jsonl", table.to_str().unwrap()]));
    assert_eq!(records[0]["speaker"], "Lavrov");
    assert_eq!(records[0]["mark"], "quote");
    // A pronoun in a row on its own refers to nothing.
    assert_eq!(records[1]["speaker"], Value::Null);
    assert_eq!(records[1]["mark"], "reported");
    assert_eq!(records[2]["mark"], "narration");
}

#[test]
fn summary_json_agrees_with_the_sentence_predictions() {
    let sentences = jsonl(&stdout_of(&["predict", "--format", "jsonl", ENVOY]));
    let summaries = jsonl(&stdout_of(&["predict", "--summary", "--format", "jsonl", ENVOY, KREMLIN]));
    assert_eq!(summaries.len(), 2);
    let summary = &summaries[0];
    assert_eq!(summary["article"], ENVOY);
    assert_eq!(summary["sentences"], sentences.len());
    assert_eq!(summaries[1]["article"], KREMLIN);
    // Counts and shares of every head match the sentences.
    for head in ["stance", "sentiment"] {
        let counts = summary["labels"][head]["counts"].as_object().unwrap();
        for (class, count) in counts {
            let expected = sentences.iter().filter(|s| s[head]["label"] == class.as_str()).count();
            assert_eq!(count.as_u64().unwrap() as usize, expected, "{head} {class}");
            let share = summary["labels"][head]["shares"][class].as_f64().unwrap();
            assert!((share - expected as f64 / sentences.len() as f64).abs() < 1e-6);
        }
    }
    let marks = &summary["marks"];
    for mark in ["quote", "reported", "narration"] {
        let expected = sentences.iter().filter(|s| s["mark"] == mark).count();
        assert_eq!(marks[mark].as_u64().unwrap() as usize, expected, "{mark}");
    }
    // Speakers: sentence counts and dominant stance, most sentences first.
    assert_eq!(summary["by"], "stance");
    let speakers = summary["speakers"].as_array().unwrap();
    assert_eq!(speakers[0]["speaker"], "Maria Zakharova");
    let hers: Vec<&Value> = sentences.iter().filter(|s| s["speaker"] == "Maria Zakharova").collect();
    assert_eq!(speakers[0]["sentences"].as_u64().unwrap() as usize, hers.len());
    let dominant = speakers[0]["dominant"].as_str().unwrap();
    let dominant_count = hers.iter().filter(|s| s["stance"]["label"] == dominant).count();
    assert_eq!(speakers[0]["dominant_sentences"].as_u64().unwrap() as usize, dominant_count);
    for class in ["accusatory", "conciliatory", "conditional", "neutral"] {
        assert!(hers.iter().filter(|s| s["stance"]["label"] == class).count() <= dominant_count);
    }
    let counts: Vec<u64> = speakers.iter().map(|s| s["sentences"].as_u64().unwrap()).collect();
    let named: Vec<u64> = speakers.iter().filter(|s| !s["speaker"].is_null()).map(|s| s["sentences"].as_u64().unwrap()).collect();
    assert!(named.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    // Examples: at most three per stance, of that stance, most probable first, and the most
    // probable of all sentences with that label.
    for (class, examples) in summary["examples"].as_object().unwrap() {
        let examples = examples.as_array().unwrap();
        let mut labeled: Vec<f64> = sentences
            .iter()
            .filter(|s| s["stance"]["label"] == class.as_str())
            .map(|s| s["stance"]["probabilities"][class].as_f64().unwrap())
            .collect();
        labeled.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(examples.len(), labeled.len().min(3), "{class}");
        for (example, best) in examples.iter().zip(&labeled) {
            assert!((example["probability"].as_f64().unwrap() - best).abs() < 1e-6);
            let n = example["sentence"].as_u64().unwrap() as usize;
            assert_eq!(sentences[n - 1]["text"], example["text"]);
            assert_eq!(sentences[n - 1]["stance"]["label"], class.as_str());
        }
    }
}

#[test]
fn summary_table_is_the_default_and_csv_is_refused() {
    let table = stdout_of(&["predict", "--summary", ENVOY, KREMLIN]);
    assert!(table.starts_with(&format!("== {ENVOY}: 13 sentences (")), "{table}");
    assert!(table.contains(&format!("\n\n== {KREMLIN}: 11 sentences (")), "{table}");
    assert!(table.contains("\nstance     accusatory "), "{table}");
    assert!(table.contains("\nspeaker "), "{table}");
    assert!(table.contains("Maria Zakharova "), "{table}");
    assert!(table.contains("most confident sentences per stance"), "{table}");
    fails_with(&["predict", "--summary", "--format", "csv", ENVOY], &["--summary", "not CSV"]);
    fails_with(&["predict", "--summary", "--explain", ENVOY], &["--explain"]);
}

/// A directory of three articles whose names sort differently as text and as numbers.
fn article_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let articles = dir.path().join("articles");
    std::fs::create_dir(&articles).unwrap();
    std::fs::write(articles.join("b.txt"), "Beta talks ended. \"We are ready,\" the envoy said.\n").unwrap();
    std::fs::write(articles.join("a.txt"), "Alpha ministers met in Rome.\n").unwrap();
    std::fs::write(articles.join("10.txt"), "Ten delegations arrived. Lavrov said talks would go on.\n").unwrap();
    std::fs::write(articles.join("notes.csv"), "text\nnot an article\n").unwrap();
    (dir, articles)
}

#[test]
fn a_directory_gives_its_articles_in_name_order_for_any_number_of_jobs() {
    let (_dir, articles) = article_dir();
    let run = |jobs: &str| stdout_of(&["predict", "--format", "jsonl", "--jobs", jobs, articles.to_str().unwrap()]);
    let one = run("1");
    let ids: Vec<String> = jsonl(&one)
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap();
            Path::new(id).file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    assert_eq!(ids, ["10.txt:1", "10.txt:2", "a.txt:1", "b.txt:1", "b.txt:2"]);
    assert_eq!(one, run("2"));
    // Many copies, to exercise batches across threads: still in order.
    let many = tempfile::tempdir().unwrap();
    for i in 0..60 {
        std::fs::write(many.path().join(format!("{i:03}.txt")), format!("Article {i} begins. It ends here.\n")).unwrap();
    }
    let output = stdout_of(&["predict", "--format", "jsonl", "--jobs", "2", many.path().to_str().unwrap()]);
    let texts: Vec<String> = jsonl(&output).iter().map(|r| r["text"].as_str().unwrap().to_string()).collect();
    let expected: Vec<String> = (0..60).flat_map(|i| [format!("Article {i} begins."), "It ends here.".to_string()]).collect();
    assert_eq!(texts, expected);
}

#[test]
fn files_from_keeps_the_list_order_and_names_the_line_of_a_missing_file() {
    let (dir, articles) = article_dir();
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!("# my articles\n{}\n\n{}\n", articles.join("b.txt").display(), articles.join("a.txt").display()),
    )
    .unwrap();
    let output = stdout_of(&["predict", "--format", "jsonl", "--files-from", list.to_str().unwrap(), KREMLIN]);
    let files: Vec<String> = jsonl(&output)
        .iter()
        .map(|r| r["id"].as_str().unwrap().rsplit_once(':').unwrap().0.to_string())
        .collect();
    let mut distinct = files.clone();
    distinct.dedup();
    assert_eq!(
        distinct,
        [KREMLIN.to_string(), articles.join("b.txt").display().to_string(), articles.join("a.txt").display().to_string()]
    );
    std::fs::write(&list, format!("{}\n{}/gone.txt\n", articles.join("b.txt").display(), articles.display())).unwrap();
    fails_with(
        &["predict", "--files-from", list.to_str().unwrap()],
        &["list.txt line 2", "gone.txt: does not exist"],
    );
}

#[test]
fn bad_article_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails_with(&["predict", empty.to_str().unwrap()], &["empty", "no .txt files"]);
    fails_with(&["predict", "--summary", "no-such-dir/article.txt"], &["no-such-dir/article.txt", "does not exist"]);
    let list = dir.path().join("list");
    std::fs::write(&list, "\n# nothing\n").unwrap();
    fails_with(&["predict", "--files-from", list.to_str().unwrap()], &["list", "lists no files"]);
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"Fine first line.\nA caf\xe9 second.\n").unwrap();
    fails_with(&["predict", KREMLIN, latin1.to_str().unwrap()], &["latin1.txt line 2", "UTF-8"]);
    let out = dir.path().join("r.html");
    fails_with(&["report", "-o", out.to_str().unwrap(), latin1.to_str().unwrap()], &["latin1.txt line 2"]);
    assert!(!out.exists(), "no report is written by a failed run");
}

/// Writes a report of `inputs` and parses it.
fn report_of(inputs: &[&str], out: &Path) -> (String, Html) {
    let stdout = stdout_of(&[&["report", "-o", out.to_str().unwrap()], inputs].concat());
    assert!(stdout.starts_with(&format!("wrote {}", out.display())), "{stdout}");
    let page = std::fs::read_to_string(out).unwrap();
    let html = Html::parse_document(&page);
    (page, html)
}

#[test]
fn report_escapes_article_text_and_shows_every_sentence_once() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("hostile.txt");
    std::fs::write(
        &hostile,
        "Officials <b>denied</b> it & more.\n\"<script>alert(1)</script> is not a policy,\" the minister said. A <img src=x onerror=alert(2)> tag.\n</p></span></article><!-- closing tags -->\n",
    )
    .unwrap();
    let out = dir.path().join("report.html");
    let (page, html) = report_of(&[hostile.to_str().unwrap(), KREMLIN], &out);
    assert!(html.errors.is_empty(), "the page parses without errors: {:?}", html.errors);
    // Nothing from the article became markup.
    assert!(select(&html, "script").is_empty(), "no script element");
    assert!(select(&html, "img").is_empty() && select(&html, "b").iter().all(|b| !text_of(b).contains("denied")));
    assert!(!page.contains("<script>alert(1)</script>") && page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Every sentence once, in order, as text.
    let expected: Vec<String> = jsonl(&stdout_of(&["predict", "--format", "jsonl", hostile.to_str().unwrap(), KREMLIN]))
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    let shown: Vec<String> = select(&html, ".s > .t").iter().map(text_of).collect();
    assert_eq!(shown, expected);
    assert!(shown.contains(&"\"<script>alert(1)</script> is not a policy,\" the minister said.".to_string()));
    for sentence in &expected {
        let occurrences = select(&html, "main").iter().map(text_of).collect::<String>().matches(sentence.as_str()).count();
        assert_eq!(occurrences, 1, "{sentence}");
    }
}

#[test]
fn report_has_the_structure_a_reader_needs_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let (page, html) = report_of(&[ENVOY, KREMLIN], &out);
    assert!(html.errors.is_empty(), "{:?}", html.errors);
    assert_eq!(select(&html, "title").iter().map(text_of).collect::<String>(), "stancekit report");
    // Legend with every stance, model name and version.
    let legend = select(&html, ".legend").iter().map(text_of).collect::<String>();
    for class in ["accusatory", "conciliatory", "conditional", "neutral", "negative", "positive"] {
        assert!(legend.contains(class), "{legend}");
    }
    let meta = select(&html, ".meta").iter().map(text_of).collect::<String>();
    assert!(meta.contains("<shipped model stancekit-news>") && meta.contains(&format!("stancekit {}", env!("CARGO_PKG_VERSION"))), "{meta}");
    // One article per input, in order, each with a chart, a speaker table and its sentences.
    let articles = select(&html, "main > article");
    assert_eq!(articles.len(), 2);
    let sentence = Selector::parse(".s").unwrap();
    for (article, (name, count)) in articles.iter().zip([(ENVOY, 13), (KREMLIN, 11)]) {
        let heading: String = article.select(&Selector::parse("h2").unwrap()).map(|h| text_of(&h)).collect();
        assert_eq!(heading, name);
        assert_eq!(article.select(&Selector::parse("figure svg rect").unwrap()).count(), 8, "two rects per stance");
        assert!(article.select(&Selector::parse("table.speakers td").unwrap()).any(|td| !text_of(&td).is_empty()));
        let sentences: Vec<ElementRef<'_>> = article.select(&sentence).collect();
        assert_eq!(sentences.len(), count);
        for s in &sentences {
            // The tooltip stays inside its sentence (a block element there would have been
            // moved out by the parser) and holds every class's probability.
            let tips: Vec<ElementRef<'_>> = s.select(&Selector::parse(".tip").unwrap()).collect();
            assert_eq!(tips.len(), 1);
            let rows = tips[0].select(&Selector::parse(".r").unwrap()).count();
            assert_eq!(rows, 4 + 3);
            assert!(text_of(&tips[0]).contains("why "), "terms are shown");
            let class = s.value().attr("class").unwrap();
            assert!(["st-accusatory", "st-conciliatory", "st-conditional", "st-neutral"].iter().any(|c| class.contains(c)), "{class}");
        }
    }
    let speakers: String = select(&html, "#article-1 table.speakers").iter().map(text_of).collect();
    assert!(speakers.contains("Maria Zakharova"), "{speakers}");
    // Self-contained: no external script, style sheet, image or font.
    assert!(select(&html, "script[src], link, img, iframe, object, embed").is_empty());
    let without_svg_namespace = page.replace("http://www.w3.org/2000/svg", "");
    assert!(!without_svg_namespace.contains("http://") && !without_svg_namespace.contains("https://") && !page.contains("url("));
}

#[test]
fn report_refuses_bad_outputs_and_keeps_an_earlier_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    std::fs::write(&out, "the earlier report\n").unwrap();
    let out_arg = out.to_str().unwrap();
    // A missing input, a bad list line: the earlier report stays as it was.
    fails_with(&["report", "-o", out_arg, KREMLIN, "missing.txt"], &["missing.txt", "does not exist"]);
    fails_with(&["report", "-o", out_arg, out_arg], &["report.html", "is also an input"]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the earlier report\n");
    // Outputs that cannot be written.
    fails_with(&["report", "-o", "/nonexistent-dir/report.html", KREMLIN], &["/nonexistent-dir/report.html"]);
    fails_with(&["report", "-o", dir.path().to_str().unwrap(), KREMLIN], &["is a directory"]);
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    fails_with(&["report", "-o", file.join("report.html").to_str().unwrap(), KREMLIN], &["plain-file/report.html"]);
    // A successful run replaces it whole, leaving no temporary file.
    report_of(&[KREMLIN], &out);
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("<!DOCTYPE html>"));
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
}

#[test]
fn a_directory_report_and_stdin() {
    let (_dir, articles) = article_dir();
    let out = articles.parent().unwrap().join("dir.html");
    let (_, html) = report_of(&[articles.to_str().unwrap()], &out);
    let names: Vec<String> = select(&html, "main > article h2").iter().map(text_of).collect();
    let files: Vec<String> = names.iter().map(|n| Path::new(n).file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(files, ["10.txt", "a.txt", "b.txt"]);
    // Several articles get a table of contents linking to each.
    assert_eq!(select(&html, "nav a").len(), 3);
    let output = stancekit()
        .args(["report", "-o", out.to_str().unwrap(), "-"])
        .write_stdin("Piped article. \"It works,\" Lavrov said.")
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&output.get_output().stdout).contains("1 articles, 2 sentences"));
}
