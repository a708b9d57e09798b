//! Checks of where the systems are: each pool has servers or a deployment, every target field
//! expands (`${VAR}` unset is a warning: it is resolved when the runbook runs), and a load
//! balancer mapping has the keys its kind needs and no others.

use super::at;
use crate::runbook::{
    Diag, FLAG_KINDS, FlagsSpec, FlagsTarget, LB_KINDS, LbSpec, LbTarget, Runbook, expand,
};

/// Each pool has servers or a Kubernetes deployment (an error without either). Servers that
/// are all `${…}` expanding to nothing (`${VAR:-}`: empty allowed on purpose) leave nothing to
/// health-check: a warning at the entry. An unset variable is only a warning too: `run`
/// resolves it.
pub(super) fn pools(rb: &Runbook, env: &dyn Fn(&str) -> Option<String>, out: &mut Vec<Diag>) {
    for (name, pool) in [("blue", &rb.pools.blue), ("green", &rb.pools.green)] {
        if pool.deployment.is_some() {
            continue;
        }
        if pool.servers.is_empty() {
            out.push(
                Diag::error(pool.place().unwrap_or((1, 1)), format!("pools.{name} has no servers and no deployment"))
                    .hint("list the servers (host:port, health checked over HTTP) or name the pool's Kubernetes deployment"),
            );
            continue;
        }
        // Split on commas as `server_list` does (a variable may list several).
        let nothing = pool.servers.iter().all(|s| {
            expand(s, env).is_ok_and(|e| {
                e.unset.is_empty() && e.value.split(',').all(|a| a.trim().is_empty())
            })
        });
        if nothing {
            let written = crate::text::clean(&pool.servers[0]).into_owned();
            out.push(
                Diag::warning(
                    pool.servers.place(0).unwrap_or((1, 1)),
                    format!("pools.{name} has no servers: `{written}` expands to nothing, so nothing is health-checked"),
                )
                .hint("give the variable a value or a default list (${VAR:-host:port,host:port}), or name the pool's Kubernetes deployment"),
            );
        }
    }
}

/// Target fields: a malformed `${VAR}` is an error; one unset is a warning.
pub(super) fn targets(rb: &Runbook, env: &dyn Fn(&str) -> Option<String>, out: &mut Vec<Diag>) {
    let t = &rb.targets;
    let mut fields: Vec<(String, &str, (u64, u64))> = [
        ("targets.prometheus", &t.prometheus),
        ("targets.database", &t.database),
        ("targets.kubeconfig", &t.kubeconfig),
        ("targets.namespace", &t.namespace),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.value.as_str(), at(v))))
    .collect();
    if let Some(flags) = &t.flags {
        let place = at(flags);
        match &flags.value {
            FlagsTarget::Url(u) => fields.push(("targets.flags".into(), u.as_str(), place)),
            FlagsTarget::Spec(spec) => {
                check_flags_spec(rb, spec, place, out);
                for (k, v) in flags_spec_strings(spec) {
                    fields.push((format!("targets.flags.{k}"), v, place));
                }
            }
        }
    }
    if let Some(lb) = &t.load_balancer {
        let place = at(lb);
        match &lb.value {
            LbTarget::Url(u) => fields.push(("targets.load_balancer".into(), u.as_str(), place)),
            LbTarget::Spec(spec) => {
                check_lb_spec(spec, place, out);
                for (k, v) in lb_spec_strings(spec) {
                    fields.push((format!("targets.load_balancer.{k}"), v, place));
                }
            }
        }
    }
    for (name, pool) in [("blue", &rb.pools.blue), ("green", &rb.pools.green)] {
        for (i, s) in pool.servers.iter().enumerate() {
            let place = pool.servers.place(i).unwrap_or((1, 1));
            fields.push((format!("pools.{name}.servers"), s.as_str(), place));
        }
    }
    for (key, v, place) in fields {
        match expand(v, env) {
            Err(e) => out.push(Diag::error(place, format!("{key}: {e}"))),
            Ok(e) => {
                for var in e.unset {
                    out.push(
                        Diag::warning(place, format!("{key}: ${{{var}}} is not set")).hint(
                            format!(
                                "set {var} before `warroom run`, or give a default: ${{{var}:-…}}"
                            ),
                        ),
                    );
                }
            }
        }
    }
}

