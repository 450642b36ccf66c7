//! Uses stancekit as a library: train a small model in memory, then label two sentences.
//!
//! Run with `cargo run --example library`.

use stancekit::data::{read_records, Columns, InputFormat};
use stancekit::model::{Model, TrainSettings, TrainingData};

fn main() -> stancekit::Result<()> {
    let path = std::path::Path::new("tests/fixtures/small.csv");
    let heads = vec!["stance".to_string(), "sentiment".to_string()];
    let columns = Columns {
        text: "text".into(),
        id: "id".into(),
        labels: heads.clone(),
    };
    let records = read_records(path, InputFormat::Csv, &columns)?;
    let data = TrainingData::from_records(records, &heads, "small.csv", "", "text");
    let mut settings = TrainSettings::default();
    settings.tfidf.min_df = 1;
    let model = Model::train(&data, &settings, &mut |_| {})?;

    let sentences = [
        "We are ready to talk if they withdraw their troops.",
        "The ministry accused the embassy of spying.",
    ];
    for (sentence, predictions) in sentences.iter().zip(model.predict(&sentences)) {
        let labels: Vec<String> = model
            .heads()
            .iter()
            .zip(&predictions)
            .map(|(head, p)| format!("{}={} ({:.2})", head.name, head.classes()[p.label], p.probabilities[p.label]))
            .collect();
        println!("{sentence}\n    {}", labels.join(", "));
    }
    Ok(())
}
