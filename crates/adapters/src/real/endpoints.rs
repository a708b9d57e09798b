//! Where the real systems are: the runbook's targets after `${VAR}` expansion (`Endpoints`),
//! and the source clients they configure (`Sources`), with what is missing said once.

use super::{
    NOT_CONFIGURED, balancer, flag_server::FlagServer, flags, health, pods, postgres, prometheus,
    unleash,
};
use crate::engine::SourceError;
use crate::engine::SourceId;
use crate::runbook::{PoolName, Runbook, expand, redact};
use std::path::PathBuf;
use std::time::Duration;

/// The endpoints of a runbook's targets after `${VAR}` expansion. A target that expands to
/// the empty string is `None` ("not configured").
#[derive(Clone, Default)]
pub struct Endpoints {
    pub prometheus: Option<String>,
    /// The `http` flag API's base URL.
    pub flags: Option<String>,
    /// The `http` flag API's path under it (`targets.flags.path`), when not the default.
    pub flags_path: Option<String>,
    /// The `http` load balancer's paths.
    pub lb_paths: super::lb::Paths,
    /// A flag server of kind `unleash` (its token is never printed).
    pub flag_server: Option<unleash::Config>,
    pub load_balancer: Option<String>,
    /// A load balancer of kind `haproxy` or `nginx` (`load_balancer` is the `http` kind's URL).
    pub balancer: Option<balancer::LbConfig>,
    /// A connection URL with a password in it: never print it, use `redact`.
    pub database: Option<String>,
    /// Kubeconfig files (`targets.kubeconfig`, else `KUBECONFIG`, which may list several).
    pub kubeconfig: Vec<PathBuf>,
    /// Use the in-cluster service account (no kubeconfig, `KUBERNETES_SERVICE_HOST` set).
    pub in_cluster: bool,
    pub namespace: Option<String>,
    /// `host:port` of each server, `${VAR}` expanded and split on commas.
    pub blue: Vec<String>,
    pub green: Vec<String>,
    pub blue_health_path: String,
    pub green_health_path: String,
    /// Targets that could not be expanded: `(source, message)`.
    pub problems: Vec<SourceError>,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("prometheus", &self.prometheus.as_deref().map(redact))
            .field("flags", &self.flags.as_deref().map(redact))
            .field("flag_server", &self.flag_server)
            .field("load_balancer", &self.load_balancer.as_deref().map(redact))
            .field(
                "balancer",
                &self.balancer.as_ref().map(|b| redact(&format!("{b:?}"))),
            )
            .field("database", &self.database.as_deref().map(redact))
            .field("kubeconfig", &self.kubeconfig)
            .field("in_cluster", &self.in_cluster)
            .field("namespace", &self.namespace)
            .field("blue", &self.blue)
            .field("green", &self.green)
            .finish()
    }
}

