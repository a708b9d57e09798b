//! Cross-reference and sanity checks that types alone cannot express.

use super::*;
use serde_saphyr::Spanned;
use std::collections::HashMap;

fn at<T>(s: &Spanned<T>) -> (u64, u64) {
    let l = &s.referenced;
    (l.line().max(1), l.column().max(1))
}

struct Ids<'a> {
    kind: &'static str,
    seen: HashMap<&'a str, (u64, u64)>,
}

impl<'a> Ids<'a> {
    fn new(kind: &'static str) -> Self {
        Ids {
            kind,
            seen: HashMap::new(),
        }
    }
    fn add(&mut self, id: &'a Spanned<String>, out: &mut Vec<Diag>) {
        let v = id.value.as_str();
        if v.trim().is_empty() {
            out.push(Diag::error(at(id), format!("empty {} id", self.kind)));
            return;
        }
        if let Some(first) = self.seen.get(v) {
            out.push(
                Diag::error(at(id), format!("duplicate {} id `{v}`", self.kind)).hint(format!(
                    "the first `{v}` is at line {}; ids must be unique",
                    first.0
                )),
            );
        } else {
            self.seen.insert(v, at(id));
        }
    }
    fn check_ref(&self, r: &Spanned<String>, what: &str, out: &mut Vec<Diag>) {
        if !self.seen.contains_key(r.value.as_str()) {
            let mut known: Vec<&str> = self.seen.keys().copied().collect();
            known.sort();
            out.push(
                Diag::error(
                    at(r),
                    format!("{what} names unknown {} `{}`", self.kind, r.value),
                )
                .hint(format!("known {}s: {}", self.kind, known.join(", "))),
            );
        }
    }
}