/// Webhooks: names unique; a URL (a secret: what is said of it names the webhook, never
/// the URL) whose `${VAR}` is malformed is an error, unset a warning.
pub(super) fn webhooks(rb: &Runbook, env: &dyn Fn(&str) -> Option<String>, out: &mut Vec<Diag>) {
    let mut seen = std::collections::BTreeSet::new();
    for w in &rb.communication.webhooks {
        let (name, place) = (&w.name.value, at(&w.name));
        if !seen.insert(name.as_str()) {
            out.push(Diag::error(
                place,
                format!("webhook `{name}` is named twice"),
            ));
        }
        match expand(&w.url, env) {
            Err(_) => out.push(
                Diag::error(
                    place,
                    format!("webhook `{name}`: its url has a malformed ${{VAR}}"),
                )
                .hint("write ${VAR} or ${VAR:-default}; $$ is a literal $"),
            ),
            Ok(e) => {
                for var in e.unset {
                    out.push(
                        Diag::warning(place, format!("webhook `{name}`: its url names ${{{var}}}, which is not set"))
                            .hint(format!("set {var} before the console starts: until then the webhook is left out")),
                    );
                }
            }
        }
    }
}

/// Every string of a load balancer mapping, by key (for `${VAR}` checks).
fn lb_spec_strings(spec: &LbSpec) -> Vec<(&'static str, &str)> {
    let mut out = given([
        ("url", &spec.url),
        ("status_path", &spec.status_path),
        ("weights_path", &spec.weights_path),
        ("switch_path", &spec.switch_path),
        ("socket", &spec.socket),
        ("map", &spec.map),
        ("map_key", &spec.map_key),
        ("blue_backend", &spec.blue_backend),
        ("green_backend", &spec.green_backend),
        ("state_file", &spec.state_file),
        ("include", &spec.include),
        ("config", &spec.config),
        ("version_url", &spec.version_url),
    ]);
    for (k, argv) in [("reload", &spec.reload), ("test", &spec.test)] {
        for a in argv.iter().flatten() {
            out.push((k, a.as_str()));
        }
    }
    out
}

/// The keys a kind of `target` needs (`required`) and knows (`optional`), against the keys
/// `present`: a missing key is named with its hint, a key of another kind too.
struct Kind<'a> {
    target: &'a str,
    kind: &'a str,
    required: &'a [&'a str],
    optional: &'a [&'a str],
}

