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

#[test]
fn explanations_are_weight_times_feature_value_and_add_up_to_the_score() {
    let model = fixture_model();
    let sentence = "We will lift the sanctions only if they release our citizens.";
    let tokenizer = model.features().tokenizer();
    let row = model.features().transform_one(&tokenizer, sentence);
    assert!(row.nnz() > 3);
    for head in model.heads() {
        let prediction = head.predict(&row);
        let scores = head.scores(&row);
        let contributions = head.contributions(&row, prediction.label);
        // Each contribution is the weight times the TF-IDF value, and with the intercept they
        // rebuild the class score exactly.
        for &(feature, contribution) in &contributions {
            let position = row.indices.iter().position(|&i| i as usize == feature).unwrap();
            let expected = head.weights()[(feature, prediction.label)] as f64 * row.values[position] as f64;
            assert!((contribution - expected).abs() < 1e-12);
        }
        let rebuilt: f64 = head.intercept()[prediction.label] as f64
            + contributions.iter().map(|(_, c)| c).sum::<f64>();
        assert!((rebuilt - scores[prediction.label]).abs() < 1e-9);
        // Sorted largest first.
        assert!(contributions.windows(2).all(|w| w[0].1 >= w[1].1));
    }
    let explained = model.predict_row_explained(&row, 3);
    for (head, prediction) in model.heads().iter().zip(&explained) {
        let expected: Vec<f64> = head
            .contributions(&row, prediction.label)
            .into_iter()
            .filter(|c| c.1 > 0.0)
            .take(3)
            .map(|c| c.1)
            .collect();
        let got: Vec<f64> = prediction.terms.iter().map(|t| t.1).collect();
        assert_eq!(got, expected);
        assert!(!prediction.terms.is_empty());
    }
}

#[test]
fn extreme_weights_are_the_largest_and_smallest_of_each_class() {
    let model = fixture_model();
    let head = model.head("stance").unwrap();
    for class in 0..head.classes().len() {
        let column = head.weights().column(class);
        let max = column.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let min = column.iter().cloned().fold(f32::INFINITY, f32::min);
        let (positive, negative) = head.extreme_weights(class, 4);
        assert_eq!(positive[0].1, max);
        assert_eq!(negative[0].1, min);
        assert!(positive.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(negative.windows(2).all(|w| w[0].1 <= w[1].1));
    }
}
