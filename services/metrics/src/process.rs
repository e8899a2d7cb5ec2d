//! Process metrics read from Linux's /proc at each collection, under the
//! names Prometheus client libraries use: `process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_open_fds`. Where /proc cannot be
//! read (another OS), nothing is observed.

use opentelemetry::metrics::Meter;

/// Clock ticks per second in /proc/<pid>/stat: USER_HZ, which the kernel
/// fixes at 100 for user space on the architectures we ship (x86-64, arm64).
const TICKS_PER_SECOND: f64 = 100.0;

pub(crate) fn register(meter: &Meter) {
    meter
        .f64_observable_counter("process.cpu")
        .with_description("User and system CPU time of the process.")
        .with_unit("s")
        .with_callback(|observer| {
            if let Some(seconds) = read("/proc/self/stat").as_deref().and_then(cpu_seconds) {
                observer.observe(seconds, &[]);
            }
        })
        .build();
    meter
        .u64_observable_gauge("process.resident_memory")
        .with_description("Resident set size of the process.")
        .with_unit("By")
        .with_callback(|observer| {
            if let Some(bytes) = read("/proc/self/status").as_deref().and_then(resident_bytes) {
                observer.observe(bytes, &[]);
            }
        })
        .build();
    meter
        .u64_observable_gauge("process.open_fds")
        .with_description("Open file descriptors of the process.")
        .with_unit("{fd}")
        .with_callback(|observer| {
            if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
                observer.observe(entries.count() as u64, &[]);
            }
        })
        .build();
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// utime + stime of a /proc/<pid>/stat line, in seconds.
fn cpu_seconds(stat: &str) -> Option<f64> {
    // The command name may hold spaces and parentheses: fields start after
    // the last ')', with the state (field 3) first; utime and stime are 14, 15.
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().skip(14 - 3);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// VmRSS of a /proc/<pid>/status, in bytes.
fn resident_bytes(status: &str) -> Option<u64> {
    let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?;
    kib.parse::<u64>().ok().map(|k| k * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_user_plus_system_ticks_even_when_the_name_has_parentheses() {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 70 3 4 20 0 9 0 100 0 0";
        assert_eq!(cpu_seconds(stat), Some(3.2));
    }

    #[test]
    fn resident_memory_is_vm_rss_in_bytes() {
        let status = "Name:\tintake\nVmHWM:\t  9000 kB\nVmRSS:\t  8192 kB\nThreads:\t9\n";
        assert_eq!(resident_bytes(status), Some(8192 * 1024));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_metrics_are_exposed_under_the_prometheus_names() {
        let text = crate::render();
        for name in ["process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds "] {
            assert!(text.lines().any(|l| l.starts_with(name)), "{name} missing from\n{text}");
        }
    }
}
