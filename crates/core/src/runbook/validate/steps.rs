//! Checks of a phase's or a procedure's steps: exactly one action each, flags that exist with
//! values that fit, weights within 100, a command to run.

use super::at;
use crate::runbook::{Diag, FlagKind, Hold, ProcedureStep, Runbook, StepKind, fmt_duration};

/// A condition held on a metric (an exit gate's, a `wait_until`'s): the metric exists, and
/// exactly one of `below` and `above` is given.
pub(super) fn check_hold(
    rb: &Runbook,
    what: &str,
    place: (u64, u64),
    h: &Hold,
    out: &mut Vec<Diag>,
) {
    if rb.metric(&h.metric).is_none() {
        out.push(
            Diag::error(place, format!("{what} names unknown metric `{}`", h.metric)).hint(
                format!(
                    "known metrics: {}",
                    rb.metrics
                        .iter()
                        .map(|m| m.id.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        );
    }
    if h.below.is_some() == h.above.is_some() {
        out.push(
            Diag::error(
                place,
                format!(
                    "{what} on `{}` needs exactly one of `below` and `above`",
                    h.metric
                ),
            )
            .hint(format!(
                "e.g. {{ metric: {}, below: 1, for: 10m }}",
                h.metric
            )),
        );
    }
}

pub(super) fn value_fits(kind: FlagKind, v: &serde_json::Value) -> bool {
    match kind {
        FlagKind::Bool => v.is_boolean(),
        FlagKind::Percent => v.as_u64().is_some_and(|v| v <= 100),
    }
}

pub(super) fn check_steps(
    rb: &Runbook,
    owner: &str,
    _owner_place: (u64, u64),
    steps: &[ProcedureStep],
    out: &mut Vec<Diag>,
) {
    for s in steps {
        let place = at(&s.name);
        let name = &s.name.value;
        let actions = s.kinds();
        if actions.len() != 1 {
            out.push(
                Diag::error(place, format!("{owner}, step `{}`: has {} actions, needs exactly one", name, actions.len()))
                    .hint("one of: switch_pool, set_flag, set_weights, set_image, set_env, restart, wait_rollout, run, wait_until"),
            );
        }
        // A `set_flag`'s errors point at its flag or its value, not at the step's name.
        let (flag_place, value_place) = s
            .set_flag
            .as_ref()
            .map(|f| (at(&f.flag), at(&f.value)))
            .unwrap_or((place, place));
        for a in actions {
            match a {
                StepKind::SetFlag(sf) => match rb.flag(&sf.flag) {
                    None => out.push(
                        Diag::error(
                            flag_place,
                            format!("{owner}, step `{}`: names unknown flag `{}`", name, sf.flag),
                        )
                        .hint(format!(
                            "known flags: {}",
                            rb.flags
                                .iter()
                                .map(|f| f.id.value.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    ),
                    Some(f) if !value_fits(f.kind, &sf.value) => out.push(Diag::error(
                        value_place,
                        format!(
                            "{owner}, step `{}`: value {} does not fit flag `{}`",
                            name, sf.value, sf.flag
                        ),
                    )),
                    _ => {}
                },
                StepKind::SetWeights { green } if green > 100 => out.push(Diag::error(
                    place,
                    format!("{owner}, step `{}`: set_weights {green} is above 100", name),
                )),
                StepKind::ServerState(ss)
                    if ss
                        .server
                        .split_once('/')
                        .is_none_or(|(b, n)| b.trim().is_empty() || n.trim().is_empty()) =>
                {
                    out.push(
                        Diag::error(
                            place,
                            format!(
                                "{owner}, step `{}`: server_state names `{}`, not BACKEND/SERVER",
                                name, ss.server
                            ),
                        )
                        .hint("the load balancer's backend and server, e.g. blue/b0"),
                    )
                }
                StepKind::Run(r) if r.argv.is_empty() => out.push(Diag::error(
                    place,
                    format!("{owner}, step `{}`: run needs a non-empty argv", name),
                )),
                StepKind::WaitUntil(w) => {
                    let place = s.wait_until.as_ref().map(at).unwrap_or(place);
                    let what = format!("{owner}, step `{name}`: wait_until");
                    check_hold(rb, &what, place, &w.hold(), out);
                    if w.timeout.is_zero() {
                        out.push(
                            Diag::error(
                                place,
                                format!("{what} has a timeout of 0s: it can only fail"),
                            )
                            .hint("give how long the step may wait, e.g. timeout: 15m"),
                        );
                    } else if w.r#for > w.timeout {
                        out.push(
                            Diag::error(
                                place,
                                format!(
                                    "{what} must hold for {} but times out after {}: it can only fail",
                                    fmt_duration(w.r#for),
                                    fmt_duration(w.timeout)
                                ),
                            )
                            .hint("make the timeout longer than `for`"),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
