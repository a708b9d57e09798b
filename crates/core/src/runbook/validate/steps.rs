//! Checks of a phase's or a procedure's steps: exactly one action each, flags that exist with
//! values that fit, weights within 100, a command to run.

use super::at;
use crate::runbook::{Diag, FlagKind, ProcedureStep, Runbook, StepKind};

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
                    .hint("one of: switch_pool, set_flag, set_weights, set_image, set_env, restart, wait_rollout, run"),
            );
        }
        for a in actions {
            match a {
                StepKind::SetFlag(sf) => match rb.flag(&sf.flag) {
                    None => out.push(
                        Diag::error(
                            place,
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
                        place,
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
                _ => {}
            }
        }
    }
}
