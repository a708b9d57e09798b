//! Checks of where the systems are: each pool has servers or a deployment, every target field
//! expands (`${VAR}` unset is a warning: it is resolved when the runbook runs), and a load
//! balancer mapping has the keys its kind needs and no others.

use super::at;
use crate::runbook::{Diag, LB_KINDS, LbSpec, LbTarget, Runbook, expand};

/// Each pool has servers or a Kubernetes deployment.
pub(super) fn pools(rb: &Runbook, out: &mut Vec<Diag>) {
    for (name, pool) in [("blue", &rb.pools.blue), ("green", &rb.pools.green)] {
        if pool.servers.is_empty() && pool.deployment.is_none() {
            out.push(
                Diag::error((1, 1), format!("pools.{name} has no servers and no deployment"))
                    .hint("list the servers (host:port, health checked over HTTP) or name the pool's Kubernetes deployment"),
            );
        }
    }
}

/// Target fields: a malformed `${VAR}` is an error; one unset is a warning.
pub(super) fn targets(rb: &Runbook, env: &dyn Fn(&str) -> Option<String>, out: &mut Vec<Diag>) {
    let t = &rb.targets;
    let mut fields: Vec<(String, &str, (u64, u64))> = [
        ("targets.prometheus", &t.prometheus),
        ("targets.flags", &t.flags),
        ("targets.database", &t.database),
        ("targets.kubeconfig", &t.kubeconfig),
        ("targets.namespace", &t.namespace),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.value.as_str(), at(v))))
    .collect();
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

/// Every string of a load balancer mapping, by key (for `${VAR}` checks).
fn lb_spec_strings(spec: &LbSpec) -> Vec<(&'static str, &str)> {
    let mut out: Vec<(&'static str, &str)> = [
        ("url", &spec.url),
        ("socket", &spec.socket),
        ("map", &spec.map),
        ("map_key", &spec.map_key),
        ("blue_backend", &spec.blue_backend),
        ("green_backend", &spec.green_backend),
        ("state_file", &spec.state_file),
        ("include", &spec.include),
        ("config", &spec.config),
        ("version_url", &spec.version_url),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    .collect();
    for (k, argv) in [("reload", &spec.reload), ("test", &spec.test)] {
        for a in argv.iter().flatten() {
            out.push((k, a.as_str()));
        }
    }
    out
}

/// The keys each load balancer kind needs and knows.
fn check_lb_spec(spec: &LbSpec, place: (u64, u64), out: &mut Vec<Diag>) {
    let kind = spec.kind.as_deref().unwrap_or("http");
    let (required, optional): (&[&str], &[&str]) = match kind {
        "http" => (&["url"], &[]),
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
    for key in required {
        if !present.contains(key) {
            let hint = match *key {
                "url" => "the control API's base URL, e.g. http://127.0.0.1:8081",
                "socket" => "the runtime API socket of `stats socket PATH level admin`",
                "map" => "the map file the ACL reads, e.g. /etc/haproxy/canary.map",
                "include" => "the file warroom owns, included from nginx.conf",
                "config" => "the main nginx.conf, for `nginx -t -c CONFIG`",
                _ => "see runbooks/README.md, targets",
            };
            out.push(
                Diag::error(
                    place,
                    format!("targets.load_balancer: kind {kind} needs `{key}`"),
                )
                .hint(hint),
            );
        }
    }
    for key in &present {
        if !required.contains(key) && !optional.contains(key) {
            out.push(
                Diag::error(
                    place,
                    format!("targets.load_balancer: `{key}` is not a key of kind {kind}"),
                )
                .hint(format!(
                    "kind {kind} takes {}",
                    required
                        .iter()
                        .chain(optional)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
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
