//! Cross-reference and sanity checks that types alone cannot express.
//!
//! Here: the ids of each kind (unique, and the references to them) and the order the checks
//! run in, which is the order `warroom check` reports them. The checks of each metric, of the
//! gates (no_override, abort_on, the rollout), of steps and of targets are in their own files.

mod gates;
mod metrics;
mod sim;
mod steps;
mod targets;

use super::*;
use serde_saphyr::Spanned;
use std::collections::HashMap;
use steps::{check_hold, check_steps, value_fits};

fn at<T>(s: &Spanned<T>) -> (u64, u64) {
    let l = &s.referenced;
    (l.line().max(1), l.column().max(1))
}

struct Ids<'a> {
    kind: &'static str,
    seen: HashMap<&'a str, (u64, u64)>,
}

impl<'a> Ids<'a> {
    fn new(kind: &'static str) -> Self {
        Ids {
            kind,
            seen: HashMap::new(),
        }
    }
    fn add(&mut self, id: &'a Spanned<String>, out: &mut Vec<Diag>) {
        let v = id.value.as_str();
        if v.trim().is_empty() {
            out.push(Diag::error(at(id), format!("empty {} id", self.kind)));
            return;
        }
        if let Some(first) = self.seen.get(v) {
            out.push(
                Diag::error(at(id), format!("duplicate {} id `{v}`", self.kind)).hint(format!(
                    "the first `{v}` is at line {}; ids must be unique",
                    first.0
                )),
            );
        } else {
            self.seen.insert(v, at(id));
        }
    }
    fn check_ref(&self, r: &Spanned<String>, what: &str, out: &mut Vec<Diag>) {
        if !self.seen.contains_key(r.value.as_str()) {
            let mut known: Vec<&str> = self.seen.keys().copied().collect();
            known.sort();
            out.push(
                Diag::error(
                    at(r),
                    format!("{what} names unknown {} `{}`", self.kind, r.value),
                )
                .hint(format!("known {}s: {}", self.kind, known.join(", "))),
            );
        }
    }
}

/// A one-shot SQL check: `sql`, a phase that exists and exactly one of `below` and `above`;
/// those keys only with `once: true`.
fn once_check(rb: &Runbook, m: &Metric, phases: &Ids, out: &mut Vec<Diag>) {
    let id = &m.id.value;
    let Some(once) = m.once.as_ref().filter(|o| o.value) else {
        if m.phase.is_some() || m.below.is_some() || m.above.is_some() {
            out.push(
                Diag::error(at(&m.id), format!("metric `{id}`: `phase`, `below` and `above` are for a one-shot SQL check"))
                    .hint("add `once: true` (with `sql`) to run it once when the phase completes, or remove them"),
            );
        }
        return;
    };
    if m.sql.is_none() {
        out.push(
            Diag::error(at(once), format!("metric `{id}`: `once` needs `sql`"))
                .hint("a one-shot check is a read-only SQL query on targets.database, run when its phase completes"),
        );
    }
    match &m.phase {
        None => out.push(
            Diag::error(
                at(once),
                format!("metric `{id}`: a one-shot SQL check needs `phase`"),
            )
            .hint("name the phase whose completion runs it, e.g. phase: database-migration"),
        ),
        Some(p) => phases.check_ref(p, &format!("metric `{id}` phase"), out),
    }
    if let Some((_, h)) = m.once_check() {
        steps::check_hold(rb, &format!("metric `{id}` (once)"), at(once), &h, out);
    } else if m.below.is_some() == m.above.is_some() {
        out.push(Diag::error(
            at(once),
            format!("metric `{id}`: a one-shot SQL check needs exactly one of `below` and `above`"),
        ));
    }
}

