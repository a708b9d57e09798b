//! The load balancer by kind: the `http` control API (lb.rs), HAProxy's runtime API
//! (haproxy.rs) or nginx's configuration (nginx.rs). Whatever the kind, it is the source `lb`,
//! so the gates' capability routes (SwitchPool and SetWeights go through `lb`) hold unchanged.

use super::{Source, haproxy, lb, nginx};
use crate::engine::Observation;
use crate::engine::SourceId;
use crate::runbook::{LbSpec, PoolName, expand};
use std::time::Duration;

/// A `haproxy` or `nginx` load balancer's settings, `${VAR}` expanded, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum LbConfig {
    Haproxy(haproxy::Config),
    Nginx(nginx::Config),
}

impl LbConfig {
    /// Expand a mapping of kind `haproxy` or `nginx`; an error names the key.
    pub fn resolve(spec: &LbSpec, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let keys = Keys {
            target: "targets.load_balancer",
            lookup,
        };
        let one = |key: &str, v: &Option<String>| keys.one(key, v);
        let need = |key: &str, v: &Option<String>| keys.need(key, v);
        let argv = |key: &str, v: &Option<Vec<String>>| -> Result<Option<Vec<String>>, String> {
            let Some(v) = v else { return Ok(None) };
            let mut out = Vec::with_capacity(v.len());
            for a in v {
                out.push(
                    expand(a, lookup)
                        .map_err(|e| format!("targets.load_balancer.{key}: {e}"))?
                        .value,
                );
            }
            Ok(Some(out).filter(|a: &Vec<String>| !a.is_empty()))
        };
        match spec.kind.as_deref() {
            Some("haproxy") => Ok(LbConfig::Haproxy(haproxy::Config {
                socket: need("socket", &spec.socket)?.into(),
                map: need("map", &spec.map)?,
                map_key: one("map_key", &spec.map_key)?.unwrap_or_else(|| "canary".into()),
                blue_backend: one("blue_backend", &spec.blue_backend)?
                    .unwrap_or_else(|| "blue".into()),
                green_backend: one("green_backend", &spec.green_backend)?
                    .unwrap_or_else(|| "green".into()),
                state_file: one("state_file", &spec.state_file)?.map(Into::into),
            })),
            Some("nginx") => {
                let config = need("config", &spec.config)?;
                Ok(LbConfig::Nginx(nginx::Config {
                    include: need("include", &spec.include)?.into(),
                    reload: argv("reload", &spec.reload)?.unwrap_or_else(|| {
                        vec![
                            "nginx".into(),
                            "-c".into(),
                            config.clone(),
                            "-s".into(),
                            "reload".into(),
                        ]
                    }),
                    test: argv("test", &spec.test)?.unwrap_or_else(|| {
                        vec!["nginx".into(), "-t".into(), "-c".into(), config.clone()]
                    }),
                    config: config.into(),
                    version_url: one("version_url", &spec.version_url)?,
                }))
            }
            Some(other) => Err(format!(
                "targets.load_balancer.kind: unknown kind `{other}` (one of: {})",
                crate::runbook::LB_KINDS.join(", ")
            )),
            None => Err("targets.load_balancer: no kind".into()),
        }
    }
}

/// A target mapping's keys, `${VAR}` expanded, an error naming the key (never a value).
pub(crate) struct Keys<'a> {
    pub target: &'a str,
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Keys<'_> {
    /// The key's value, trimmed; `None` when absent or empty.
    pub fn one(&self, key: &str, v: &Option<String>) -> Result<Option<String>, String> {
        match v.as_deref() {
            None => Ok(None),
            Some(v) => expand(v, self.lookup)
                .map(|e| Some(e.value.trim().to_string()).filter(|s| !s.is_empty()))
                .map_err(|e| format!("{}.{key}: {e}", self.target)),
        }
    }

    /// The key's value, which the kind needs.
    pub fn need(&self, key: &str, v: &Option<String>) -> Result<String, String> {
        self.one(key, v)?
            .ok_or_else(|| format!("{}.{key}: {}", self.target, super::NOT_CONFIGURED))
    }
}

/// A step's outcome and what the balancer said after it (to show at once).
pub type Outcome = (Result<String, String>, Option<Observation>);

/// The configured load balancer, whatever its kind.
#[derive(Debug, Clone)]
pub enum Balancer {
    Http(lb::LoadBalancer),
    Haproxy(haproxy::Haproxy),
    Nginx(nginx::Nginx),
}

