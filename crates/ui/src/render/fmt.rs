//! How the screen writes times, durations, names and sparklines: one formatter each.

use super::prelude::*;

pub(crate) fn hms(t: Option<engine::Time>) -> String {
    t.map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| "--:--:--".into())
}

/// `2h47m`, `29m`, `45s`: a duration in at most two units.
pub(crate) fn short_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The runbook's name, cut at a word boundary (or a colon) to fit.
pub(crate) fn short_name(name: &str, max: usize) -> String {
    let head = name.split(':').next().unwrap_or(name).trim();
    if head.chars().count() <= max {
        return head.to_string();
    }
    let mut out = String::new();
    for w in head.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > max.saturating_sub(1) {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.push('…');
    out
}

/// `m:ss`: a stopwatch reading.
pub(crate) fn mmss(d: std::time::Duration) -> String {
    format!("{}:{:02}", d.as_secs() / 60, d.as_secs() % 60)
}

pub(crate) const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline as text, scaled between the window's minimum and maximum (and the critical
/// threshold, so a value near it reads high).
pub fn sparkline(values: &[Option<f64>], width: usize, critical: Option<f64>) -> String {
    let vals: Vec<Option<f64>> = values.iter().rev().take(width).rev().copied().collect();
    let known = vals.iter().flatten();
    let (mut lo, mut hi) = known.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(*v), h.max(*v))
    });
    if let Some(c) = critical {
        hi = hi.max(c);
        lo = lo.min(c * 0.5);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return " ".repeat(width);
    }
    let span = (hi - lo).max(f64::EPSILON);
    // Right-aligned: the newest reading at the right edge.
    let pad = width.saturating_sub(vals.len());
    std::iter::repeat_n(' ', pad)
        .chain(vals.iter().map(|v| match v {
            Some(v) => BARS[(((v - lo) / span) * 7.0).round().clamp(0.0, 7.0) as usize],
            None => '·',
        }))
        .collect()
}
