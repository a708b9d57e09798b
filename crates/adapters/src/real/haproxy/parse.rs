//! HAProxy's runtime API answers, read: `show map`, `show info` and `show stat`.

use super::safe;

/// One server as `show stat` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerStat {
    pub backend: String,
    pub name: String,
    pub addr: String,
    /// UP, DOWN, MAINT, DRAIN, "UP 1/3" …
    pub status: String,
    pub check: String,
}

/// `show map FILE`: lines `0x55d0… KEY VALUE`.
pub fn parse_map(out: &str, key: &str) -> Result<u32, String> {
    for line in out.lines() {
        let mut w = line.split_whitespace();
        let (Some(_), Some(k), Some(v)) = (w.next(), w.next(), w.next()) else {
            continue;
        };
        if k == key {
            return v.parse::<u32>().map(|v| v.min(100)).map_err(|_| {
                format!(
                    "map value for {} is not a percentage: {}",
                    safe(key),
                    safe(v)
                )
            });
        }
    }
    if out.trim().is_empty() {
        Err(format!("the map has no key {}", safe(key)))
    } else if !out.starts_with("0x") && !out.contains(" 0x") {
        Err(safe(out))
    } else {
        Err(format!("the map has no key {}", safe(key)))
    }
}

/// `show info`: `Pid: 123`, `Uptime_sec: 45`.
pub fn parse_info(out: &str) -> (Option<String>, Option<u64>) {
    let mut pid = None;
    let mut uptime = None;
    for line in out.lines() {
        if let Some((k, v)) = line.split_once(':') {
            match k.trim() {
                "Pid" => pid = Some(v.trim().to_string()),
                "Uptime_sec" => uptime = v.trim().parse().ok(),
                _ => {}
            }
        }
    }
    (pid, uptime)
}

/// `show stat` (CSV with a `# pxname,svname,…` header): the servers of the two backends and
/// the sessions each backend took.
pub fn parse_stat(
    out: &str,
    blue: &str,
    green: &str,
) -> Result<(Vec<ServerStat>, (u64, u64)), String> {
    let mut lines = out.lines();
    let header = lines
        .next()
        .and_then(|h| h.strip_prefix("# "))
        .ok_or_else(|| {
            format!(
                "`show stat` answered {}",
                safe(out.lines().next().unwrap_or(""))
            )
        })?;
    let cols: Vec<&str> = header.split(',').collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(px), Some(sv), Some(status), Some(stot)) =
        (col("pxname"), col("svname"), col("status"), col("stot"))
    else {
        return Err("`show stat` without pxname, svname, status or stot".into());
    };
    let (addr, check) = (col("addr"), col("check_status"));
    let mut servers = Vec::new();
    let mut sessions = (0u64, 0u64);
    let (mut seen_blue, mut seen_green) = (false, false);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let get = |i: Option<usize>| i.and_then(|i| f.get(i)).copied().unwrap_or("");
        let backend = get(Some(px));
        if backend != blue && backend != green {
            continue;
        }
        let name = get(Some(sv));
        match name {
            "FRONTEND" => continue,
            "BACKEND" => {
                let n = get(Some(stot)).parse().unwrap_or(0);
                if backend == blue {
                    sessions.0 = n;
                    seen_blue = true;
                } else {
                    sessions.1 = n;
                    seen_green = true;
                }
            }
            _ => servers.push(ServerStat {
                backend: backend.to_string(),
                name: name.to_string(),
                addr: get(addr).to_string(),
                status: get(Some(status)).to_string(),
                check: get(check).to_string(),
            }),
        }
    }
    if !seen_blue || !seen_green {
        return Err(format!(
            "no backend named {} in `show stat`",
            safe(if seen_blue { green } else { blue })
        ));
    }
    Ok((servers, sessions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_map_info_and_stat() {
        assert_eq!(parse_map("0x55d0a1 canary 25\n\n", "canary"), Ok(25));
        assert!(parse_map("0x55d0a1 other 25\n", "canary").is_err());
        assert!(
            parse_map(
                "Unknown map identifier. Please use #<id> or <file>.\n",
                "canary"
            )
            .is_err_and(|e| e.contains("Unknown map"))
        );
        assert_eq!(
            parse_info("Name: HAProxy\nPid: 42\nUptime_sec: 7\n"),
            (Some("42".into()), Some(7))
        );
        let stat = "# pxname,svname,qcur,stot,status,check_status,addr\n\
                    fe,FRONTEND,0,9,OPEN,,\n\
                    blue,b1,0,3,UP,L7OK,127.0.0.1:1\n\
                    blue,b2,0,2,MAINT,,127.0.0.1:2\n\
                    blue,BACKEND,0,5,UP,,\n\
                    green,g1,0,1,DOWN,L4CON,127.0.0.1:3\n\
                    green,BACKEND,0,1,DOWN,,\n";
        let (servers, sessions) = parse_stat(stat, "blue", "green").expect("parses");
        assert_eq!(sessions, (5, 1));
        assert_eq!(servers.len(), 3);
        assert_eq!(servers[2].check, "L4CON");
        assert!(parse_stat(stat, "blue", "canary").is_err());
        assert!(parse_stat("Permission denied\n", "blue", "green").is_err());
    }
}
