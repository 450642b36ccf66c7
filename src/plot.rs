//! SVG pictures of an evaluation: a confusion-matrix heatmap and a reliability diagram per head.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::metrics::{Calibration, Report};

const SIZE: (u32, u32) = (720, 600);

/// Writes `<dir>/<head>-confusion.svg` and `<dir>/<head>-reliability.svg`; returns their paths.
/// Each file is written atomically.
pub fn write_head_plots(dir: &Path, head: &str, report: &Report, calibration: &Calibration) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "creating the plot directory", e))?;
    let confusion = dir.join(format!("{head}-confusion.svg"));
    crate::model::write_atomically(&confusion, confusion_svg(head, report)?.as_bytes())?;
    let reliability = dir.join(format!("{head}-reliability.svg"));
    crate::model::write_atomically(&reliability, reliability_svg(head, calibration)?.as_bytes())?;
    Ok(vec![confusion, reliability])
}

fn plot_error(error: impl std::fmt::Display) -> Error {
    Error::Settings(format!("drawing the plot failed: {error}"))
}

/// A heatmap of the confusion matrix; each cell is shaded by its share of the true class's rows
/// (so the diagonal is per-class recall) and labeled with its count.
pub fn confusion_svg(head: &str, report: &Report) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let k = report.classes.len();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{head}: confusion matrix ({} rows, accuracy {:.3})", report.rows, report.accuracy),
                ("sans-serif", 20),
            )
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(120)
            // A usize range includes its end, so 0..k - 1 gives exactly k segments.
            .build_cartesian_2d((0..k - 1).into_segmented(), (0..k - 1).into_segmented())
            .map_err(plot_error)?;
        // Segment i of the x axis is predicted class i; segment i of the y axis is true class
        // k - 1 - i, so the first class is the top row as in the text report.
        let x_classes = report.classes.clone();
        let x_label = move |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => x_classes.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let y_classes = report.classes.clone();
        let y_label = move |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if *i < k => y_classes[k - 1 - i].clone(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted class")
            .y_desc("true class")
            .x_labels(k)
            .y_labels(k)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .draw()
            .map_err(plot_error)?;
        let centered = |color: &RGBColor| {
            ("sans-serif", 18)
                .into_font()
                .color(color)
                .pos(Pos::new(HPos::Center, VPos::Center))
        };
        for (t, row) in report.confusion.iter().enumerate() {
            let support: usize = row.iter().sum();
            for (p, &count) in row.iter().enumerate() {
                let share = if support == 0 { 0.0 } else { count as f64 / support as f64 };
                // White to dark blue; text turns white on dark cells.
                let shade = (255.0 * (1.0 - 0.85 * share)) as u8;
                let color = RGBColor(shade, shade, 255 - (80.0 * share) as u8);
                // Row 0 at the top: the y axis grows upward.
                let y = k - 1 - t;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(SegmentValue::Exact(p), SegmentValue::Exact(y)), (SegmentValue::Exact(p + 1), SegmentValue::Exact(y + 1))],
                        color.filled(),
                    )))
                    .map_err(plot_error)?;
                let text_color = if share > 0.5 { WHITE } else { BLACK };
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{count} ({:.0}%)", 100.0 * share),
                        (SegmentValue::CenterOf(p), SegmentValue::CenterOf(y)),
                        centered(&text_color),
                    )))
                    .map_err(plot_error)?;
            }
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// A reliability diagram: mean confidence against accuracy per confidence bin, with the
/// diagonal of perfect calibration and the number of rows per bin.
pub fn reliability_svg(head: &str, calibration: &Calibration) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{head}: reliability (ECE {:.3}, Brier {:.3})",
                    calibration.expected_calibration_error, calibration.brier_score
                ),
                ("sans-serif", 20),
            )
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("confidence (probability of the predicted class)")
            .y_desc("accuracy")
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.4)))
            .map_err(plot_error)?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.4)));
        // Bars: accuracy per bin.
        chart
            .draw_series(calibration.bins.iter().filter_map(|bin| {
                bin.accuracy.map(|accuracy| {
                    Rectangle::new([(bin.lower + 0.005, 0.0), (bin.upper - 0.005, accuracy)], BLUE.mix(0.35).filled())
                })
            }))
            .map_err(plot_error)?
            .label("accuracy per bin")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLUE.mix(0.35).filled()));
        // Points: mean confidence vs accuracy, with the bin's row count.
        let points: Vec<(f64, f64, usize)> = calibration
            .bins
            .iter()
            .filter_map(|b| Some((b.confidence?, b.accuracy?, b.rows)))
            .collect();
        chart
            .draw_series(points.iter().map(|&(c, a, _)| Circle::new((c, a), 5, RED.filled())))
            .map_err(plot_error)?
            .label("mean confidence vs accuracy")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
        chart
            .draw_series(points.iter().map(|&(c, a, rows)| {
                Text::new(format!("n={rows}"), (c, (a + 0.04).min(0.98)), ("sans-serif", 12).into_font())
            }))
            .map_err(plot_error)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn confusion_svg_shows_classes_and_counts() {
        let report = Report::new(&names(&["accusatory", "neutral"]), &[0, 0, 1], &[0, 1, 1]);
        let svg = confusion_svg("stance", &report).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("accusatory") && svg.contains("neutral"));
        assert!(svg.contains("1 (50%)"));
        assert!(svg.contains("1 (100%)"));
    }

    #[test]
    fn reliability_svg_shows_the_scores() {
        let calibration = Calibration::new(&[0, 1], &[vec![0.9, 0.1], vec![0.3, 0.7]], 10);
        let svg = reliability_svg("sentiment", &calibration).unwrap();
        assert!(svg.contains("ECE"));
        assert!(svg.contains("n=1"));
    }
}
