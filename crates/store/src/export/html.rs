//! The post-mortem as one self-contained HTML page: inline CSS, charts as inline SVG, no
//! script and nothing fetched (a Content-Security-Policy forbids it), so it opens from a
//! file, a mail or a ticket anywhere. Every string from the log or the runbook goes through
//! [`crate::text::clean`] and is HTML-escaped.

use super::chart::{self, Chart, Mark, MarkKind, Threshold};
use super::data::{Postmortem, ts};
use super::doc::{Block, Line, Section, Span, document};
use crate::Record;
use crate::engine::{self, Action};
use crate::runbook::{Runbook, fmt_duration};
use std::fmt::Write;

/// The page. `warning` (the log does not verify) is shown at its top.
pub fn html(rb: &Runbook, records: &[Record], warning: Option<&str>) -> Result<String, String> {
    let pm = Postmortem::gather(rb, records)?;
    let doc = document(&pm);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&doc.title),
        esc(&doc.title)
    );
    if let Some(w) = warning {
        let _ = writeln!(
            o,
            "<p class=\"warning\" role=\"alert\"><strong>{}</strong></p>",
            esc(w)
        );
    }
    for s in &doc.sections {
        let _ = writeln!(o, "<section id=\"{}\">\n<h2>{}</h2>", s.id, esc(s.title));
        if s.id == "phases" {
            o.push_str(&phase_bars(&pm));
        }
        blocks(&mut o, s);
        o.push_str("</section>\n");
        if s.id == "phases" {
            o.push_str(&charts(&pm)?);
        }
    }
    o.push_str("</body>\n</html>\n");
    Ok(o)
}

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#1e1e1e;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse;margin:.8em 0;width:100%;font-size:.92em}\
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#eee}tbody tr:nth-child(even){background:#f7f7f7}\
.warning{background:#fde2e2;border:2px solid #c00;padding:.6em}\
figure{margin:1.2em 0;border:1px solid #ddd;padding:.5em}figcaption{font-weight:bold;margin-bottom:.3em}\
figure svg{width:100%;height:auto;display:block}\
.legend span{display:inline-block;margin-right:1.2em}\
.peak{margin:.3em 0 0;font-size:.92em}\
.phase{display:grid;grid-template-columns:16em 1fr;gap:.2em 1em;margin:.35em 0;align-items:center}\
.bars div{height:1.1em;margin:2px 0;font-size:.8em;line-height:1.1em;white-space:nowrap;padding-left:.3em;box-sizing:border-box;min-width:1px}\
.planned{background:repeating-linear-gradient(45deg,#d8d8d8 0 6px,#f2f2f2 6px 12px);border:1px solid #999}\
.actual{background:#9cc3ef;border:1px solid #1f5ab4}.actual.over{background:#f3b3b3;border-color:#c00}\
";

/// Text from the log or the runbook as HTML text or an attribute value: cleaned, escaped.
fn esc(s: &str) -> String {
    let mut out = String::new();
    for c in crate::text::clean(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn line(l: &Line) -> String {
    l.0.iter()
        .map(|s| match s {
            Span::Plain(t) => esc(t),
            Span::Strong(t) => format!("<strong>{}</strong>", esc(t)),
        })
        .collect()
}

fn blocks(o: &mut String, s: &Section) {
    for b in &s.blocks {
        match b {
            Block::Para(l) => {
                let _ = writeln!(o, "<p>{}</p>", line(l));
            }
            Block::List(items) => {
                o.push_str("<ul>\n");
                for it in items {
                    let _ = write!(o, "<li>{}", line(&it.line));
                    if !it.sub.is_empty() {
                        o.push_str("<ul>");
                        for sub in &it.sub {
                            let _ = write!(o, "<li>{}</li>", line(sub));
                        }
                        o.push_str("</ul>");
                    }
                    o.push_str("</li>\n");
                }
                o.push_str("</ul>\n");
            }
            Block::Table { head, rows } => {
                o.push_str("<table>\n<thead><tr>");
                for h in head {
                    let _ = write!(o, "<th>{}</th>", esc(h));
                }
                o.push_str("</tr></thead>\n<tbody>\n");
                for r in rows {
                    o.push_str("<tr>");
                    for c in r {
                        let _ = write!(o, "<td>{}</td>", line(c));
                    }
                    o.push_str("</tr>\n");
                }
                o.push_str("</tbody>\n</table>\n");
            }
        }
    }
}

/// Each phase's planned duration beside its actual one, as bars on one scale, each with its
/// words (the bars' colours only repeat them).
fn phase_bars(pm: &Postmortem) -> String {
    let (st, rb) = (&pm.st, pm.rb);
    let longest = rb
        .phases
        .iter()
        .enumerate()
        .map(|(i, p)| p.duration.max(st.phase_took(i).unwrap_or_default()))
        .max()
        .unwrap_or_default()
        .as_secs_f64()
        .max(1.0);
    let pct = |d: std::time::Duration| (d.as_secs_f64() / longest * 100.0).clamp(0.0, 100.0);
    let mut o =
        String::from("<div class=\"phases\" aria-label=\"Phases: planned and actual duration\">\n");
    for (i, p) in rb.phases.iter().enumerate() {
        let actual = match st.phase_took(i) {
            Some(d) => {
                let over = engine::phase_overrun(st, rb, i);
                format!(
                    "<div class=\"actual{}\" style=\"width:{:.1}%\">actual {}{}</div>",
                    if over { " over" } else { "" },
                    pct(d),
                    fmt_duration(d),
                    if over { " — overrun" } else { "" }
                )
            }
            None => "<div>actual — not started</div>".to_string(),
        };
        let _ = writeln!(
            o,
            "<div class=\"phase\"><div>{}</div><div class=\"bars\">\
             <div class=\"planned\" style=\"width:{:.1}%\">planned {} (day {})</div>{actual}</div></div>",
            esc(&p.name),
            pct(p.duration),
            fmt_duration(p.duration),
            p.day,
        );
    }
    o.push_str("</div>\n");
    o
}

/// The moments every chart marks: rollout steps, overrides, blocked attempts, rollbacks.
fn marks(pm: &Postmortem) -> Vec<Mark> {
    let mut out = Vec::new();
    for a in &pm.st.actions {
        match &a.action {
            Action::RolloutStep { percent, .. } if a.finished_at.is_some() => {
                if let (engine::Outcome::Succeeded(_), Some(t)) = (&a.outcome, a.finished_at) {
                    out.push(Mark {
                        kind: MarkKind::Step,
                        from: t,
                        until: None,
                        label: format!("step {percent} %"),
                    });
                }
            }
            Action::Rollback { procedure } => out.push(Mark {
                kind: MarkKind::Rollback,
                from: a.requested_at,
                until: Some(a.finished_at.unwrap_or(pm.end())),
                label: crate::text::clean(&format!("rollback {procedure}")).into_owned(),
            }),
            _ => {}
        }
        if a.override_reason.is_some() {
            out.push(Mark {
                kind: MarkKind::Override,
                from: a.requested_at,
                until: None,
                label: crate::text::clean(&format!("override {}", a.action.word())).into_owned(),
            });
        }
    }
    for b in &pm.blocked {
        out.push(Mark {
            kind: MarkKind::Blocked,
            from: b.at,
            until: None,
            label: crate::text::clean(&format!("blocked {}", b.action.word())).into_owned(),
        });
    }
    out.sort_by_key(|m| m.from);
    out
}

fn alert_marks(pm: &Postmortem, metric: Option<&str>) -> Vec<Mark> {
    pm.st
        .alerts
        .iter()
        .filter(|a| metric.is_none_or(|m| a.metric == m))
        .map(|a| Mark {
            kind: MarkKind::Alert,
            from: a.fired_at,
            until: Some(a.resolved_at.unwrap_or(pm.end())),
            label: crate::text::clean(&format!(
                "alert {} {}",
                a.level.as_str(),
                if metric.is_some() {
                    ""
                } else {
                    a.metric.as_str()
                }
            ))
            .trim_end()
            .to_string(),
        })
        .collect()
}

fn figure(
    o: &mut String,
    id: &str,
    caption: &str,
    c: &Chart,
    notes: &[String],
) -> Result<(), String> {
    let _ = write!(
        o,
        "<figure class=\"chart\" id=\"chart-{}\">\n<figcaption>{}</figcaption>\n{}\n",
        esc(id),
        esc(caption),
        chart::svg(c)?
    );
    for n in notes {
        let _ = writeln!(o, "<p class=\"peak\">{}</p>", esc(n));
    }
    o.push_str("</figure>\n");
    Ok(())
}

/// A value with its unit: `0.39 %`, `47.5 ms`.
fn with_unit(v: f64, unit: &str) -> String {
    let n = engine::fmt_num(v);
    if unit.is_empty() {
        n
    } else {
        format!("{n} {unit}")
    }
}

fn charts(pm: &Postmortem) -> Result<String, String> {
    let rb = pm.rb;
    let (Some(first), Some(last)) = (pm.first, pm.last) else {
        return Ok(String::new());
    };
    let span = (first, last);
    let marks = marks(pm);
    let mut o = String::from(
        "<section id=\"charts\">\n<h2>Metrics over the rollout</h2>\n<p class=\"legend\">\
         <span>— the value read</span><span>- - warning and critical thresholds</span>\
         <span>│ step N %: a rollout step took effect</span><span>▒ alert: while an alert fired</span>\
         <span>▒ rollback: from its request to its end</span><span>│ override, blocked: a gate passed \
         deliberately, an attempt its gate stopped</span></p>\n",
    );
    let mut all = marks.clone();
    all.extend(alert_marks(pm, None));
    all.sort_by_key(|m| m.from);
    let share: Vec<(crate::engine::Time, f64)> =
        pm.shares.iter().map(|&(t, s)| (t, f64::from(s))).collect();
    let highest = engine::highest_share(&pm.shares)
        .map(|(t, s)| format!("Highest share: {s} % (first at {})", ts(t)))
        .into_iter()
        .collect::<Vec<_>>();
    figure(
        &mut o,
        "rollout-share",
        &format!(
            "Rollout share: % of traffic to the {} pool",
            rb.rollout.pool
        ),
        &Chart {
            points: &share,
            thresholds: Vec::new(),
            marks: all,
            span,
            steps: true,
        },
        &highest,
    )?;
    let mut unread = Vec::new();
    // The metrics whose alerts fired come first (in the runbook's order), then the rest: a
    // reviewer opens the page at what went wrong.
    let mut defs: Vec<(&crate::runbook::Metric, Vec<Mark>)> = rb
        .metrics
        .iter()
        .map(|d| (d, alert_marks(pm, Some(&d.id.value))))
        .collect();
    defs.sort_by_key(|(_, alerts)| alerts.is_empty());
    for (def, alerts) in defs {
        let id = def.id.value.as_str();
        let points = pm.readings(id);
        if points.is_empty() {
            unread.push(id);
            continue;
        }
        let mut thresholds = Vec::new();
        if let Some(w) = &def.warning {
            thresholds.push(Threshold {
                label: "warning".into(),
                value: w.value,
                critical: false,
            });
        }
        if let Some(c) = &def.critical {
            thresholds.push(Threshold {
                label: "critical".into(),
                value: c.value,
                critical: true,
            });
        }
        let mut ms = marks.clone();
        ms.extend(alerts);
        ms.sort_by_key(|m| m.from);
        let unit = if def.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", def.unit)
        };
        // A metric with thresholds has a worse side; one without is only watched: its
        // highest (or lowest) reading is no judgement.
        let judged = def.warning.is_some() || def.critical.is_some();
        let notes: Vec<String> = engine::peak(def, points, first, None)
            .map(|(t, v)| {
                let (side, word) = match def.direction {
                    crate::runbook::Direction::Above => ("higher", "Highest"),
                    crate::runbook::Direction::Below => ("lower", "Lowest"),
                };
                let what = if judged {
                    format!("Worst reading ({side} is worse)")
                } else {
                    format!("{word} reading")
                };
                format!(
                    "{what}: {} at {} ({} readings)",
                    with_unit(v, &def.unit),
                    ts(t),
                    points.len()
                )
            })
            .into_iter()
            .collect();
        figure(
            &mut o,
            id,
            &format!("{} — {id}{unit}", def.name),
            &Chart {
                points,
                thresholds,
                marks: ms,
                span,
                steps: false,
            },
            &notes,
        )?;
    }
    if !unread.is_empty() {
        let _ = writeln!(o, "<p>Never read: {}.</p>", esc(&unread.join(", ")));
    }
    o.push_str("</section>\n");
    Ok(o)
}