impl Endpoints {
    /// Expand the runbook's targets and pool servers with `lookup` (the process environment
    /// in production).
    pub fn resolve(rb: &Runbook, lookup: &dyn Fn(&str) -> Option<String>) -> Endpoints {
        let mut problems = Vec::new();
        let mut one = |source: SourceId, v: &Option<String>| -> Option<String> {
            let v = v.as_deref()?;
            match expand(v, lookup) {
                Ok(e) => Some(e.value.trim().to_string()).filter(|s| !s.is_empty()),
                Err(e) => {
                    problems.push(SourceError {
                        source: source.into(),
                        message: redact(&e),
                    });
                    None
                }
            }
        };
        let t = &rb.targets;
        let prometheus = one(
            SourceId::Prometheus,
            &t.prometheus.as_ref().map(|v| v.value.clone()),
        );
        let (flags, flag_server) = match t.flags.as_ref().map(|v| &v.value) {
            None => (None, None),
            Some(crate::runbook::FlagsTarget::Url(u)) => {
                (one(SourceId::Flags, &Some(u.clone())), None)
            }
            Some(crate::runbook::FlagsTarget::Spec(spec)) => match spec.kind.as_deref() {
                None | Some("http") => (one(SourceId::Flags, &spec.url), None),
                Some("unleash") => (None, Some(unleash::Config::resolve(spec, lookup))),
                Some(other) => (
                    None,
                    Some(Err(format!(
                        "targets.flags.kind: unknown kind `{other}` (one of: {})",
                        crate::runbook::FLAG_KINDS.join(", ")
                    ))),
                ),
            },
        };
        let (load_balancer, balancer) = match t.load_balancer.as_ref().map(|v| &v.value) {
            None => (None, None),
            Some(crate::runbook::LbTarget::Url(u)) => (one(SourceId::Lb, &Some(u.clone())), None),
            Some(crate::runbook::LbTarget::Spec(spec)) => match spec.kind.as_deref() {
                None | Some("http") => (one(SourceId::Lb, &spec.url), None),
                Some(_) => (None, Some(balancer::LbConfig::resolve(spec, lookup))),
            },
        };
        let database = one(
            SourceId::Postgres,
            &t.database.as_ref().map(|v| v.value.clone()),
        );
        let namespace = one(
            SourceId::Kube,
            &t.namespace.as_ref().map(|v| v.value.clone()),
        );
        let kubeconfig = match one(
            SourceId::Kube,
            &t.kubeconfig.as_ref().map(|v| v.value.clone()),
        ) {
            Some(p) => vec![PathBuf::from(p)],
            None => lookup("KUBECONFIG")
                .unwrap_or_default()
                .split(':')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect(),
        };
        let (flags_path, lb_paths) = http_paths(t, &mut one);
        let in_cluster = kubeconfig.is_empty()
            && lookup("KUBERNETES_SERVICE_HOST").is_some_and(|h| !h.is_empty());
        let flag_server = match flag_server {
            Some(Err(e)) => {
                problems.push(SourceError {
                    source: SourceId::Flags.into(),
                    message: redact(&e),
                });
                None
            }
            Some(Ok(c)) => Some(c),
            None => None,
        };
        let balancer = match balancer {
            Some(Err(e)) => {
                problems.push(SourceError {
                    source: SourceId::Lb.into(),
                    message: redact(&e),
                });
                None
            }
            Some(Ok(c)) => Some(c),
            None => None,
        };
        let mut servers = |pool: PoolName| -> Vec<String> {
            crate::runbook::server_list(&rb.pools.get(pool).servers, lookup).unwrap_or_else(|e| {
                problems.push(SourceError {
                    source: SourceId::Health.into(),
                    message: format!("pools.{pool}.servers: {}", redact(&e)),
                });
                Vec::new()
            })
        };
        let blue = servers(PoolName::Blue);
        let green = servers(PoolName::Green);
        Endpoints {
            prometheus,
            flags,
            flags_path,
            lb_paths,
            flag_server,
            load_balancer,
            balancer,
            database,
            kubeconfig,
            in_cluster,
            namespace,
            blue,
            green,
            blue_health_path: rb.pools.blue.health_path.clone(),
            green_health_path: rb.pools.green.health_path.clone(),
            problems,
        }
    }

    /// From the process environment.
    pub fn from_env(rb: &Runbook) -> Endpoints {
        Endpoints::resolve(rb, &|k| std::env::var(k).ok())
    }

    pub fn kube_configured(&self) -> bool {
        !self.kubeconfig.is_empty() || self.in_cluster
    }
}

/// The sources a runbook's targets configure, ready to read.
pub struct Sources {
    pub prometheus: Option<prometheus::Prometheus>,
    pub flags: Option<FlagServer>,
    pub lb: Option<balancer::Balancer>,
    pub health: Option<health::Health>,
    pub postgres: Option<postgres::Postgres>,
    /// Sources that are not configured or could not be set up: reported once.
    pub unavailable: Vec<SourceError>,
}