pub fn validate(rb: &Runbook, env: &dyn Fn(&str) -> Option<String>) -> Vec<Diag> {
    let mut out = Vec::new();

    if rb.monitoring.interval < std::time::Duration::from_secs(1) {
        out.push(
            Diag::warning(
                rb.monitoring.place().unwrap_or((1, 1)),
                format!(
                    "monitoring.interval is {}: every source is read every {} and each reading that changed is written to the audit log",
                    humantime::format_duration(rb.monitoring.interval),
                    humantime::format_duration(rb.monitoring.every())
                ),
            )
            .hint("plans read every 5s to 30s, e.g. monitoring: { interval: 10s }"),
        );
    }
    let mut teams = Ids::new("team");
    for t in &rb.teams {
        teams.add(&t.id, &mut out);
    }
    let mut flags = Ids::new("flag");
    for f in &rb.flags {
        flags.add(&f.id, &mut out);
        if !value_fits(f.kind, &f.initial.value) {
            out.push(
                Diag::error(at(&f.initial), format!("flag `{}`: initial value {} does not fit its kind", f.id.value, f.initial.value))
                    .hint("a bool flag starts true or false; a percent flag starts at a whole number 0..=100"),
            );
        }
    }
    let mut metrics = Ids::new("metric");
    for m in &rb.metrics {
        metrics.add(&m.id, &mut out);
        metrics::metric(m, &mut out);
    }
    let mut phases = Ids::new("phase");
    for p in &rb.phases {
        phases.add(&p.id, &mut out);
        let mut items = Ids::new("checklist item");
        for i in &p.checklist {
            items.add(&i.id, &mut out);
        }
        if !teams.seen.is_empty() {
            teams.check_ref(&p.owner, &format!("phase `{}` owner", p.id.value), &mut out);
        }
        for h in &p.exit_gate {
            let what = format!("phase `{}` exit_gate", p.id.value);
            check_hold(rb, &what, at(h), &h.value, &mut out);
        }
    }
    for m in &rb.metrics {
        once_check(rb, m, &phases, &mut out);
    }
    if rb.phases.is_empty() {
        out.push(
            Diag::error((1, 1), "the runbook has no phases")
                .hint("add at least one entry under `phases:`"),
        );
    }
    let mut checklists = Ids::new("checklist");
    for c in &rb.checklists {
        checklists.add(&c.id, &mut out);
        if phases.seen.contains_key(c.id.value.as_str()) {
            out.push(
                Diag::error(at(&c.id), format!("checklist id `{}` is also a phase id", c.id.value))
                    .hint(format!("a phase's own checklist is named by the phase id; give this checklist another id, e.g. `{}-checklist`", c.id.value)),
            );
        }
        let mut items = Ids::new("checklist item");
        for s in &c.sections {
            for i in &s.items {
                items.add(&i.id, &mut out);
            }
        }
    }
    let mut procedures = Ids::new("procedure");
    for p in &rb.procedures {
        procedures.add(&p.id, &mut out);
        if p.target.is_zero() {
            out.push(
                Diag::warning(
                    at(&p.id),
                    format!(
                        "procedure `{}` has a target of 0s: every run of it will be over target",
                        p.id.value
                    ),
                )
                .hint("give the time the rollback must finish within, e.g. target: 2m"),
            );
        }
        if p.steps.is_empty() {
            out.push(Diag::error(
                at(&p.id),
                format!("procedure `{}` has no steps", p.id.value),
            ));
        }
        if p.approval.is_some() {
            out.push(
                Diag::warning(
                    at(&p.id),
                    format!(
                        "procedure `{}` has approval: two-person: this rollback waits for a second operator's approval before it runs, an auto-abort's too",
                        p.id.value
                    ),
                )
                .hint("rollbacks should never wait: remove `approval:` unless the team has agreed that this one must"),
            );
        }
        check_steps(
            rb,
            &format!("procedure `{}`", p.id.value),
            at(&p.id),
            &p.steps,
            &mut out,
        );
    }
    // A switch back to the pool the deployment starts from is the way out: it should never
    // wait for a second operator, as a rollback should not.
    let from = rb.pools.active;
    if let Some(a) = &rb.pools.get(from).approval {
        out.push(
            Diag::warning(
                at(a),
                format!(
                    "pool `{from}` has approval: two-person, and it is the pool the deployment starts from: switching traffic back to it (s) waits for a second operator"
                ),
            )
            .hint(format!("a switch back to {from} is the way out and should never wait: mark the other pool, or remove `approval:` unless the team has agreed that it must")),
        );
    }
    for p in &rb.phases {
        check_steps(
            rb,
            &format!("phase `{}` on_start", p.id.value),
            at(&p.id),
            &p.on_start,
            &mut out,
        );
    }

    gates::no_override(rb, &mut out);
    gates::abort_on(rb, &metrics, &phases, &procedures, &mut out);
    gates::rollout(rb, &flags, &phases, &metrics, &mut out);
    sim::sim(rb, &metrics, &phases, &mut out);

    if let Some(g) = &rb.go_no_go {
        if !teams.seen.is_empty() {
            teams.check_ref(&g.by, "go_no_go.by", &mut out);
        }
        for r in &g.requires {
            checklists.check_ref(r, "go_no_go.requires", &mut out);
        }
    }
    for c in &rb.success_criteria {
        if let Some(m) = &c.metric {
            metrics.check_ref(m, "success criterion", &mut out);
        }
        if let Some(w) = &c.window {
            if c.metric.is_none() {
                out.push(
                    Diag::error(at(w), format!("success criterion `{}`: a window without a metric", c.text))
                        .hint("a window says over how long the metric is judged: add `metric:` (and `below:` or `above:`), or remove `window:`"),
                );
            } else if w.value.0.is_zero() {
                out.push(
                    Diag::error(at(w), format!("success criterion `{}`: the window is zero", c.text))
                        .hint("write the stretch of the log to judge it over, e.g. `window: 30m`; without `window:` the last reading is judged"),
                );
            }
        }
    }
    for r in &rb.risks {
        if let Some(p) = &r.procedure {
            procedures.check_ref(p, &format!("risk `{}`", r.name), &mut out);
        }
        for m in &r.metrics {
            metrics.check_ref(m, &format!("risk `{}` metrics", r.name), &mut out);
        }
    }
    targets::pools(rb, env, &mut out);
    targets::targets(rb, env, &mut out);
    targets::webhooks(rb, env, &mut out);
    out
}
