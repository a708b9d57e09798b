//! How the screen writes times, durations, names and sparklines: one formatter each.
//!
//! Widths are display columns (`unicode-width`, as the buffer counts them): a CJK character
//! takes two, a combining mark none.

use super::prelude::*;
use unicode_truncate::{Alignment, UnicodeTruncateStr};

/// `s` in exactly `w` columns, left-aligned: cut after the last character that fits, then
/// padded with spaces.
pub(crate) fn fit(s: &str, w: usize) -> String {
    s.unicode_pad(w, Alignment::Left, true).into_owned()
}

/// `s` right-aligned in `w` columns, never cut (`{:>w$}` counting columns, not characters).
pub(crate) fn right(s: &str, w: usize) -> String {
    s.unicode_pad(w, Alignment::Right, false).into_owned()
}

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
    if head.width() <= max {
        return head.to_string();
    }
    let mut out = String::new();
    for w in head.split_whitespace() {
        if out.width() + w.width() + 1 > max.saturating_sub(1) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_columns_not_characters() {
        // Two columns a character: the third does not fit in five.
        assert_eq!(fit("数据库", 5), "数据 ");
        assert_eq!(fit("数据库", 5).width(), 5);
        assert_eq!(fit("lag", 5), "lag  ");
        assert_eq!(fit("replica lag", 7), "replica");
        assert_eq!(right("12 µs", 8), "   12 µs");
        assert_eq!(right("数据", 6), "  数据");
        assert_eq!(right("longer than", 4), "longer than");
    }

    #[test]
    fn a_short_name_fits_its_columns() {
        assert_eq!(
            short_name("Unified attributes: the plan", 40),
            "Unified attributes"
        );
        let cut = short_name("统一 属性 迁移 计划 第二 阶段", 12);
        assert!(cut.width() <= 12, "{cut:?}");
        assert_eq!(cut, "统一 属性…");
    }
}
