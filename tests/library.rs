//! The library without the CLI: training in memory, saving, loading and predicting.

use stancekit::data::{read_records, Columns, InputFormat};
use stancekit::model::{Model, TrainSettings, TrainingData};

fn fixture_model() -> Model {
    let heads = vec!["stance".to_string(), "sentiment".to_string()];
    let columns = Columns {
        text: "text".into(),
        id: "id".into(),
        labels: heads.clone(),
    };
    let records = read_records(std::path::Path::new("tests/fixtures/small.csv"), InputFormat::Csv, &columns).unwrap();
    let data = TrainingData::from_records(records, &heads, "small.csv", "0", "text");
    let mut settings = TrainSettings::default();
    settings.tfidf.min_df = 1;
    settings.classifier.alpha = 0.1;
    Model::train(&data, &settings, &mut |_| {}).unwrap()
}

#[test]
fn a_saved_and_loaded_model_predicts_exactly_the_same() {
    let model = fixture_model();
    let sentences = [
        "We will respond in kind if they expel our diplomats.",
        "The spokesman accused the ministry of lying.",
        "Both sides agreed to continue the talks.",
        "Completely unseen words zebra quantum.",
    ];
    let before = model.predict(&sentences);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    model.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    assert_eq!(loaded.predict(&sentences), before);
    assert_eq!(loaded.to_json(), model.to_json());
}

#[test]
fn the_fixture_model_learns_its_training_data() {
    let model = fixture_model();
    let stance = model.head("stance").unwrap();
    assert_eq!(stance.classes(), ["accusatory", "conciliatory", "conditional", "neutral"]);
    assert!(stance.fit.training_accuracy > 0.95, "{:?}", stance.fit);
    assert!(!stance.fit.reached_iteration_limit);
    assert_eq!(stance.fit.rows, 48);
}

#[test]
fn the_shipped_model_loads_and_has_stance_and_sentiment_heads() {
    let model = Model::shipped().unwrap();
    assert!(model.head("stance").is_some());
    assert!(model.head("sentiment").is_some());
}
