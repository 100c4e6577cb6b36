//! Draws a [`ChartData`] as a PNG (plotters' bitmap backend, encoded with
//! the `png` crate; pure Rust, no fonts): for each day, bars of the tasks
//! opened (above the middle line) and closed (below it), internal IT in
//! blue and the MSP in orange, and the SLA attainment as a green line in
//! the top band (its top is 100 %). The legend is in the message text
//! (Fluent), so the picture needs no text.
//!
//! The picture is [`WIDTH`] × [`HEIGHT`] (700 × 360) pixels, drawn into a buffer, and
//! posted as [`FILE_NAME`] with the first message of a client's or the lead's digest.

use plotters::prelude::*;

use crate::domain::chart::ChartData;

/// The picture's size in pixels.
pub const WIDTH: u32 = 700;
pub const HEIGHT: u32 = 360;

/// The attachment's file name.
pub const FILE_NAME: &str = "digest-chart.png";

const SIDE_COLORS: [RGBColor; 2] = [RGBColor(52, 101, 164), RGBColor(230, 126, 34)];
const ATTAINMENT: RGBColor = RGBColor(39, 174, 96);
const GRID: RGBColor = RGBColor(220, 220, 220);
const AXIS: RGBColor = RGBColor(90, 90, 90);

#[derive(Debug, thiserror::Error)]
#[error("drawing the digest chart: {0}")]
pub struct ChartError(String);

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// The chart as PNG bytes, [`WIDTH`] × [`HEIGHT`].
pub fn render_png(data: &ChartData) -> Result<Vec<u8>, ChartError> {
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let mut rgb = vec![255u8; w * h * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root, data)?;
        root.present().map_err(err)?;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(err)?;
        writer.write_image_data(&rgb).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    data: &ChartData,
) -> Result<(), ChartError> {
    let margin = 12i32;
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    // Top band: attainment (0..100 %); below: bars around a middle line.
    let band_top = margin;
    let band_bottom = h / 4;
    let bars_top = band_bottom + margin;
    let bars_bottom = h - margin;
    let middle = (bars_top + bars_bottom) / 2;
    let half = (bars_bottom - bars_top) / 2 - 2;
    let days = data.days.len().max(1) as i32;
    let slot = (w - 2 * margin) / days;
    let peak = data.peak().max(1) as i32;
    let scale = |n: u32| (n as i32 * half) / peak;

    // Grid: the attainment band's 0, 50 and 100 %, day separators.
    for pct in [0, 50, 100] {
        let y = band_bottom - (band_bottom - band_top) * pct / 100;
        root.draw(&PathElement::new(
            vec![(margin, y), (w - margin, y)],
            GRID.stroke_width(1),
        ))
        .map_err(err)?;
    }
    for i in 0..=days {
        let x = margin + i * slot;
        root.draw(&PathElement::new(
            vec![(x, bars_top), (x, bars_bottom)],
            GRID.stroke_width(1),
        ))
        .map_err(err)?;
    }

    let bar = (slot - 8) / 2;
    for (i, day) in data.days.iter().enumerate() {
        let x0 = margin + i as i32 * slot + 4;
        for (side, &color) in SIDE_COLORS.iter().enumerate() {
            let x = x0 + side as i32 * bar;
            let up = scale(day.opened[side]);
            if up > 0 {
                root.draw(&Rectangle::new(
                    [(x, middle - up), (x + bar - 1, middle)],
                    color.filled(),
                ))
                .map_err(err)?;
            }
            let down = scale(day.closed[side]);
            if down > 0 {
                // Closed: the same colour, lighter.
                let light = RGBColor(color.0 / 2 + 127, color.1 / 2 + 127, color.2 / 2 + 127);
                root.draw(&Rectangle::new(
                    [(x, middle), (x + bar - 1, middle + down)],
                    light.filled(),
                ))
                .map_err(err)?;
            }
        }
    }
    root.draw(&PathElement::new(
        vec![(margin, middle), (w - margin, middle)],
        AXIS.stroke_width(2),
    ))
    .map_err(err)?;

    // Attainment: a line through the days that had something to measure,
    // a dot on each.
    let points: Vec<(i32, i32)> = data
        .days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.attainment().map(|pct| {
                let x = margin + i as i32 * slot + slot / 2;
                let y = band_bottom - (band_bottom - band_top) * pct as i32 / 100;
                (x, y)
            })
        })
        .collect();
    if points.len() > 1 {
        root.draw(&PathElement::new(
            points.clone(),
            ATTAINMENT.stroke_width(3),
        ))
        .map_err(err)?;
    }
    for p in points {
        root.draw(&Circle::new(p, 4, ATTAINMENT.filled()))
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use jiff::tz::TimeZone;

    use super::*;

    fn data() -> ChartData {
        let now: Timestamp = "2026-12-01T08:30:00Z".parse().unwrap();
        let mut data = ChartData::empty(&TimeZone::UTC, now);
        for (i, day) in data.days.iter_mut().enumerate() {
            let i = i as u32;
            day.opened = [i % 3, i % 5];
            day.closed = [i % 2, (i + 1) % 4];
            day.measured = i % 4;
            day.met = (i % 4).min(i % 3);
        }
        data
    }

    fn decode(png_bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let decoder = png::Decoder::new(png_bytes);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    #[test]
    fn the_chart_is_a_png_of_the_expected_size_and_not_blank() {
        let bytes = render_png(&data()).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "the PNG signature");
        // IHDR is the first chunk: length 13, then width and height.
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), WIDTH);
        assert_eq!(
            u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
            HEIGHT
        );
        let (info, pixels) = decode(&bytes);
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let has = |c: RGBColor| pixels.chunks(3).any(|p| p == [c.0, c.1, c.2]);
        assert!(has(SIDE_COLORS[0]), "internal IT's bars");
        assert!(has(SIDE_COLORS[1]), "the MSP's bars");
        assert!(has(ATTAINMENT), "the attainment line");
        if std::env::var_os("PONTE_CHART_OUT").is_some() {
            std::fs::write("/tmp/ponte-digest-chart.png", &bytes).unwrap();
        }
    }

    #[test]
    fn the_realistic_morning_draws_its_opened_series_in_the_msp_colour() {
        use crate::domain::digest::tests::{acme_tasks, now, office, rome, targets};
        let tasks = acme_tasks();
        let mut data = ChartData::empty(&rome(), now());
        data.add(&rome(), now(), &targets(), &office(), &tasks);
        let opened: u32 = data.days.iter().map(|d| d.opened[0] + d.opened[1]).sum();
        assert_eq!(
            opened as usize,
            tasks.len(),
            "every task was opened in the window"
        );
        let bytes = render_png(&data).unwrap();
        let (info, pixels) = decode(&bytes);
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert!(
            pixels
                .chunks(3)
                .any(|p| p == [SIDE_COLORS[1].0, SIDE_COLORS[1].1, SIDE_COLORS[1].2])
        );
        if std::env::var_os("PONTE_CHART_OUT").is_some() {
            std::fs::write("/tmp/ponte-digest-chart-acme.png", &bytes).unwrap();
        }
    }

    #[test]
    fn an_empty_window_still_draws_the_frame_and_no_bars() {
        let now: Timestamp = "2026-12-01T08:30:00Z".parse().unwrap();
        let bytes = render_png(&ChartData::empty(&TimeZone::UTC, now)).unwrap();
        let (info, pixels) = decode(&bytes);
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert!(pixels.chunks(3).any(|p| p == [AXIS.0, AXIS.1, AXIS.2]));
        assert!(
            !pixels
                .chunks(3)
                .any(|p| p == [SIDE_COLORS[1].0, SIDE_COLORS[1].1, SIDE_COLORS[1].2])
        );
    }
}
