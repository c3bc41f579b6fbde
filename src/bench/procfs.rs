//! A server's CPU time and peak memory, read from `/proc/<pid>` (Linux), for `--pid`: what a
//! workload cost the server, not only how fast it answered.

use std::io;

use super::units::to_f64;

/// User plus system CPU time the process has used, in seconds: fields 14 and 15 (`utime`,
/// `stime`) of `/proc/<pid>/stat`, in clock ticks. <https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html>
pub fn cpu_seconds(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat)
        .map(|ticks| to_f64(ticks) / clock_ticks_per_second())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc stat"))
}

/// The process's peak resident set size in bytes (`VmHWM` of `/proc/<pid>/status`): the most
/// it ever held, since it started, not only during the run.
pub fn peak_rss_bytes(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_hwm(&status)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmHWM in /proc status"))
}

/// utime + stime. The command name (field 2) is in parentheses and may hold spaces and
/// parentheses itself, so the fields are counted after the last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // After the name: state is field 3, so utime (14) and stime (15) are the 12th and 13th.
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a system constant; it has no memory-safety preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // 100 where the system does not say (or says something no clock does).
    match u32::try_from(ticks) {
        Ok(ticks) if ticks > 0 => f64::from(ticks),
        _ => 100.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_counted_after_the_name() {
        let stat = "4242 (labstore (x) y) S 1 4242 4242 0 -1 4194304 1200 0 0 0 \
                    150 37 0 0 20 0 9 0 123 456 789 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(187));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn peak_rss() {
        let status = "Name:\tlabstore\nVmPeak:\t  900 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(12345 * 1024));
        assert_eq!(parse_vm_hwm("Name: x\n"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).expect("readable") >= 0.0);
        assert!(peak_rss_bytes(pid).expect("readable") > 0);
    }
}