impl Balancer {
    pub fn new(
        url: Option<&str>,
        cfg: Option<&LbConfig>,
        timeout: Duration,
    ) -> Option<Result<Self, String>> {
        match (cfg, url) {
            (Some(LbConfig::Haproxy(c)), _) => Some(Ok(Balancer::Haproxy(haproxy::Haproxy::new(
                c.clone(),
                timeout,
            )))),
            (Some(LbConfig::Nginx(c)), _) => {
                Some(Ok(Balancer::Nginx(nginx::Nginx::new(c.clone(), timeout))))
            }
            (None, Some(u)) => Some(lb::LoadBalancer::new(u, timeout).map(Balancer::Http)),
            (None, None) => None,
        }
    }

    /// Point all traffic at `to`; the outcome is what the balancer says after.
    pub async fn switch(&self, to: PoolName) -> Result<Outcome, String> {
        match self {
            Balancer::Http(l) => {
                let (out, back) = l.switch(to).await?;
                Ok((out, back.as_ref().map(lb::observation)))
            }
            Balancer::Haproxy(h) => Ok(h.set_share(full(to), &format!("switch to {to}")).await),
            Balancer::Nginx(n) => Ok(n.set_share(full(to), &format!("switch to {to}")).await),
        }
    }

    /// Send `green` percent of the traffic to green.
    pub async fn set_weights(&self, green: u32) -> Result<Outcome, String> {
        let green = green.min(100);
        match self {
            Balancer::Http(l) => {
                let (out, back) = l.set_weights(green).await?;
                Ok((out, back.as_ref().map(lb::observation)))
            }
            Balancer::Haproxy(h) => Ok(h.set_share(green, &format!("canary {green}%")).await),
            Balancer::Nginx(n) => Ok(n.set_share(green, &format!("canary {green}%")).await),
        }
    }

    /// Drain a server, put it in maintenance or back in service: HAProxy only (nginx's and
    /// the control API's servers have no admin state warroom can set).
    pub async fn server_state(&self, s: &crate::runbook::ServerState) -> Result<Outcome, String> {
        match self {
            Balancer::Haproxy(h) => Ok(h.set_server_state(&s.server, s.state).await),
            Balancer::Http(_) | Balancer::Nginx(_) => Err(format!(
                "lb: this load balancer's kind cannot drain a server ({} {}): only kind haproxy can",
                s.server,
                s.state.as_str()
            )),
        }
    }

    /// What a dry run of a change would do, when the kind can say (nginx: the diff).
    pub async fn preview(&self, green: u32) -> Option<String> {
        match self {
            Balancer::Nginx(n) => Some(n.preview(green).await),
            Balancer::Haproxy(h) => Some(h.preview(green)),
            Balancer::Http(_) => None,
        }
    }
}

/// Green's share for a full switch.
fn full(to: PoolName) -> u32 {
    match to {
        PoolName::Blue => 0,
        PoolName::Green => 100,
    }
}

impl Source for Balancer {
    fn name(&self) -> SourceId {
        SourceId::Lb
    }

    async fn read(&self) -> Observation {
        match self {
            Balancer::Http(l) => l.read().await,
            Balancer::Haproxy(h) => h.read().await,
            Balancer::Nginx(n) => n.read().await,
        }
    }

    fn failed(&self, message: String) -> Observation {
        super::failure(SourceId::Lb, &message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real::Endpoints;

    fn endpoints(fixture: &str) -> Endpoints {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(fixture);
        let rb = crate::runbook::load(&path).expect("fixture loads").runbook;
        Endpoints::resolve(&rb, &|k| {
            (k == "WARROOM_LB_URL").then(|| "http://lb:1".into())
        })
    }

    #[test]
    fn the_http_mapping_is_the_old_url() {
        let ep = endpoints("lb-http.yaml");
        assert_eq!(ep.load_balancer.as_deref(), Some("http://lb:1"));
        assert!(ep.balancer.is_none());
    }

    #[test]
    fn nginx_takes_the_runbook_argv_and_defaults_the_rest() {
        let ep = endpoints("lb-nginx.yaml");
        let Some(LbConfig::Nginx(c)) = ep.balancer else {
            panic!("nginx: {:?}", ep.balancer);
        };
        assert_eq!(c.reload, ["nginx", "-p", "/srv/lab", "-s", "reload"]);
        assert_eq!(c.test, ["nginx", "-t", "-c", "/etc/nginx/nginx.conf"]);
        assert_eq!(c.version_url.as_deref(), Some("http://127.0.0.1:8080/"));
        assert!(ep.load_balancer.is_none());
    }
}
