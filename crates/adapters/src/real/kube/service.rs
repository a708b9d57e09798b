//! Repointing a Service at a pool: its selector set to the pool's labels (`pools.service`).

use super::{FIELD_MANAGER, Kube};
use crate::runbook::PoolName;
use ::kube::api::{Api, Patch, PatchParams};
use k8s_openapi::api::core::v1::Service;
use std::collections::BTreeMap;

/// The Service whose selector points at the active pool, and each pool's labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTarget {
    pub name: String,
    pub blue: BTreeMap<String, String>,
    pub green: BTreeMap<String, String>,
}

impl ServiceTarget {
    pub fn labels(&self, pool: PoolName) -> &BTreeMap<String, String> {
        match pool {
            PoolName::Blue => &self.blue,
            PoolName::Green => &self.green,
        }
    }
}

/// `app=backend,color=green`, or `(none)`.
pub fn fmt_selector(sel: &BTreeMap<String, String>) -> String {
    if sel.is_empty() {
        return "(none)".into();
    }
    sel.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn selector(s: &Service) -> BTreeMap<String, String> {
    s.spec
        .as_ref()
        .and_then(|sp| sp.selector.clone())
        .unwrap_or_default()
}

impl Kube {
    fn services(&self) -> Api<Service> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub async fn get_service(&self, name: &str) -> Result<Service, String> {
        self.bounded(&format!("get service/{name}"), self.services().get(name))
            .await
    }

    /// Point a Service at a pool: a strategic-merge patch of `spec.selector` to `labels`
    /// (keys that the selector has and `labels` lacks are removed), then the Service read back.
    /// A dry run (`dryRun=All`) changes nothing and is judged on the patch's answer.
    pub async fn switch_service(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<String, String> {
        if labels.is_empty() {
            return Err(format!(
                "service/{name}: the pool has no labels to select its pods"
            ));
        }
        let before = selector(&self.get_service(name).await?);
        let mut sel = serde_json::Map::new();
        for k in before.keys().filter(|k| !labels.contains_key(*k)) {
            sel.insert(k.clone(), serde_json::Value::Null);
        }
        for (k, v) in labels {
            sel.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        let body = serde_json::json!({"spec": {"selector": sel}});
        let params = PatchParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let patched = self
            .bounded(
                &format!("patch service/{name}"),
                self.services()
                    .patch(name, &params, &Patch::Strategic(body)),
            )
            .await?;
        let after = if dry_run {
            selector(&patched)
        } else {
            selector(&self.get_service(name).await?)
        };
        if &after != labels {
            return Err(format!(
                "set service/{name} selector {}, read back selector {}",
                fmt_selector(labels),
                fmt_selector(&after)
            ));
        }
        Ok(format!(
            "service/{name}: selector {} → {}{}",
            fmt_selector(&before),
            fmt_selector(&after),
            if dry_run {
                " (dry run: nothing changed)"
            } else {
                " (read back)"
            }
        ))
    }
}
