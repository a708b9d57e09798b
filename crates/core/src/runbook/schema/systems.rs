//! The systems the plan drives: the blue and green pools, the flags, and where the real
//! systems are (`targets`, with the load balancer's kinds).

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolName {
    Blue,
    Green,
}

impl PoolName {
    pub fn other(self) -> Self {
        match self {
            PoolName::Blue => PoolName::Green,
            PoolName::Green => PoolName::Blue,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PoolName::Blue => "blue",
            PoolName::Green => "green",
        }
    }
}

impl std::fmt::Display for PoolName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pools {
    pub blue: Placed<Pool>,
    pub green: Placed<Pool>,
    /// The pool serving production traffic before the deployment.
    #[serde(default = "default_active")]
    pub active: PoolName,
    /// How a request is routed to the canary pool, as the load balancer says it.
    #[serde(default)]
    pub canary_rule: Option<String>,
    /// A Kubernetes Service whose selector points at the active pool (`warroom run`): switching
    /// pools patches its selector to the pool's `labels`.
    #[serde(default)]
    pub service: Option<String>,
}

fn default_active() -> PoolName {
    PoolName::Blue
}

impl Pools {
    pub fn get(&self, name: PoolName) -> &Pool {
        match name {
            PoolName::Blue => &self.blue,
            PoolName::Green => &self.green,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// `host:port` of each server; `${VAR}` expands to a comma-separated list. May be empty
    /// when the pool has a `deployment` (its pods are then its servers).
    #[serde(default)]
    pub servers: Servers,
    #[serde(default = "default_health_path")]
    pub health_path: String,
    /// The Kubernetes Deployment behind this pool, if any. Without `servers`, the pool's
    /// health is its pods' readiness, watched through the Kubernetes API.
    #[serde(default)]
    pub deployment: Option<String>,
    /// The labels that select this pool's pods (e.g. `{app: backend, color: green}`): the
    /// Service selector when switching to it, and the pod selector for its health.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `two-person`: a second operator approves switching all traffic to this pool (`s`).
    /// The pool the deployment starts from should not be marked: a switch back to it is the
    /// way out, which should never wait (`warroom check` warns).
    #[serde(default)]
    pub approval: Option<Spanned<super::Approval>>,
}

fn default_health_path() -> String {
    "/health".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagKind {
    Bool,
    Percent,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub id: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub kind: FlagKind,
    /// `true`/`false` for a bool flag, 0..=100 for a percent flag.
    pub initial: Spanned<serde_json::Value>,
    /// The environment variable on the Deployment that mirrors this flag.
    #[serde(default)]
    pub env: Option<String>,
    /// Flipping this flag is destructive: the dialog asks for a typed phrase.
    #[serde(default)]
    pub confirm: bool,
    /// `two-person`: a second operator approves flipping this flag.
    #[serde(default)]
    pub approval: Option<super::Approval>,
}

/// Endpoints of the real systems. Values accept `${VAR}` and `${VAR:-default}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default)]
    pub prometheus: Option<Spanned<String>>,
    /// A URL (the `http` kind) or a mapping with `kind: http | unleash`.
    #[serde(default)]
    pub flags: Option<Spanned<FlagsTarget>>,
    /// A URL (the `http` kind) or a mapping with `kind: http | haproxy | nginx`.
    #[serde(default)]
    pub load_balancer: Option<Spanned<LbTarget>>,
    #[serde(default)]
    pub database: Option<Spanned<String>>,
    #[serde(default)]
    pub kubeconfig: Option<Spanned<String>>,
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
}

/// `targets.flags`: the old URL string (the `http` kind), or a mapping whose `kind` says
/// which flag server it is. Which keys a kind needs is checked by `warroom check`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FlagsTarget {
    Url(String),
    Spec(Box<FlagsSpec>),
}

/// The flag server kinds, as `check` lists them.
pub const FLAG_KINDS: &[&str] = &["http", "unleash"];

impl FlagsTarget {
    /// The kind: `http` for a bare URL.
    pub fn kind(&self) -> &str {
        match self {
            FlagsTarget::Url(_) => "http",
            FlagsTarget::Spec(s) => s.kind.as_deref().unwrap_or("http"),
        }
    }
}

/// The mapping form of `targets.flags`. Every string accepts `${VAR}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FlagsSpec {
    #[serde(default)]
    pub kind: Option<String>,
    /// http: the flag API's base URL; unleash: the server's base URL.
    #[serde(default)]
    pub url: Option<String>,
    /// http: the path of the flags under `url` (default `/internal/feature-flags`): GET
    /// answers them, POST merges changes.
    #[serde(default)]
    pub path: Option<String>,
    /// unleash: an admin API token — a secret: give it as `${VAR}`, never literally.
    #[serde(default)]
    pub token: Option<String>,
    /// unleash: the environment whose on/off and rollout the flags are (`production`).
    #[serde(default)]
    pub environment: Option<String>,
    /// unleash: the project of the features (`default`).
    #[serde(default)]
    pub project: Option<String>,
    /// unleash: the feature of a flag whose feature is not named like the flag (flag id →
    /// feature name); two flags may name one feature (its on/off and its rollout).
    #[serde(default)]
    pub features: std::collections::BTreeMap<String, String>,
    /// Keys no kind knows: reported by `check`.
    #[serde(flatten)]
    pub unknown: std::collections::BTreeMap<String, serde_json::Value>,
}

