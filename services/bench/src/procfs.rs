//! What Linux's /proc says about a process (CPU time, resident memory) and
//! about the machine the benchmark ran on.

use std::path::Path;

/// CPU and memory of one process (and, for `cpu_seconds_with_children`, of
/// its children that have exited: how Postgres' finished backends count).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    /// User + system CPU seconds of the process itself.
    pub cpu_seconds: f64,
    /// Plus the CPU of its children that were waited for.
    pub cpu_seconds_with_children: f64,
    /// Resident set size now.
    pub rss_bytes: u64,
    /// Peak resident set size (VmHWM).
    pub peak_rss_bytes: u64,
}

/// Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux x86
/// and arm64, which `getconf CLK_TCK` confirms where it exists).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// Reads /proc/<pid>/stat and /proc/<pid>/status.
pub fn usage(pid: u32) -> std::io::Result<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse(&stat, &status, ticks_per_second())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("unreadable /proc/{pid}")))
}

fn parse(stat: &str, status: &str, ticks: f64) -> Option<Usage> {
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    // After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    let own = field(14)? + field(15)?;
    let children = field(16)? + field(17)?;
    let kib = |key: &str| {
        status.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
    };
    Some(Usage {
        cpu_seconds: own / ticks,
        cpu_seconds_with_children: (own + children) / ticks,
        rss_bytes: kib("VmRSS:").unwrap_or(0) * 1024,
        peak_rss_bytes: kib("VmHWM:").unwrap_or(0) * 1024,
    })
}

/// Parent pid of a process.
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].split_whitespace().nth(1)?.parse().ok()
}

/// Pids of the processes whose command name (comm) is `name`.
pub fn pids_named(name: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name))
        .collect()
}

/// CPU seconds of a server made of a parent and its children (Postgres: the
/// postmaster, its live backends, and the exited ones it has waited for).
/// None when no such process is visible (e.g. the server is elsewhere).
pub fn server_cpu_seconds(name: &str) -> Option<f64> {
    let pids = pids_named(name);
    let roots: Vec<u32> = pids.iter().copied().filter(|p| parent(*p).is_none_or(|pp| !pids.contains(&pp))).collect();
    if roots.is_empty() {
        return None;
    }
    let mut total = 0.0;
    for pid in &pids {
        if let Ok(u) = usage(*pid) {
            total += if roots.contains(pid) { u.cpu_seconds_with_children } else { u.cpu_seconds };
        }
    }
    Some(total)
}

/// Command line of the first process named `name`, for the report.
pub fn command_line(name: &str) -> Option<String> {
    let pid = *pids_named(name).first()?;
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> =
        raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    Some(args.join(" "))
}

/// The machine, as the report names it.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub os: String,
}

pub fn machine() -> Machine {
    let read = |p: &str| std::fs::read_to_string(Path::new(p)).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|v| v.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let memory_kib: f64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".into());
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        memory_gib: memory_kib / 1024.0 / 1024.0,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
        os,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_and_memory_from_proc_text() {
        let stat = "1234 (tokio (rt) x) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 10 5 20 0 8 0 100 1000000 2000";
        let status = "Name:\tx\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        let u = parse(stat, status, 100.0).unwrap();
        assert_eq!(u.cpu_seconds, 3.0);
        assert_eq!(u.cpu_seconds_with_children, 3.15);
        assert_eq!(u.peak_rss_bytes, 200 * 1024 * 1024);
        assert_eq!(u.rss_bytes, 100 * 1024 * 1024);
        assert!(parse("garbage", status, 100.0).is_none());
    }

    #[test]
    fn reads_its_own_process() {
        let me = usage(std::process::id()).unwrap();
        assert!(me.peak_rss_bytes >= me.rss_bytes && me.rss_bytes > 0);
        assert!(machine().cores >= 1);
    }
}
