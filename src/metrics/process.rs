//! The process's own resources, read from `/proc/self` at each scrape and named as the
//! Prometheus client libraries' process collector names them, so that standard dashboards and
//! alerts work unchanged: CPU seconds, resident memory, open and maximum file descriptors, and
//! the start time. On a system without `/proc` a family whose source cannot be read is left
//! out rather than reported as zero.

use std::fmt::Write as _;
use std::sync::OnceLock;

/// The `process_*` families.
pub fn render(out: &mut String) {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    let fields = stat.as_deref().and_then(stat_fields);
    let ticks = clock_ticks_per_second();
    if let Some(f) = &fields {
        #[expect(clippy::cast_precision_loss, reason = "CPU ticks fit f64 exactly")]
        let cpu = (f.utime + f.stime) as f64 / ticks;
        let _ = writeln!(
            out,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
             # TYPE process_cpu_seconds_total counter\n\
             process_cpu_seconds_total {cpu}"
        );
        let rss = f.rss_pages.saturating_mul(page_size());
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n\
             # TYPE process_resident_memory_bytes gauge\n\
             process_resident_memory_bytes {rss}\n\
             # HELP process_virtual_memory_bytes Virtual memory size in bytes.\n\
             # TYPE process_virtual_memory_bytes gauge\n\
             process_virtual_memory_bytes {}",
            f.vsize
        );
        if let Some(start) = start_time(f.starttime, ticks) {
            let _ = writeln!(
                out,
                "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n\
                 # TYPE process_start_time_seconds gauge\n\
                 process_start_time_seconds {start}"
            );
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        // The directory's own descriptor, open while it is read, is one of the entries.
        let open = dir.count().saturating_sub(1);
        let _ = writeln!(
            out,
            "# HELP process_open_fds Number of open file descriptors.\n\
             # TYPE process_open_fds gauge\n\
             process_open_fds {open}"
        );
    }
    if let Some(max) = max_fds() {
        let _ = writeln!(
            out,
            "# HELP process_max_fds Maximum number of open file descriptors.\n\
             # TYPE process_max_fds gauge\n\
             process_max_fds {max}"
        );
    }
}

/// The fields of `/proc/self/stat` read here (proc_pid_stat(5)).
#[derive(Debug, PartialEq, Eq)]
struct StatFields {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
    rss_pages: u64,
}

/// The command name (field 2) is in parentheses and may hold spaces and parentheses itself,
/// so the fields are counted after the last `)`: state is field 3.
fn stat_fields(stat: &str) -> Option<StatFields> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
    Some(StatFields {
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
        vsize: field(23)?,
        rss_pages: field(24)?,
    })
}

/// Seconds since the epoch: the boot time (`btime` of `/proc/stat`) plus the start time in
/// ticks after boot. Read once: neither changes.
fn start_time(starttime_ticks: u64, ticks: f64) -> Option<f64> {
    static BOOT: OnceLock<Option<u64>> = OnceLock::new();
    let boot = (*BOOT.get_or_init(|| {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        boot_time(&stat)
    }))?;
    #[expect(
        clippy::cast_precision_loss,
        reason = "seconds since the epoch fit f64"
    )]
    let start = boot as f64 + starttime_ticks as f64 / ticks;
    Some(start)
}

fn boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn max_fds() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the limit into the struct it is given, which outlives the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) };
    (rc == 0).then_some(limit.rlim_cur)
}

fn page_size() -> u64 {
    // SAFETY: sysconf reads a system constant; it has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|s| *s > 0).unwrap_or(4096)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: as above.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    match u32::try_from(ticks) {
        Ok(ticks) if ticks > 0 => f64::from(ticks),
        _ => 100.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let stat = "4242 (labstore (x) y) S 1 4242 4242 0 -1 4194304 1200 0 0 0 \
                    150 37 0 0 20 0 9 0 123 456 789 18446744073709551615";
        assert_eq!(
            stat_fields(stat),
            Some(StatFields {
                utime: 150,
                stime: 37,
                starttime: 123,
                vsize: 456,
                rss_pages: 789
            })
        );
        assert_eq!(stat_fields("garbage"), None);
        assert_eq!(
            boot_time("cpu 1 2\nbtime 1700000000\nprocesses 5\n"),
            Some(1700000000)
        );
    }

    #[test]
    fn this_process_is_described() {
        let mut out = String::new();
        render(&mut out);
        for family in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
            "process_start_time_seconds ",
        ] {
            let line = out
                .lines()
                .find(|l| l.starts_with(family))
                .unwrap_or_else(|| panic!("{family} missing from\n{out}"));
            let value: f64 = line[family.len()..].parse().expect("a number");
            assert!(value >= 0.0, "{line}");
        }
        let rss = out
            .lines()
            .find(|l| l.starts_with("process_resident_memory_bytes "))
            .unwrap();
        assert!(
            rss["process_resident_memory_bytes ".len()..]
                .parse::<f64>()
                .unwrap()
                > 1e6
        );
    }
}