pub fn validate(rb: &Runbook, env: &dyn Fn(&str) -> Option<String>) -> Vec<Diag> {
    let mut out = Vec::new();

    let mut teams = Ids::new("team");
    for t in &rb.teams {
        teams.add(&t.id, &mut out);
    }
    let mut flags = Ids::new("flag");
    for f in &rb.flags {
        flags.add(&f.id, &mut out);
        if !value_fits(f.kind, &f.initial) {
            out.push(
                Diag::error(at(&f.id), format!("flag `{}`: initial value {} does not fit its kind", f.id.value, f.initial))
                    .hint("a bool flag starts true or false; a percent flag starts at a whole number 0..=100"),
            );
        }
    }
    let mut metrics = Ids::new("metric");
    for m in &rb.metrics {
        metrics.add(&m.id, &mut out);
        if let (Some(w), Some(c)) = (&m.warning, &m.critical) {
            let beyond = match m.direction {
                Direction::Above => w.value >= c.value,
                Direction::Below => w.value <= c.value,
            };
            if beyond {
                out.push(
                    Diag::error(
                        at(w),
                        format!(
                            "metric `{}`: warning threshold {} is beyond its critical threshold {}",
                            m.id.value, w.value, c.value
                        ),
                    )
                    .hint(match m.direction {
                        Direction::Above => "for a metric where higher is worse, warning must be below critical",
                        Direction::Below => "for a metric where lower is worse (direction: below), warning must be above critical",
                    }),
                );
            }
        }
        for t in [&m.warning, &m.critical].into_iter().flatten() {
            if !t.value.is_finite() {
                out.push(Diag::error(
                    at(t),
                    format!("metric `{}`: threshold must be a finite number", m.id.value),
                ));
            }
        }
        if let Some(sql) = &m.sql {
            if m.query.is_some() {
                out.push(
                    Diag::error(
                        at(sql),
                        format!("metric `{}` has both `query` and `sql`", m.id.value),
                    )
                    .hint("a metric has one source: PromQL (`query`) or SQL (`sql`)"),
                );
            }
            let head = sql.value.trim_start().to_ascii_lowercase();
            if !(head.starts_with("select") || head.starts_with("with")) {
                out.push(
                    Diag::error(
                        at(sql),
                        format!(
                            "metric `{}`: `sql` must be a read-only query (SELECT or WITH)",
                            m.id.value
                        ),
                    )
                    .hint("checks only read; it also runs in a read-only transaction"),
                );
            }
        }
        if let Some(sig) = &m.sim
            && !crate::sim_signals::SIGNALS.contains(&sig.value.as_str())
        {
            out.push(
                Diag::error(
                    at(sig),
                    format!(
                        "metric `{}`: unknown simulator signal `{}`",
                        m.id.value, sig.value
                    ),
                )
                .hint(format!(
                    "signals: {}",
                    crate::sim_signals::SIGNALS.join(", ")
                )),
            );
        }
    }
    let mut phases = Ids::new("phase");
    for p in &rb.phases {
        phases.add(&p.id, &mut out);
        let mut items = Ids::new("checklist item");
        for i in &p.checklist {
            items.add(&i.id, &mut out);
        }
        if !teams.seen.is_empty() {
            teams.check_ref(&p.owner, &format!("phase `{}` owner", p.id.value), &mut out);
        }
    }
    if rb.phases.is_empty() {
        out.push(
            Diag::error((1, 1), "the runbook has no phases")
                .hint("add at least one entry under `phases:`"),
        );
    }
    let mut checklists = Ids::new("checklist");
    for c in &rb.checklists {
        checklists.add(&c.id, &mut out);
        if phases.seen.contains_key(c.id.value.as_str()) {
            out.push(
                Diag::error(at(&c.id), format!("checklist id `{}` is also a phase id", c.id.value))
                    .hint(format!("a phase's own checklist is named by the phase id; give this checklist another id, e.g. `{}-checklist`", c.id.value)),
            );
        }
        let mut items = Ids::new("checklist item");
        for s in &c.sections {
            for i in &s.items {
                items.add(&i.id, &mut out);
            }
        }
    }
    let mut procedures = Ids::new("procedure");
    for p in &rb.procedures {
        procedures.add(&p.id, &mut out);
        if p.steps.is_empty() {
            out.push(Diag::error(
                at(&p.id),
                format!("procedure `{}` has no steps", p.id.value),
            ));
        }
        check_steps(
            rb,
            &format!("procedure `{}`", p.id.value),
            at(&p.id),
            &p.steps,
            &mut out,
        );
    }
    for p in &rb.phases {
        check_steps(
            rb,
            &format!("phase `{}` on_start", p.id.value),
            at(&p.id),
            &p.on_start,
            &mut out,
        );
    }

    for n in &rb.no_override {
        if !CHECK_KEYS.iter().any(|(k, _)| *k == n.check.value) {
            out.push(
                Diag::error(
                    at(&n.check),
                    format!("no_override names unknown check `{}`", n.check.value),
                )
                .hint(format!(
                    "checks: {}",
                    CHECK_KEYS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        if let Some(a) = &n.action
            && !ACTION_KINDS.contains(&a.value.as_str())
        {
            out.push(
                Diag::error(
                    at(a),
                    format!("no_override names unknown action `{}`", a.value),
                )
                .hint(format!("actions: {}", ACTION_KINDS.join(", "))),
            );
        }
    }
    for (i, r) in rb.abort_on.iter().enumerate() {
        let what = format!("abort_on[{}]", i + 1);
        if r.metrics.is_empty() {
            out.push(
                Diag::error(at(&r.procedure), format!("{what} names no metrics"))
                    .hint("e.g. metrics: [error_rate]"),
            );
        }
        for m in &r.metrics {
            metrics.check_ref(m, &format!("{what}.metrics"), &mut out);
        }
        for p in &r.phases {
            phases.check_ref(p, &format!("{what}.phases"), &mut out);
        }
        procedures.check_ref(&r.procedure, &format!("{what}.procedure"), &mut out);
        if r.countdown.is_zero() {
            out.push(
                Diag::error(at(&r.procedure), format!("{what}: countdown is zero"))
                    .hint("the lead needs time to read and cancel it: e.g. countdown: 60s"),
            );
        }
        for p in &r.percents {
            if !rb.rollout.steps.iter().any(|s| s.percent.value == *p) {
                out.push(Diag::error(
                    at(&r.procedure),
                    format!("{what}.percents: {p} % is not a rollout step"),
                ));
            }
        }
    }

    // The rollout.
    let ro = &rb.rollout;
    flags.check_ref(&ro.flag, "rollout.flag", &mut out);
    if let Some(f) = rb.flag(&ro.flag.value)
        && f.kind != FlagKind::Percent
    {
        out.push(Diag::error(
            at(&ro.flag),
            format!(
                "rollout.flag `{}` is a {:?} flag; the rollout needs a percent flag",
                ro.flag.value, f.kind
            )
            .to_lowercase(),
        ));
    }
    phases.check_ref(&ro.phase, "rollout.phase", &mut out);
    if ro.steps.is_empty() {
        out.push(
            Diag::error((1, 1), "rollout has no steps")
                .hint("e.g. steps: [{percent: 10, bake: 15m}, …, {percent: 100, bake: 0s}]"),
        );
    }
    let mut prev = 0u32;
    for s in &ro.steps {
        let p = s.percent.value;
        if p == 0 || p > 100 {
            out.push(Diag::error(
                at(&s.percent),
                format!("rollout step percent {p} is outside 1..=100"),
            ));
        } else if p <= prev {
            out.push(
                Diag::error(
                    at(&s.percent),
                    format!("rollout step {p} % does not increase on the step before ({prev} %)"),
                )
                .hint("list the steps in increasing order, e.g. 10, 25, 50, 100"),
            );
        }
        prev = prev.max(p);
    }
    for g in &ro.gate {
        metrics.check_ref(g, "rollout.gate", &mut out);
    }
    for (flag, value) in &ro.requires_flags {
        match rb.flag(flag) {
            None => out.push(Diag::error(
                at(&ro.flag),
                format!("rollout.requires_flags names unknown flag `{flag}`"),
            )),
            Some(f) if !value_fits(f.kind, value) => out.push(Diag::error(
                at(&ro.flag),
                format!("rollout.requires_flags: value {value} does not fit flag `{flag}`"),
            )),
            _ => {}
        }
    }

    if let Some(g) = &rb.go_no_go {
        if !teams.seen.is_empty() {
            teams.check_ref(&g.by, "go_no_go.by", &mut out);
        }
        for r in &g.requires {
            checklists.check_ref(r, "go_no_go.requires", &mut out);
        }
    }
    for c in &rb.success_criteria {
        if let Some(m) = &c.metric {
            metrics.check_ref(m, "success criterion", &mut out);
        }
    }
    for r in &rb.risks {
        if let Some(p) = &r.procedure {
            procedures.check_ref(p, &format!("risk `{}`", r.name), &mut out);
        }
    }
    for (name, pool) in [("blue", &rb.pools.blue), ("green", &rb.pools.green)] {
        if pool.servers.is_empty() && pool.deployment.is_none() {
            out.push(
                Diag::error((1, 1), format!("pools.{name} has no servers and no deployment"))
                    .hint("list the servers (host:port, health checked over HTTP) or name the pool's Kubernetes deployment"),
            );
        }
    }

    // Target fields: `${VAR}` unset is a warning here; it is resolved when the runbook runs.
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
                check_lb_spec(spec, place, &mut out);
                for (k, v) in lb_spec_strings(spec) {
                    fields.push((format!("targets.load_balancer.{k}"), v, place));
                }
            }
        }
    }
    for (name, pool) in [("blue", &rb.pools.blue), ("green", &rb.pools.green)] {
        for s in &pool.servers {
            fields.push((format!("pools.{name}.servers"), s.as_str(), (1, 1)));
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
    out
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

fn value_fits(kind: FlagKind, v: &serde_json::Value) -> bool {
    match kind {
        FlagKind::Bool => v.is_boolean(),
        FlagKind::Percent => v.as_u64().is_some_and(|v| v <= 100),
    }
}

fn check_steps(
    rb: &Runbook,
    owner: &str,
    _owner_place: (u64, u64),
    steps: &[ProcedureStep],
    out: &mut Vec<Diag>,
) {
    for s in steps {
        let place = at(&s.name);
        let name = &s.name.value;
        let actions = s.actions();
        if actions.len() != 1 {
            out.push(
                Diag::error(place, format!("{owner}, step `{}`: has {} actions, needs exactly one", name, actions.len()))
                    .hint("one of: switch_pool, set_flag, set_weights, set_image, set_env, restart, wait_rollout, run"),
            );
        }
        for a in actions {
            match a {
                StepAction::SetFlag(sf) => match rb.flag(&sf.flag) {
                    None => out.push(
                        Diag::error(
                            place,
                            format!("{owner}, step `{}`: names unknown flag `{}`", name, sf.flag),
                        )
                        .hint(format!(
                            "known flags: {}",
                            rb.flags
                                .iter()
                                .map(|f| f.id.value.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    ),
                    Some(f) if !value_fits(f.kind, &sf.value) => out.push(Diag::error(
                        place,
                        format!(
                            "{owner}, step `{}`: value {} does not fit flag `{}`",
                            name, sf.value, sf.flag
                        ),
                    )),
                    _ => {}
                },
                StepAction::SetWeights { green } if green > 100 => out.push(Diag::error(
                    place,
                    format!("{owner}, step `{}`: set_weights {green} is above 100", name),
                )),
                StepAction::Run(r) if r.argv.is_empty() => out.push(Diag::error(
                    place,
                    format!("{owner}, step `{}`: run needs a non-empty argv", name),
                )),
                _ => {}
            }
        }
    }
}