/// `targets.load_balancer`: the old URL string (the `http` kind), or a mapping whose `kind`
/// says which balancer it is and what it needs. Which keys a kind needs is checked by
/// `warroom check` (validate/targets.rs), so that a missing key is named, not a YAML type error.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum LbTarget {
    Url(String),
    Spec(Box<LbSpec>),
}

/// The load balancer kinds, as `check` lists them.
pub const LB_KINDS: &[&str] = &["http", "haproxy", "nginx"];

impl LbTarget {
    /// The kind: `http` for a bare URL.
    pub fn kind(&self) -> &str {
        match self {
            LbTarget::Url(_) => "http",
            LbTarget::Spec(s) => s.kind.as_deref().unwrap_or("http"),
        }
    }
}

/// The mapping form of `targets.load_balancer`. Every value accepts `${VAR}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LbSpec {
    #[serde(default)]
    pub kind: Option<String>,
    /// http: the control API's base URL.
    #[serde(default)]
    pub url: Option<String>,
    /// http: where the status is read (default `/status`).
    #[serde(default)]
    pub status_path: Option<String>,
    /// http: where the weights are posted (default `/weights`).
    #[serde(default)]
    pub weights_path: Option<String>,
    /// http: where a switch is posted, `{pool}` standing for blue or green (default
    /// `/switch-to-{pool}`).
    #[serde(default)]
    pub switch_path: Option<String>,
    /// haproxy: the runtime API's unix socket.
    #[serde(default)]
    pub socket: Option<String>,
    /// haproxy: the map file whose `map_key` holds green's share in percent.
    #[serde(default)]
    pub map: Option<String>,
    #[serde(default)]
    pub map_key: Option<String>,
    #[serde(default)]
    pub blue_backend: Option<String>,
    #[serde(default)]
    pub green_backend: Option<String>,
    /// haproxy: where server states are saved (`show servers state`), optional.
    #[serde(default)]
    pub state_file: Option<String>,
    /// nginx: the included file warroom owns.
    #[serde(default)]
    pub include: Option<String>,
    /// nginx: the main configuration, for `nginx -t`.
    #[serde(default)]
    pub config: Option<String>,
    /// nginx: the reload command, as an argv.
    #[serde(default)]
    pub reload: Option<Vec<String>>,
    /// nginx: the configuration test command, as an argv.
    #[serde(default)]
    pub test: Option<Vec<String>>,
    /// nginx: a URL whose `X-Config-Version` response header names the serving config.
    #[serde(default)]
    pub version_url: Option<String>,
    /// Keys no kind knows: reported by `check` (untagged enums cannot deny them by name).
    #[serde(flatten)]
    pub unknown: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A value with the place it was written (for `check`), read and written as the value itself.
#[derive(Debug, Clone, Default)]
pub struct Placed<T> {
    value: T,
    place: Option<(u64, u64)>,
}

impl<T> Placed<T> {
    /// Where it was written, if it was read from a file.
    pub fn place(&self) -> Option<(u64, u64)> {
        self.place
    }
}

impl<T> std::ops::Deref for Placed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> std::ops::DerefMut for Placed<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Placed<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<T>::deserialize(d)?;
        Ok(Placed {
            place: spanned_place(&s),
            value: s.value,
        })
    }
}

fn spanned_place<T>(s: &Spanned<T>) -> Option<(u64, u64)> {
    let l = &s.referenced;
    (l.line() > 0).then(|| (l.line(), l.column().max(1)))
}

/// A pool's servers as written (`host:port` or a `${VAR}` that expands to a list), each with
/// the place it was written, so that `check` points at the entry. Reads as the list.
#[derive(Debug, Clone, Default)]
pub struct Servers {
    list: Vec<String>,
    places: Vec<(u64, u64)>,
}

impl Servers {
    /// Where entry `i` was written, if it was read from a file.
    pub fn place(&self, i: usize) -> Option<(u64, u64)> {
        self.places.get(i).copied()
    }
}

impl std::ops::Deref for Servers {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.list
    }
}

impl std::ops::DerefMut for Servers {
    fn deref_mut(&mut self) -> &mut Vec<String> {
        self.places.clear();
        &mut self.list
    }
}

impl<'de> Deserialize<'de> for Servers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<Spanned<String>> = Vec::deserialize(d)?;
        Ok(Servers {
            places: v
                .iter()
                .map(|s| spanned_place(s).unwrap_or((1, 1)))
                .collect(),
            list: v.into_iter().map(|s| s.value).collect(),
        })
    }
}
