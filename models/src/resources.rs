//! The process's resource use, for benchmarks: peak resident memory (Linux).

/// Resets the process's peak resident memory (Linux: `/proc/self/clear_refs`), so the
/// next [`peak_memory_mib`] reads the peak since now. Does nothing elsewhere.
pub fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory in MiB (`VmHWM`; NaN where it cannot be read).
pub fn peak_memory_mib() -> f64 {
    status_mib("VmHWM")
}

/// The process's resident memory now in MiB (`VmRSS`; NaN where it cannot be read).
pub fn resident_memory_mib() -> f64 {
    status_mib("VmRSS")
}

/// A `/proc/self/status` line's value in MiB.
fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}
