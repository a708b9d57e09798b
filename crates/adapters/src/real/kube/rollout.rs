//! Whether a Deployment is rolled out, judged as `kubectl rollout status` judges it, and the
//! wait until it is (`wait_rollout`).

use super::Kube;
use crate::real::fmt_secs;
use k8s_openapi::api::apps::v1::Deployment;
use std::time::{Duration, Instant};

/// Where a rollout stands, as `kubectl rollout status` judges it.
#[derive(Debug, Clone, PartialEq)]
pub enum Rollout {
    Done(String),
    Waiting(String),
    Failed(String),
}

/// Judge a Deployment's rollout from its spec and status.
pub fn rollout_state(d: &Deployment) -> Rollout {
    let name = d.metadata.name.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(st) = &d.status else {
        return Rollout::Waiting(format!("deployment/{name}: no status yet"));
    };
    if st.observed_generation.unwrap_or(0) < generation {
        return Rollout::Waiting(format!(
            "deployment/{name}: waiting for the spec update to be observed"
        ));
    }
    if let Some(c) = st.conditions.as_ref().and_then(|cs| {
        cs.iter()
            .find(|c| c.type_.as_deref() == Some("Progressing"))
    }) && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    {
        return Rollout::Failed(format!(
            "deployment/{name} exceeded its progress deadline{}",
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    let want = d.spec.replicas.unwrap_or(1);
    let updated = st.updated_replicas.unwrap_or(0);
    let total = st.replicas.unwrap_or(0);
    let ready = st.ready_replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < want {
        return Rollout::Waiting(format!(
            "deployment/{name}: {updated} of {want} new replicas updated"
        ));
    }
    if total > updated {
        return Rollout::Waiting(format!(
            "deployment/{name}: {} old replicas pending termination",
            total - updated
        ));
    }
    if ready < want {
        return Rollout::Waiting(format!(
            "deployment/{name}: {ready} of {want} replicas ready"
        ));
    }
    if available < updated {
        return Rollout::Waiting(format!(
            "deployment/{name}: {available} of {updated} updated replicas available"
        ));
    }
    Rollout::Done(format!(
        "deployment/{name} rolled out: {updated} updated, {ready} ready, {available} available of {want}"
    ))
}

impl Kube {
    /// `kubectl rollout status deployment/NAME`: read until rolled out, failed, or `limit`
    /// (default: the Deployment's progress deadline, 600 s unless set, plus 30 s).
    pub async fn wait_rollout(
        &self,
        name: &str,
        limit: Option<Duration>,
    ) -> Result<String, String> {
        let started = Instant::now();
        let mut last: String;
        let mut limit = limit;
        loop {
            match self.get(name).await {
                Ok(d) => {
                    if limit.is_none() {
                        let deadline =
                            d.spec.progress_deadline_seconds.unwrap_or(600).max(1) as u64;
                        limit = Some(Duration::from_secs(deadline + 30));
                    }
                    match rollout_state(&d) {
                        Rollout::Done(s) => {
                            return Ok(format!("{s} in {}", fmt_secs(round(started.elapsed()))));
                        }
                        Rollout::Failed(s) => return Err(s),
                        Rollout::Waiting(s) => last = s,
                    }
                }
                // A read that fails is retried until the limit: the API server may blip.
                Err(e) => last = e,
            }
            let bound = limit.unwrap_or(Duration::from_secs(630));
            if started.elapsed() + self.poll_every > bound {
                return Err(format!(
                    "deployment/{name} not rolled out within {}: {last}",
                    fmt_secs(bound)
                ));
            }
            tokio::time::sleep(self.poll_every).await;
        }
    }
}

fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64 / 100 * 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(v: serde_json::Value) -> Deployment {
        match serde_json::from_value(v) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn judges_rollouts_like_kubectl() {
        let base = |status: serde_json::Value| {
            dep(json!({
                "metadata": {"name": "web", "generation": 3},
                "spec": {"replicas": 3, "selector": {}, "template": {}},
                "status": status
            }))
        };
        let done = base(
            json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3}),
        );
        assert!(matches!(rollout_state(&done), Rollout::Done(_)));
        let stale = base(
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3}),
        );
        assert!(matches!(rollout_state(&stale), Rollout::Waiting(_)));
        let halfway = base(
            json!({"observedGeneration": 3, "replicas": 4, "updatedReplicas": 2,
            "readyReplicas": 3, "availableReplicas": 3}),
        );
        assert_eq!(
            rollout_state(&halfway),
            Rollout::Waiting("deployment/web: 2 of 3 new replicas updated".into())
        );
        let stuck = base(
            json!({"observedGeneration": 3, "replicas": 4, "updatedReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "False",
                "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet web-2 has timed out progressing."}]}),
        );
        assert!(
            matches!(rollout_state(&stuck), Rollout::Failed(m) if m.contains("progress deadline"))
        );
    }
}
