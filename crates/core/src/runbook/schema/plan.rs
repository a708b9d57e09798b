//! The plan: teams, the rollout and its steps, the phases, the checklists, the go/no-go and the
//! rollback procedures.

use super::dur;
use super::{PoolName, ProcedureStep, Ref};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub responsibilities: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// The percent flag that drives the canary.
    pub flag: Ref,
    /// The pool that takes the canary traffic.
    pub pool: PoolName,
    /// The phase during which the rollout runs.
    pub phase: Ref,
    pub steps: Vec<RolloutStep>,
    /// Metrics that must not be critical (nor stale) to advance a step.
    #[serde(default)]
    pub gate: Vec<Ref>,
    /// Flags that must hold these values before a step (e.g. the feature switched on).
    #[serde(default)]
    pub requires_flags: RequiredFlags,
    /// What splits the traffic at each step: the load balancer's weights (and the flag), or
    /// the flag alone.
    #[serde(default)]
    pub split: Split,
    /// Whether the last step (100 %) makes the rollout's pool the active one. When false, the
    /// switch is its own step where the plan puts it (a phase's `switch_pool`, or `s`).
    #[serde(default = "yes")]
    pub last_step_switches: bool,
}

fn yes() -> bool {
    true
}

/// What splits the traffic between the pools at a rollout step.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// The flag is set and the load balancer's weights send the step's percent to the pool.
    #[default]
    Weights,
    /// Only the flag moves: the application routes that share of requests (a flag-only canary).
    Flag,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutStep {
    pub percent: Spanned<u32>,
    /// How long to watch the step before the next may start.
    #[serde(with = "dur")]
    pub bake: Duration,
    /// `two-person`: a second operator approves stepping to this percent.
    #[serde(default)]
    pub approval: Option<super::Approval>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub id: Spanned<String>,
    pub name: String,
    /// The plan's day number (Day 13 …).
    pub day: u32,
    #[serde(with = "dur")]
    pub duration: Duration,
    pub owner: Ref,
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Timed steps within the phase (e.g. the optimizations deployment).
    #[serde(default)]
    pub steps: Vec<PhaseStep>,
    /// The phase's validation: every item must be ticked before the phase completes.
    #[serde(default)]
    pub checklist: Vec<Item>,
    #[serde(default)]
    pub success_criteria: Vec<String>,
    /// Steps run through the adapters when the phase starts (migrations, deploys).
    #[serde(default)]
    pub on_start: Vec<ProcedureStep>,
    /// Starting this phase is destructive: typed confirmation.
    #[serde(default)]
    pub confirm: bool,
    /// `two-person`: a second operator approves starting this phase, and retrying or
    /// skipping its failed steps.
    #[serde(default)]
    pub approval: Option<super::Approval>,
    /// Conditions on metrics, each held for a time, that completing the phase waits for
    /// ("replication lag below 1 s for 10m"): a gate check each.
    #[serde(default)]
    pub exit_gate: Vec<Spanned<super::Hold>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseStep {
    pub name: String,
    #[serde(with = "dur")]
    pub duration: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: Spanned<String>,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub id: Spanned<String>,
    pub name: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoNoGo {
    /// The team that signs the decision.
    pub by: Ref,
    /// Checklists that must be complete before the decision can be GO.
    #[serde(default)]
    pub requires: Vec<Ref>,
    /// `two-person`: a second operator approves signing GO (a NO-GO never waits).
    #[serde(default)]
    pub approval: Option<super::Approval>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub id: Spanned<String>,
    pub name: String,
    /// The time the procedure must finish within.
    #[serde(with = "dur")]
    pub target: Duration,
    pub steps: Vec<ProcedureStep>,
    /// `two-person`: this rollback waits for a second operator's approval. Rollbacks never
    /// wait unless their procedure says so here (`warroom check` warns when one does).
    #[serde(default)]
    pub approval: Option<super::Approval>,
}

/// `rollout.requires_flags`: flag id → the value it must hold, in id order, each entry with the
/// place its id was written (so that `check` points at the entry, not at `rollout.flag`).
#[derive(Debug, Clone, Default)]
pub struct RequiredFlags {
    values: std::collections::BTreeMap<String, serde_json::Value>,
    places: std::collections::BTreeMap<String, serde_saphyr::Location>,
}

impl RequiredFlags {
    pub fn iter(&self) -> std::collections::btree_map::Iter<'_, String, serde_json::Value> {
        self.values.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Where entry `flag` was written, if it was read from a file.
    pub fn place(&self, flag: &str) -> Option<&serde_saphyr::Location> {
        self.places.get(flag)
    }
}

impl<'a> IntoIterator for &'a RequiredFlags {
    type Item = (&'a String, &'a serde_json::Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, serde_json::Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.values.iter()
    }
}

impl<'de> Deserialize<'de> for RequiredFlags {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RequiredFlags;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of flag id to the value it must hold")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<RequiredFlags, A::Error> {
                let mut out = RequiredFlags::default();
                while let Some((k, v)) = m.next_entry::<Spanned<String>, serde_json::Value>()? {
                    out.places.insert(k.value.clone(), k.referenced);
                    out.values.insert(k.value, v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}