impl Kind<'_> {
    fn check(
        &self,
        present: &[&str],
        hint: &dyn Fn(&str) -> &'static str,
        place: (u64, u64),
        out: &mut Vec<Diag>,
    ) {
        let (target, kind) = (self.target, self.kind);
        for key in self.required {
            if !present.contains(key) {
                out.push(
                    Diag::error(place, format!("{target}: kind {kind} needs `{key}`"))
                        .hint(hint(key)),
                );
            }
        }
        for key in present {
            if !self.required.contains(key) && !self.optional.contains(key) {
                out.push(
                    Diag::error(
                        place,
                        format!("{target}: `{key}` is not a key of kind {kind}"),
                    )
                    .hint(format!(
                        "kind {kind} takes {}",
                        self.required
                            .iter()
                            .chain(self.optional)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
    }
}

/// Every string of a flag server mapping, by key (for `${VAR}` checks). `features` maps flag
/// ids to feature names, which take no `${VAR}`.
fn flags_spec_strings(spec: &FlagsSpec) -> Vec<(&'static str, &str)> {
    given([
        ("url", &spec.url),
        ("path", &spec.path),
        ("token", &spec.token),
        ("environment", &spec.environment),
        ("project", &spec.project),
    ])
}

/// The keys that are given, with their values.
fn given<'a, const N: usize>(
    keys: [(&'static str, &'a Option<String>); N],
) -> Vec<(&'static str, &'a str)> {
    keys.into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
}

/// The keys each flag server kind needs and knows; a literal token is an error (a secret in
/// a file that is shared and recorded).
fn check_flags_spec(rb: &Runbook, spec: &FlagsSpec, place: (u64, u64), out: &mut Vec<Diag>) {
    let kind = spec.kind.as_deref().unwrap_or("http");
    let (required, optional): (&[&str], &[&str]) = match kind {
        "http" => (&["url"], &["path"]),
        "unleash" => (&["url", "token", "environment"], &["project", "features"]),
        other => {
            out.push(
                Diag::error(place, format!("targets.flags.kind: unknown kind `{other}`"))
                    .hint(format!("one of: {}", FLAG_KINDS.join(", "))),
            );
            return;
        }
    };
    let present: Vec<&str> = flags_spec_strings(spec)
        .into_iter()
        .map(|(k, _)| k)
        .chain((!spec.features.is_empty()).then_some("features"))
        .collect();
    let k = Kind {
        target: "targets.flags",
        kind,
        required,
        optional,
    };
    k.check(
        &present,
        &|key| match key {
            "url" => "the server's base URL, e.g. http://127.0.0.1:4242",
            "token" => "an admin API token, from the environment: token: ${UNLEASH_ADMIN_TOKEN}",
            "environment" => "the Unleash environment the flags are in, e.g. production",
            _ => "see runbooks/README.md, targets",
        },
        place,
        out,
    );
    if let Some(t) = &spec.token
        && !t.trim().is_empty()
        && !t.contains("${")
    {
        out.push(
            Diag::error(place, "targets.flags.token: a token written in the runbook")
                .hint("a token is a secret: give it from the environment, e.g. token: ${UNLEASH_ADMIN_TOKEN}"),
        );
    }
    for (flag, feature) in &spec.features {
        if !rb.flags.iter().any(|f| &f.id.value == flag) {
            out.push(
                Diag::error(place, format!("targets.flags.features: no flag `{flag}`"))
                    .hint("a key of features is a flag id of `flags`"),
            );
        }
        if feature.trim().is_empty() {
            out.push(
                Diag::error(
                    place,
                    format!("targets.flags.features.{flag}: an empty feature name"),
                )
                .hint("name the Unleash feature this flag is"),
            );
        }
    }
    api_path("targets.flags", "path", spec.path.as_deref(), place, out);
    for key in spec.unknown.keys() {
        out.push(
            Diag::error(place, format!("targets.flags: unknown key `{key}`"))
                .hint("flag server keys: kind, url, path, token, environment, project, features"),
        );
    }
}

/// The keys each load balancer kind needs and knows.
fn check_lb_spec(spec: &LbSpec, place: (u64, u64), out: &mut Vec<Diag>) {
    let kind = spec.kind.as_deref().unwrap_or("http");
    let (required, optional): (&[&str], &[&str]) = match kind {
        "http" => (&["url"], &["status_path", "weights_path", "switch_path"]),
        "haproxy" => (
            &["socket", "map"],
            &["map_key", "blue_backend", "green_backend", "state_file"],
        ),
        "nginx" => (&["include", "config"], &["reload", "test", "version_url"]),
        other => {
            out.push(
                Diag::error(
                    place,
                    format!("targets.load_balancer.kind: unknown kind `{other}`"),
                )
                .hint(format!("one of: {}", LB_KINDS.join(", "))),
            );
            return;
        }
    };
    let present: Vec<&str> = lb_spec_strings(spec)
        .into_iter()
        .map(|(k, _)| k)
        .chain(spec.reload.as_ref().map(|_| "reload"))
        .chain(spec.test.as_ref().map(|_| "test"))
        .collect();
    let k = Kind {
        target: "targets.load_balancer",
        kind,
        required,
        optional,
    };
    k.check(
        &present,
        &|key| match key {
            "url" => "the control API's base URL, e.g. http://127.0.0.1:8081",
            "socket" => "the runtime API socket of `stats socket PATH level admin`",
            "map" => "the map file the ACL reads, e.g. /etc/haproxy/canary.map",
            "include" => "the file warroom owns, included from nginx.conf",
            "config" => "the main nginx.conf, for `nginx -t -c CONFIG`",
            _ => "see runbooks/README.md, targets",
        },
        place,
        out,
    );
    for (key, path) in [
        ("status_path", &spec.status_path),
        ("weights_path", &spec.weights_path),
        ("switch_path", &spec.switch_path),
    ] {
        api_path("targets.load_balancer", key, path.as_deref(), place, out);
    }
    if let Some(p) = &spec.switch_path
        && !p.contains("{pool}")
    {
        out.push(
            Diag::error(
                place,
                format!("targets.load_balancer.switch_path `{p}` does not say where the pool goes"),
            )
            .hint("write {pool} where blue or green goes, e.g. /lb/switch/{pool}"),
        );
    }
    for (argv_key, argv) in [("reload", &spec.reload), ("test", &spec.test)] {
        if argv.as_ref().is_some_and(|a| a.is_empty()) {
            out.push(
                Diag::error(
                    place,
                    format!("targets.load_balancer.{argv_key}: an empty command"),
                )
                .hint("give the program and its arguments, e.g. [nginx, -s, reload]"),
            );
        }
    }
    for key in spec.unknown.keys() {
        out.push(
            Diag::error(place, format!("targets.load_balancer: unknown key `{key}`")).hint(
                "load balancer keys: kind, url, socket, map, map_key, blue_backend, green_backend, state_file, include, config, reload, test, version_url",
            ),
        );
    }
}

/// A path of an HTTP API under its base URL: it starts with `/`.
fn api_path(target: &str, key: &str, path: Option<&str>, place: (u64, u64), out: &mut Vec<Diag>) {
    if let Some(p) = path
        && !p.starts_with('/')
        && !p.starts_with("${")
    {
        out.push(
            Diag::error(place, format!("{target}.{key} `{p}` is not a path"))
                .hint("a path under the base URL starts with /, e.g. /api/flags"),
        );
    }
}
