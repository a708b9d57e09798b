//! The plan's reference text, shown and exported but not acted on: the infrastructure, the
//! timeline, post-deployment tasks, risks, dashboards and communication channels.

use super::Ref;
use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Infrastructure {
    #[serde(default)]
    pub database: Option<Database>,
    #[serde(default)]
    pub application: Vec<EnvVar>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub master: String,
    #[serde(default)]
    pub replica: Option<String>,
    #[serde(default)]
    pub backup: Option<String>,
    #[serde(default)]
    pub migrations: Vec<String>,
    #[serde(default)]
    pub rollback_scripts: Vec<String>,
    /// The schema version once every migration is applied (e.g. 35).
    #[serde(default)]
    pub target_version: Option<i64>,
    /// The schema version before this deployment (e.g. 33).
    #[serde(default)]
    pub baseline_version: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineDay {
    pub day: u32,
    #[serde(default)]
    pub title: Option<String>,
    pub slots: Vec<Slot>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub from: String,
    pub to: String,
    pub what: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostDeployment {
    pub when: String,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub name: String,
    pub mitigation: String,
    pub recovery: String,
    #[serde(default)]
    pub procedure: Option<Ref>,
    /// Metrics whose alert means the risk is happening: while one fires, the rollback menu
    /// suggests `procedure`.
    #[serde(default)]
    pub metrics: Vec<Ref>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Communication {
    #[serde(default)]
    pub internal: Vec<Channel>,
    #[serde(default)]
    pub external: Vec<Channel>,
    /// Where the console posts what happened (chat, a bot), as it happens.
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
}

/// A webhook target: a name (what the audit log records), a URL (a secret: it may hold a
/// token; `${VAR}` expanded, never shown, logged or recorded), the body's format, and which
/// kinds of event it hears (all when none are named).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub name: Spanned<String>,
    pub url: String,
    #[serde(default)]
    pub format: WebhookFormat,
    #[serde(default)]
    pub events: Vec<Topic>,
}

/// A webhook's body: Slack-compatible `{"text": …}`, or a generic JSON object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    #[default]
    Slack,
    Json,
}

/// A kind of event a webhook hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// A phase started or completed.
    Phase,
    /// A rollout step requested.
    RolloutStep,
    /// An attempt the gate blocked.
    Blocked,
    /// A gate overridden.
    Overridden,
    /// An alert fired or resolved.
    Alert,
    /// A rollback requested, and how it ended against its target.
    Rollback,
    /// GO / NO-GO signed.
    GoNoGo,
    /// The lead taken or handed over.
    Lead,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Phase => "phase",
            Topic::RolloutStep => "rollout_step",
            Topic::Blocked => "blocked",
            Topic::Overridden => "overridden",
            Topic::Alert => "alert",
            Topic::Rollback => "rollback",
            Topic::GoNoGo => "go_no_go",
            Topic::Lead => "lead",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub kind: String,
    pub address: String,
    #[serde(default)]
    pub when: Option<String>,
}
