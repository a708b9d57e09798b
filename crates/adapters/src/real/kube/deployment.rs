//! The runbook's Deployment writes, as kubectl does them: `set_image`, `set_env`, `restart`;
//! each read back, each previewable by a server-side dry run (`preview`).

use super::{FIELD_MANAGER, Kube};
use crate::runbook::StepKind;
use ::kube::api::{Patch, PatchParams};
use k8s_openapi::api::apps::v1::Deployment;

/// The pod-template annotation `kubectl rollout restart` sets: a new value rolls the pods.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

fn container_names(d: &Deployment) -> Vec<String> {
    d.spec
        .template
        .spec
        .as_ref()
        .map(|p| p.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

fn container<'a>(
    d: &'a Deployment,
    name: &str,
) -> Option<&'a k8s_openapi::api::core::v1::Container> {
    d.spec
        .template
        .spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.name == name)
}

fn env_value(d: &Deployment, cont: &str, var: &str) -> Option<String> {
    container(d, cont)?
        .env
        .as_ref()?
        .iter()
        .find(|e| e.name == var)
        .map(|e| {
            e.value
                .clone()
                .unwrap_or_else(|| "(from a reference)".to_string())
        })
}

fn restarted_at(d: &Deployment) -> Option<String> {
    d.spec
        .template
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(RESTARTED_AT)
        .cloned()
}

impl Kube {
    async fn patch(
        &self,
        name: &str,
        body: serde_json::Value,
        dry_run: bool,
    ) -> Result<Deployment, String> {
        let params = PatchParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        self.bounded(
            &format!("patch deployment/{name}"),
            self.api().patch(name, &params, &Patch::Strategic(body)),
        )
        .await
    }

    fn check_container(d: &Deployment, name: &str, cont: &str) -> Result<(), String> {
        if container(d, cont).is_some() {
            return Ok(());
        }
        let names = container_names(d);
        Err(format!(
            "deployment/{name} has no container `{cont}` (containers: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
    }

    fn suffix(dry_run: bool, d: &Deployment) -> String {
        if dry_run {
            " (dry run: nothing changed)".into()
        } else {
            format!(
                " (generation {})",
                d.metadata.generation.unwrap_or_default()
            )
        }
    }

    /// `kubectl set image deployment/NAME CONTAINER=IMAGE`.
    pub async fn set_image(
        &self,
        name: &str,
        cont: &str,
        image: &str,
        dry_run: bool,
    ) -> Result<String, String> {
        let before = self.get(name).await?;
        Self::check_container(&before, name, cont)?;
        let old = container(&before, cont)
            .and_then(|c| c.image.clone())
            .unwrap_or_else(|| "(none)".into());
        let body = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": cont, "image": image}
        ]}}}});
        let after = self.patch(name, body, dry_run).await?;
        let new = container(&after, cont).and_then(|c| c.image.clone());
        if new.as_deref() != Some(image) {
            return Err(format!(
                "set deployment/{name} {cont} image {image}, read back {}",
                new.unwrap_or_else(|| "(none)".into())
            ));
        }
        Ok(format!(
            "deployment/{name}: container {cont} image {old} → {image}{}",
            Self::suffix(dry_run, &after)
        ))
    }

    /// `kubectl set env deployment/NAME VAR=VALUE`: every container of the Deployment.
    pub async fn set_env_all(&self, name: &str, var: &str, value: &str) -> Result<String, String> {
        let d = self.get(name).await?;
        let names = container_names(&d);
        if names.is_empty() {
            return Err(format!("deployment/{name} has no containers"));
        }
        let mut out = Vec::new();
        for c in names {
            out.push(self.set_env(name, &c, var, value, false).await?);
        }
        Ok(out.join("; "))
    }

    /// `kubectl set env deployment/NAME -c CONTAINER VAR=VALUE`.
    pub async fn set_env(
        &self,
        name: &str,
        cont: &str,
        var: &str,
        value: &str,
        dry_run: bool,
    ) -> Result<String, String> {
        let before = self.get(name).await?;
        Self::check_container(&before, name, cont)?;
        let old = env_value(&before, cont, var).unwrap_or_else(|| "(unset)".into());
        let body = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": cont, "env": [{"name": var, "value": value}]}
        ]}}}});
        let after = self.patch(name, body, dry_run).await?;
        let new = env_value(&after, cont, var);
        if new.as_deref() != Some(value) {
            return Err(format!(
                "set deployment/{name} {cont} env {var}={value}, read back {var}={}",
                new.unwrap_or_else(|| "(unset)".into())
            ));
        }
        Ok(format!(
            "deployment/{name}: container {cont} env {var} {old} → {value}{}",
            Self::suffix(dry_run, &after)
        ))
    }

    /// `kubectl rollout restart deployment/NAME`.
    pub async fn restart(&self, name: &str, dry_run: bool) -> Result<String, String> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let body = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {
            RESTARTED_AT: now
        }}}}});
        let after = self.patch(name, body, dry_run).await?;
        match restarted_at(&after) {
            Some(at) if at == now => Ok(format!(
                "deployment/{name}: restarted at {now}{}",
                Self::suffix(dry_run, &after)
            )),
            other => Err(format!(
                "restart deployment/{name}: wrote {RESTARTED_AT}={now}, read back {}",
                other.unwrap_or_else(|| "(none)".into())
            )),
        }
    }

    /// What a step would do, from a server-side dry run; `None` for steps that write nothing
    /// to Kubernetes.
    pub async fn preview(&self, step: &StepKind) -> Option<Result<String, String>> {
        Some(match step {
            StepKind::SetImage(s) => {
                self.set_image(&s.deployment, &s.container, &s.image, true)
                    .await
            }
            StepKind::SetEnv(s) => {
                self.set_env(&s.deployment, &s.container, &s.name, &s.value, true)
                    .await
            }
            StepKind::Restart { deployment } => self.restart(deployment, true).await,
            StepKind::SwitchPool(p) => {
                let svc = self.service.as_ref()?;
                self.switch_service(&svc.name, svc.labels(*p), true).await
            }
            _ => return None,
        })
    }
}