impl Sources {
    /// Build the clients (no IO yet: the database connects on first use). Kubernetes is
    /// handled apart (its client is built asynchronously).
    pub fn new(rb: &Runbook, ep: &Endpoints, timeout: Duration) -> Sources {
        let mut unavailable: Vec<SourceError> = ep.problems.clone();
        let mut missing = |source: SourceId, message: String| {
            if !unavailable.iter().any(|e| e.source.source == source) {
                unavailable.push(SourceError {
                    source: source.into(),
                    message,
                });
            }
        };
        let queries = prometheus::queries(rb);
        let prometheus = match &ep.prometheus {
            Some(url) if !queries.is_empty() => {
                match prometheus::Prometheus::new(url, timeout, queries) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        missing(SourceId::Prometheus, e);
                        None
                    }
                }
            }
            Some(_) => None,
            None => {
                if !queries.is_empty() {
                    missing(SourceId::Prometheus, NOT_CONFIGURED.into());
                }
                None
            }
        };
        let flags = match (&ep.flag_server, &ep.flags) {
            (Some(cfg), _) => match unleash::Unleash::new(cfg.clone(), timeout, &rb.flags) {
                Ok(u) => Some(FlagServer::Unleash(u)),
                Err(e) => {
                    missing(SourceId::Flags, e);
                    None
                }
            },
            (None, Some(url)) => match flags::FlagApi::at(
                url,
                ep.flags_path.as_deref().unwrap_or(flags::PATH),
                timeout,
                &rb.flags,
            ) {
                Ok(f) => Some(FlagServer::Http(f)),
                Err(e) => {
                    missing(SourceId::Flags, e);
                    None
                }
            },
            (None, None) => {
                missing(SourceId::Flags, NOT_CONFIGURED.into());
                None
            }
        };
        let lb = match balancer::Balancer::new(
            ep.load_balancer.as_deref(),
            ep.balancer.as_ref(),
            timeout,
        ) {
            Some(Ok(balancer::Balancer::Http(l))) => {
                Some(balancer::Balancer::Http(l.with_paths(ep.lb_paths.clone())))
            }
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => {
                missing(SourceId::Lb, e);
                None
            }
            None => {
                missing(SourceId::Lb, NOT_CONFIGURED.into());
                None
            }
        };
        let health = if ep.blue.is_empty() && ep.green.is_empty() {
            // Pools whose pods are watched need no HTTP checks.
            if !(ep.kube_configured() && pods::pod_pools(rb, &ep.blue, &ep.green).len() == 2) {
                missing(SourceId::Health, "no pool servers after expansion".into());
            }
            None
        } else {
            match health::Health::new(ep, timeout) {
                Ok(h) => Some(h),
                Err(e) => {
                    missing(SourceId::Health, e);
                    None
                }
            }
        };
        let postgres = match &ep.database {
            Some(url) => match postgres::Postgres::new(url, timeout, postgres::metric_ids(rb))
                .map(|p| p.with_checks(postgres::sql_checks(rb)))
            {
                Ok(p) => Some(p),
                Err(e) => {
                    missing(SourceId::Postgres, e);
                    None
                }
            },
            None => {
                missing(SourceId::Postgres, NOT_CONFIGURED.into());
                None
            }
        };
        Sources {
            prometheus,
            flags,
            lb,
            health,
            postgres,
            unavailable,
        }
    }
}

/// The `http` kinds' paths from `targets`: the flags' path, the load balancer's calls (each
/// defaulting to the seed system's).
/// `${VAR}` in them expanded by `one`, as every target string is.
fn http_paths(
    t: &crate::runbook::Targets,
    one: &mut dyn FnMut(SourceId, &Option<String>) -> Option<String>,
) -> (Option<String>, super::lb::Paths) {
    let flags_path = match t.flags.as_ref().map(|v| &v.value) {
        Some(crate::runbook::FlagsTarget::Spec(s)) => one(SourceId::Flags, &s.path),
        _ => None,
    };
    let mut paths = super::lb::Paths::default();
    if let Some(crate::runbook::LbTarget::Spec(s)) = t.load_balancer.as_ref().map(|v| &v.value) {
        for (path, given) in [
            (&mut paths.status, &s.status_path),
            (&mut paths.weights, &s.weights_path),
            (&mut paths.switch, &s.switch_path),
        ] {
            if let Some(p) = one(SourceId::Lb, given) {
                *path = p;
            }
        }
    }
    (flags_path, paths)
}
