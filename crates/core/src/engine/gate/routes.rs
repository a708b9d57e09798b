//! Routes: the systems that can carry out a step, by capability rather than source name, and
//! the check that one of them is answering.

use super::checks::check;
use crate::engine::SourceId;
use crate::engine::action::{Check, PlannedStep};
use crate::engine::state::State;
use crate::runbook::{CheckKey, Runbook, StepKind};

/// The systems that can carry out a step, in order of preference: a capability, not a source
/// name. Flags are set through the flag API, or on the pools' Deployments when the flag has an
/// environment-variable twin; traffic moves through the load balancer, or a Service selector.
pub fn routes(step: &StepKind, rb: &Runbook) -> Option<(&'static str, Vec<SourceId>)> {
    let deployments = rb.pools.blue.deployment.is_some() || rb.pools.green.deployment.is_some();
    Some(match step {
        StepKind::SetFlag(f) => {
            let mut r = vec![SourceId::Flags];
            if deployments && rb.flag(&f.flag).is_some_and(|x| x.env.is_some()) {
                r.push(SourceId::Kube);
            }
            ("flags can be set", r)
        }
        StepKind::SwitchPool(_) => {
            let mut r = vec![SourceId::Lb];
            if rb.pools.service.is_some() {
                r.push(SourceId::Kube);
            }
            ("traffic can be switched", r)
        }
        StepKind::SetWeights { .. } => ("traffic can be split", vec![SourceId::Lb]),
        StepKind::ServerState(_) => ("servers can be drained", vec![SourceId::Lb]),
        StepKind::SetImage(_)
        | StepKind::SetEnv(_)
        | StepKind::Restart { .. }
        | StepKind::WaitRollout { .. } => ("Kubernetes answering", vec![SourceId::Kube]),
        StepKind::Run(_) | StepKind::WaitUntil(_) => return None,
    })
}

/// The error a source reported last, if it is failing.
pub(in crate::engine) fn source_error(st: &State, source: SourceId) -> Option<&str> {
    st.source_errors
        .iter()
        .find(|(k, _)| k.source == source)
        .map(|(_, (msg, _, _))| msg.as_str())
}

/// One check per capability the steps need: passes when one of its routes is answering.
pub(super) fn route_checks(st: &State, rb: &Runbook, steps: &[PlannedStep]) -> Vec<Check> {
    let mut out: Vec<Check> = Vec::new();
    for s in steps {
        let Some((name, routes)) = routes(&s.kind, rb) else {
            continue;
        };
        if out.iter().any(|c| c.name == name) {
            continue;
        }
        let via = routes.iter().find(|r| source_error(st, **r).is_none());
        out.push(check(
            CheckKey::Route,
            name,
            via.is_some(),
            match via {
                Some(r) => format!("through {r}"),
                None => routes
                    .iter()
                    .map(|r| format!("{r}: {}", source_error(st, *r).unwrap_or("?")))
                    .collect::<Vec<_>>()
                    .join("; "),
            },
        ));
    }
    out
}
