//! Crafted legacy-PyTorch files that used to drive the reader into huge allocations,
//! deep recursion or arithmetic overflow: memo doubling, nested one-tuples, zero or huge
//! strides, sizes whose product overflows, many views of one storage. Each must be an
//! error with a clear message, and the peak resident memory of the process while reading
//! it must stay small (measured from `/proc/self/status`; printed with `--nocapture`).
//!
//! One test runs every case in turn, resetting the peak before each: the figure printed
//! is the process's peak while reading that case (memory freed by an earlier case stays
//! with the allocator, so the cases that need most come last).

use alignscope_vision::torch_legacy::read_state_dict;

/// Most resident memory one case may reach.
const MAX_PEAK_BYTES: u64 = 512 << 20;

/// A pickle integer argument in its shortest opcode.
fn int(out: &mut Vec<u8>, value: i64) {
    match value {
        0..=0xff => out.extend([b'K', value as u8]),
        0x100..=0xffff => {
            out.push(b'M');
            out.extend((value as u16).to_le_bytes());
        }
        _ if i32::try_from(value).is_ok() => {
            out.push(b'J');
            out.extend((value as i32).to_le_bytes());
        }
        _ => {
            out.extend([0x8a, 8]);
            out.extend(value.to_le_bytes());
        }
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    out.push(b'X');
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

fn ints(out: &mut Vec<u8>, values: &[i64]) {
    out.push(b'(');
    for &v in values {
        int(out, v);
    }
    out.push(b't');
}

/// A tensor view: name, storage key, storage length, offset, size, stride.
struct View<'a> {
    name: &'a str,
    key: &'a str,
    numel: i64,
    offset: i64,
    size: &'a [i64],
    stride: &'a [i64],
}

/// The state-dict pickle of `views`, as `torch.save` writes it.
fn state_dict(views: &[View<'_>]) -> Vec<u8> {
    let mut out = vec![0x80, 2, b'}', b'('];
    for view in views {
        text(&mut out, view.name);
        out.extend(b"ctorch._utils\n_rebuild_tensor_v2\n(");
        out.push(b'(');
        text(&mut out, "storage");
        out.extend(b"ctorch\nFloatStorage\n");
        text(&mut out, view.key);
        text(&mut out, "cpu");
        int(&mut out, view.numel);
        out.extend(b"tQ");
        int(&mut out, view.offset);
        ints(&mut out, view.size);
        ints(&mut out, view.stride);
        out.push(0x89);
        out.extend(b"ccollections\nOrderedDict\n)R");
        out.extend(b"tR");
    }
    out.extend(b"u.");
    out
}

/// A whole legacy file: magic, protocol, system info, `state`, the storage keys and the
/// storages (`f32` values each).
fn legacy_file(state: &[u8], storages: &[(&str, Vec<f32>)]) -> Vec<u8> {
    let mut out = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    out.extend(b"\x80\x02M\xe9\x03.");
    out.extend(b"\x80\x02}.");
    out.extend(state);
    let mut keys = vec![0x80, 2, b']', b'('];
    for (key, _) in storages {
        text(&mut keys, key);
    }
    keys.extend(b"e.");
    out.extend(keys);
    for (_, values) in storages {
        out.extend((values.len() as i64).to_le_bytes());
        for v in values {
            out.extend(v.to_le_bytes());
        }
    }
    out
}

/// One memo slot, doubled `rounds` times: `x = (x, x)`.
fn memo_doubling(rounds: usize) -> Vec<u8> {
    let mut out = vec![0x80, 2, b'N', b'q', 0];
    for _ in 0..rounds {
        out.extend([b'h', 0, b'h', 0, 0x86, b'q', 0]);
    }
    out.push(b'.');
    out
}

/// A 64 KiB string kept in the memo, then a list holding `rounds` copies of it.
fn memo_fan_out(rounds: usize) -> Vec<u8> {
    let mut out = vec![0x80, 2];
    text(&mut out, &"x".repeat(1 << 16));
    out.extend([b'q', 0, b']']);
    for _ in 0..rounds {
        out.extend([b'h', 0, b'a']);
    }
    out.push(b'.');
    out
}

fn nested_one_tuples(depth: usize) -> Vec<u8> {
    let mut out = vec![0x80, 2, b')'];
    out.extend(std::iter::repeat_n(0x85, depth));
    out.push(b'.');
    out
}

fn nested_persistent_ids(depth: usize) -> Vec<u8> {
    let mut out = vec![0x80, 2, b'N'];
    out.extend(std::iter::repeat_n(b'Q', depth));
    out.push(b'.');
    out
}

fn nested_marked_tuples(depth: usize) -> Vec<u8> {
    let mut out = vec![0x80, 2];
    out.extend(std::iter::repeat_n(b'(', depth));
    out.push(b'N');
    out.extend(std::iter::repeat_n(b't', depth));
    out.push(b'.');
    out
}

fn one_view(size: &[i64], stride: &[i64], storage: Vec<f32>) -> Vec<u8> {
    let view = View {
        name: "w",
        key: "0",
        numel: storage.len() as i64,
        offset: 0,
        size,
        stride,
    };
    legacy_file(&state_dict(&[view]), &[("0", storage)])
}

fn many_views_of_one_storage(views: usize, numel: usize) -> Vec<u8> {
    let names: Vec<String> = (0..views).map(|i| format!("w{i}")).collect();
    let size = [numel as i64];
    let views: Vec<View<'_>> = names
        .iter()
        .map(|name| View {
            name,
            key: "0",
            numel: numel as i64,
            offset: 0,
            size: &size,
            stride: &[1],
        })
        .collect();
    legacy_file(&state_dict(&views), &[("0", vec![0.5; numel])])
}

/// Resets the process's peak resident memory (`VmHWM`).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
}

/// A memory figure of this process from `/proc/self/status` (`VmHWM`, `VmRSS`), in bytes.
fn memory(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

#[test]
fn a_well_formed_strided_view_is_read_in_row_major_order() {
    // A 2×3 view of a storage laid out column-first (strides 1, 2), from offset 1.
    let view = View {
        name: "w",
        key: "0",
        numel: 7,
        offset: 1,
        size: &[2, 3],
        stride: &[1, 2],
    };
    let storage = vec![9.0, 0.0, 3.0, 1.0, 4.0, 2.0, 5.0];
    let tensors = read_state_dict(&legacy_file(&state_dict(&[view]), &[("0", storage)])).unwrap();
    assert_eq!(tensors["w"].shape, [2, 3]);
    assert_eq!(tensors["w"].values, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
}

#[cfg(target_os = "linux")]
#[test]
fn crafted_files_are_errors_with_bounded_memory() {
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "nested one-tuples",
            nested_one_tuples(1_000_000),
            &["nested deeper than"],
        ),
        (
            "nested persistent ids",
            nested_persistent_ids(1_000_000),
            &["nested deeper than"],
        ),
        (
            "nested MARK tuples",
            nested_marked_tuples(100_000),
            &["nested deeper than"],
        ),
        (
            "zero strides",
            one_view(&[65536, 65536], &[0, 0], vec![1.0]),
            &["tensor `w` has 4294967296 elements but its storage holds 1"],
        ),
        (
            "size product overflow",
            one_view(&[1 << 62, 8], &[0, 0], vec![1.0]),
            &["tensor `w`: size [4611686018427387904, 8] has too many elements"],
        ),
        (
            "stride overflow",
            one_view(&[3, 1], &[i64::MAX, 1], vec![1.0, 2.0, 3.0]),
            &["tensor `w` reaches outside its storage"],
        ),
        (
            "many views of one storage",
            many_views_of_one_storage(2000, 1 << 18),
            &["more than 4 times the"],
        ),
        (
            "memo fan-out",
            memo_fan_out(200_000),
            &["the pickles build more than"],
        ),
        (
            "memo doubling",
            memo_doubling(64),
            &["the pickles build more than"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, bytes, expect) in cases {
        reset_peak();
        let start = memory("VmRSS");
        let result = read_state_dict(&bytes);
        let peak = memory("VmHWM");
        let message = match &result {
            Ok(tensors) => format!("read {} tensors", tensors.len()),
            Err(e) => e.to_string(),
        };
        drop(result);
        println!(
            "{name:<26} {:>8} bytes  peak RSS {:>6.1} MiB (+{:.1} MiB)  {message}",
            bytes.len(),
            mib(peak),
            mib(peak.saturating_sub(start))
        );
        let missing: Vec<_> = expect.iter().filter(|e| !message.contains(*e)).collect();
        if !missing.is_empty() || peak > MAX_PEAK_BYTES {
            failures.push(format!(
                "{name}: peak {peak} bytes, missing {missing:?} in: {message}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
