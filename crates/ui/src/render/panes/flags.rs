//! The flags, the migration and the backup.

use crate::render::prelude::*;

/// Whether each flag's view (what its server says beyond the value, Unleash's on/off and
/// rollout) gets a line of its own under it: only when every other line still fits in a pane
/// `height` rows tall — the migration, the backup and the source errors come first. The title
/// names the server and environment either way.
pub(crate) fn views_fit(rb: &Runbook, st: &State, height: u16) -> bool {
    let inner = usize::from(height.saturating_sub(2));
    let views = rb
        .flags
        .iter()
        .filter(|f| st.flag_views.contains_key(&f.id.value))
        .count();
    let others = usize::from(st.migration.is_some())
        + usize::from(st.backup.is_some())
        + st.source_errors.len();
    views > 0 && rb.flags.len() + views + others <= inner
}

pub(crate) fn flags_pane(f: &mut Frame, area: Rect, rb: &Runbook, st: &State, ui: &Ui, th: &Theme) {
    let focused = ui.focus == Pane::Flags;
    let name_w = (area.width as usize).saturating_sub(10).clamp(8, 40);
    let mut lines = Vec::new();
    let with_views = views_fit(rb, st, area.height);
    for (i, fl) in rb.flags.iter().enumerate() {
        let v = st.flags.get(&fl.id.value);
        let (text, style) = match v {
            Some(serde_json::Value::Bool(true)) => ("ON".to_string(), StyleName::FlagOn),
            Some(serde_json::Value::Bool(false)) => ("OFF".to_string(), StyleName::FlagOff),
            Some(x) if x.is_number() => (format!("{x} %"), StyleName::FlagOn),
            Some(x) => (clean(&x.to_string()).into_owned(), StyleName::Text),
            None => ("?".into(), StyleName::MetricStale),
        };
        let mut name_style = th.get(StyleName::Text);
        if focused && i == ui.flag_sel {
            name_style = name_style.patch(th.get(StyleName::Selected));
        }
        lines.push(Line::from(vec![
            Span::styled(
                if i == ui.flag_sel { "▸ " } else { "  " },
                th.get(StyleName::Key),
            ),
            Span::styled(fit(&cut_middle(&fl.id.value, name_w), name_w), name_style),
            Span::styled(right(&text, 5), th.get(style)),
        ]));
        // What the flag server itself says of the flag's feature (Unleash: on or off, and the
        // rollout of its strategy), under the value it gives the flag.
        if let Some(view) = st.flag_views.get(&fl.id.value).filter(|_| with_views) {
            let room = (area.width as usize).saturating_sub(6);
            let what = if view.feature == fl.id.value {
                view.state()
            } else {
                format!("{}: {}", view.feature, view.state())
            };
            lines.push(Line::from(Span::styled(
                format!("    {}", fit_name(&clean(&what), room)),
                th.get(StyleName::Muted),
            )));
        }
    }
    if let Some(m) = &st.migration {
        let v = m
            .version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".into());
        lines.push(Line::from(vec![
            Span::styled("  migration ", th.get(StyleName::Muted)),
            Span::styled(v, th.get(StyleName::Text)),
            Span::styled(
                if m.dirty { " DIRTY" } else { " clean" },
                th.get(if m.dirty {
                    StyleName::MetricCritical
                } else {
                    StyleName::MetricOk
                }),
            ),
        ]));
    }
    if let Some(b) = &st.backup {
        // Cut, it keeps its last word (`verified`).
        let room = (area.width as usize).saturating_sub(4);
        lines.push(Line::from(Span::styled(
            format!("  {}", fit_name(&clean(&format!("backup: {b}")), room)),
            th.get(StyleName::Muted),
        )));
    }
    for (src, (msg, at, _)) in &st.source_errors {
        let age = st.age(Some(*at)).map(fmt_duration).unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!("  {src}: {msg} ({age} ago)"),
            th.get(StyleName::MetricCritical),
        )));
    }
    let age = st
        .age(st.flags_at)
        .map(|a| format!(" ({} ago)", fmt_duration(a)))
        .unwrap_or_default();
    // The flag server and environment the views come from (Unleash: `unleash production`).
    let place = st
        .flag_views
        .values()
        .next()
        .map(|v| format!(" · {}", clean(&v.place())))
        .unwrap_or_default();
    let title = format!("Flags{place}{age}");
    f.render_widget(Rows::new(lines).block(block(&title, focused, th)), area);
}
