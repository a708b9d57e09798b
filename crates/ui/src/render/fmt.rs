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

/// `s` in at most `w` columns: whole, or cut and ended with `…` so the cut shows.
pub(crate) fn cut(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    format!("{}…", fit(s, w.saturating_sub(1)).trim_end())
}

/// `s` right-aligned in `w` columns, never cut (`{:>w$}` counting columns, not characters).
pub(crate) fn right(s: &str, w: usize) -> String {
    s.unicode_pad(w, Alignment::Right, false).into_owned()
}

/// A name in at most `w` columns, cut so that its meaning stays: the last word (the `p95` of
/// "Response time p95") is kept whole and the start is shortened with `…`. Not padded.
pub(crate) fn fit_name(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    // A remark in brackets at the end goes first: "Attribute usage patterns (shared vs
    // specific)" keeps "Attribute usage patterns", not "Attribute… specific)".
    if let Some(head) = s
        .strip_suffix(')')
        .and_then(|t| t.rfind('(').map(|i| t[..i].trim_end()))
        .filter(|h| !h.is_empty())
    {
        return fit_name(head, w);
    }
    let last = s.split_whitespace().last().unwrap_or(s);
    let head_w = w.saturating_sub(last.width() + 2);
    if last.width() * 2 > w || head_w == 0 {
        // No room for a head: the words that fit (else the start, cut), and `…`.
        return format!("{}…", words_in(s, w.saturating_sub(1)));
    }
    format!("{}… {last}", words_in(s, head_w))
}

/// An identifier (a flag's id) in at most `w` columns, cut in the middle so both its start and
/// its end stay: `checkout_se…percentage` and `checkout_se…ce_enabled` still differ.
pub(crate) fn cut_middle(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    let room = w.saturating_sub(1);
    let tail_w = room / 2;
    let (head, _) = s.unicode_truncate(room - tail_w);
    let (tail, _) = s.unicode_truncate_start(tail_w);
    format!("{}…{tail}", head.trim_end())
}

/// The words of `s` that fit in `w` columns; the start of the first, cut, when none does.
fn words_in(s: &str, w: usize) -> String {
    let mut out = String::new();
    for word in s.split_whitespace() {
        let sep = usize::from(!out.is_empty());
        if out.width() + sep + word.width() > w {
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = s
            .unicode_pad(w, Alignment::Left, true)
            .trim_end()
            .to_string();
    }
    out
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

/// A hold (an exit gate's condition) as a row: its mark (the legend's: ▶ running now, ✓ done,
/// ✗ failed), its words and its style —
/// `▶ Replication lag < 1 s held 4m / 10m`, `✓ … held 10m`, `✗ … — now 2.10 s` (not met).
pub(crate) fn hold_row(
    rb: &Runbook,
    h: &engine::HoldProgress,
) -> (&'static str, String, StyleName) {
    let cond = engine::condition_words(rb, &h.hold);
    let unit = rb
        .metric(&h.hold.metric)
        .map(|m| m.unit.as_str())
        .unwrap_or("");
    if h.done() {
        let held = short_duration(h.hold.r#for.max(h.held));
        return ("✓", format!("{cond} held {held}"), StyleName::GatePass);
    }
    match (h.value, h.holding) {
        (None, _) => (
            "✗",
            format!("{cond}: no fresh value"),
            StyleName::GateBlocked,
        ),
        (Some(v), false) => (
            "✗",
            format!(
                "{cond} — now {}{}{unit}",
                fmt_num(v),
                if unit.is_empty() { "" } else { " " }
            ),
            StyleName::GateBlocked,
        ),
        (Some(_), true) => (
            "▶",
            format!(
                "{cond} held {} / {}",
                short_duration(h.held),
                short_duration(h.hold.r#for)
            ),
            StyleName::Muted,
        ),
    }
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
    fn a_cut_name_keeps_its_last_word() {
        assert_eq!(fit_name("Response time p95", 30), "Response time p95");
        assert_eq!(fit_name("Response time p95", 12), "Respons… p95");
        assert!(fit_name("Response time p95", 12).width() <= 12);
        assert_eq!(fit_name("Replication lag", 10), "Repli… lag");
        assert_eq!(
            fit_name("Settlement batch throughput", 22),
            "Settlement… throughput"
        );
        // A last word longer than half the room: the start, cut.
        assert_eq!(fit_name("Settlement batch throughput", 12), "Settlement…");
        for w in 0..30 {
            assert!(
                fit_name("Green error rate 数据库", w).width() <= w.max(1),
                "{w}"
            );
        }
    }

    #[test]
    fn a_remark_in_brackets_goes_first() {
        let name = "Attribute usage patterns (shared vs specific attributes)";
        assert_eq!(fit_name(name, 60), name);
        assert_eq!(fit_name(name, 30), "Attribute usage patterns");
        assert_eq!(fit_name(name, 22), "Attribute… patterns");
        // Only a bracket at the end is a remark.
        assert_eq!(fit_name("(beta) Search p95", 12), "(beta)… p95");
    }

    #[test]
    fn an_identifier_keeps_its_start_and_end() {
        assert_eq!(cut_middle("shadow_reads_on", 30), "shadow_reads_on");
        let a = cut_middle("checkout_service_percentage", 22);
        let b = cut_middle("checkout_service_enabled", 22);
        assert_eq!(a, "checkout_se…percentage");
        assert_eq!(b, "checkout_se…ce_enabled");
        for w in 1..30 {
            assert!(cut_middle("flag_数据库_percent", w).width() <= w, "{w}");
        }
    }

    #[test]
    fn a_short_name_fits_its_columns() {
        assert_eq!(short_name("Checkout v2: the plan", 40), "Checkout v2");
        let cut = short_name("统一 属性 迁移 计划 第二 阶段", 12);
        assert!(cut.width() <= 12, "{cut:?}");
        assert_eq!(cut, "统一 属性…");
    }
}
