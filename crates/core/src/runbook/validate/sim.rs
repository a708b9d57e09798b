//! Checks of what the simulator plays for the plan: a metric's `simulate:`, the plan's own
//! scenarios, and a rollout gate metric the demo could never read (its gate would never open).

use super::{Ids, at};
use crate::runbook::{Diag, Runbook};
use crate::sim_signals::SCENARIOS;

pub(super) fn sim(rb: &Runbook, metrics: &Ids, phases: &Ids, out: &mut Vec<Diag>) {
    for m in &rb.metrics {
        let Some(s) = &m.simulate else { continue };
        if m.sim.is_some() {
            out.push(
                Diag::error(
                    at(s),
                    format!("metric `{}` has both `sim:` and `simulate:`", m.id.value),
                )
                .hint("`sim:` names a built-in signal, `simulate:` describes one of the plan's own: keep one"),
            );
        }
        let v = &s.value;
        if !(v.base.is_finite() && v.green.is_none_or(f64::is_finite)) {
            out.push(Diag::error(
                at(s),
                format!(
                    "metric `{}`: `simulate:` values must be numbers",
                    m.id.value
                ),
            ));
        }
        if !(0.0..=1.0).contains(&v.noise) {
            out.push(
                Diag::error(
                    at(s),
                    format!(
                        "metric `{}`: `simulate.noise` is {}, a fraction of the value between 0 and 1",
                        m.id.value, v.noise
                    ),
                )
                .hint("0.05 moves a reading by up to ±5 %"),
            );
        }
    }
    let mut names = std::collections::HashMap::new();
    for sc in &rb.scenarios {
        let name = sc.name.value.as_str();
        let what = format!("scenario `{name}`");
        if SCENARIOS.contains(&name) {
            out.push(
                Diag::error(
                    at(&sc.name),
                    format!("{what} has the name of a built-in scenario"),
                )
                .hint(format!("built-in scenarios: {}", SCENARIOS.join(", "))),
            );
        } else if let Some(line) = names.insert(name, at(&sc.name).0) {
            out.push(Diag::error(
                at(&sc.name),
                format!("{what} is declared twice (first at line {line})"),
            ));
        }
        if let Some(m) = &sc.metric {
            metrics.check_ref(m, &what, out);
        }
        if let Some(p) = &sc.from {
            phases.check_ref(p, &format!("{what}: from"), out);
            if let Some(i) = rb.phase_index(&p.value)
                && rb.phases[i].on_start.iter().all(|s| s.optional)
            {
                out.push(
                    Diag::error(
                        at(p),
                        format!(
                            "{what} starts with phase `{}`, which runs no steps (none but optional ones)",
                            p.value
                        ),
                    )
                    .hint("the simulator sees a phase start by its first on_start step that always runs: name a phase that runs one, or leave out `from:` (it then starts when green first takes traffic)"),
                );
            }
        }
        let moves = sc.metric.is_some() && (sc.add != 0.0 || sc.times != 1.0);
        if !moves && sc.server_down.is_none() {
            out.push(
                Diag::error(at(&sc.name), format!("{what} plays nothing"))
                    .hint("give it a `metric:` with `add:` or `times:`, or `server_down: green`"),
            );
        }
    }
    // A gate metric the simulator has no value for: the demo's and rehearsals' rollout gate
    // would never open.
    for g in &rb.rollout.gate {
        let Some(m) = rb.metric(&g.value) else {
            continue;
        };
        // An unknown `sim:` has its own warning at its place.
        if m.simulate.is_none() && m.sim.is_none() {
            out.push(
                Diag::warning(
                    at(g),
                    format!(
                        "rollout.gate metric `{}` has no simulated signal: in the demo and rehearsals its value is stale and the gate never opens",
                        g.value
                    ),
                )
                .hint(format!(
                    "give metric `{}` a `sim:` signal or its own `simulate: {{ base: …, noise: …, green: … }}`",
                    g.value
                )),
            );
        }
    }
}
