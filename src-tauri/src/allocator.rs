//! The process's memory allocator: mimalloc, or the C library's when the environment
//! says `ALIGNSCOPE_ALLOCATOR=system` (a way out on a platform where mimalloc misbehaves,
//! and the reference the speed benchmark measures against).
//!
//! Why not the C library's: the CPU backend allocates a fresh output for every tensor op,
//! and glibc maps each block above 32 MiB with `mmap` and unmaps it on free, so the
//! kernel faulted in and zeroed about 24 million pages in three LoginMEA epochs on zh_en
//! (a fifth of the time). mimalloc keeps freed segments for reuse.
//!
//! The choice is made at the first allocation, from the environment read with `getenv`
//! (which does not allocate), and never changes, so every block is freed by the allocator
//! that made it.
//!
//! mimalloc runs with its defaults. Two of its settings trade memory for speed and are
//! left to the environment: `MIMALLOC_PURGE_DELAY=-1` (keep freed memory for reuse
//! instead of returning it to the OS after a second) with `MIMALLOC_ALLOW_LARGE_OS_PAGES=1`
//! (2 MiB pages) took a LoginMEA zh_en epoch from 23 to 17 s but its peak resident memory
//! from 4.3 to 6.1 GB (ARCHITECTURE.md, "CPU speed and memory").

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

/// The environment variable that picks the C library's allocator (`system`).
pub const ALLOCATOR_VARIABLE: &str = "ALIGNSCOPE_ALLOCATOR";

const UNDECIDED: u8 = 0;
const MIMALLOC: u8 = 1;
const SYSTEM: u8 = 2;

static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// mimalloc unless the environment asks for the system allocator.
pub struct Allocator;

/// Whether the C library's allocator serves this process.
pub fn uses_system_allocator() -> bool {
    choice() == SYSTEM
}

fn choice() -> u8 {
    match CHOICE.load(Ordering::Relaxed) {
        UNDECIDED => {
            // SAFETY: the name is a NUL-terminated constant; `getenv` returns null or a
            // NUL-terminated string that lives as long as the environment is not changed,
            // and it is read here at once. Threads racing here read the same value.
            let picked = unsafe {
                let value = libc::getenv(c"ALIGNSCOPE_ALLOCATOR".as_ptr());
                if !value.is_null() && std::ffi::CStr::from_ptr(value).to_bytes() == b"system" {
                    SYSTEM
                } else {
                    MIMALLOC
                }
            };
            CHOICE.store(picked, Ordering::Relaxed);
            picked
        }
        decided => decided,
    }
}

// SAFETY: each call is forwarded to one of two sound allocators, always the same one for
// the life of the process (see `choice`), so a block is freed by the allocator that made it.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if choice() == SYSTEM {
                System.alloc(layout)
            } else {
                mimalloc::MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if choice() == SYSTEM {
                System.alloc_zeroed(layout)
            } else {
                mimalloc::MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if choice() == SYSTEM {
                System.dealloc(ptr, layout)
            } else {
                mimalloc::MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if choice() == SYSTEM {
                System.realloc(ptr, layout, new_size)
            } else {
                mimalloc::MiMalloc.realloc(ptr, layout, new_size)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_is_made_once_and_agrees_with_the_environment() {
        let wanted = std::env::var(ALLOCATOR_VARIABLE).as_deref() == Ok("system");
        let blocks: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 1 << (i % 22)]).collect();
        assert!(
            blocks
                .iter()
                .enumerate()
                .all(|(i, b)| b.iter().all(|&x| x == i as u8))
        );
        assert_eq!(uses_system_allocator(), wanted);
        assert_ne!(CHOICE.load(Ordering::Relaxed), UNDECIDED);
    }
}
