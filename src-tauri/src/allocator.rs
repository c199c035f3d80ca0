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
//! Blocks of 8 MiB and more (a tensor of 38,960 x 300 is 47 MB) bypass mimalloc on Linux:
//! each is its own mapping, advised to use 2 MiB transparent huge pages and unmapped on
//! free ([`large`]). Fresh memory is then faulted in 2 MiB at a time: writing 400 MB of
//! fresh memory took 0.31 s in 4 KiB pages and 0.07 s in huge pages on the 2-core
//! machine (a virtual machine, where every fault is dear); the column concatenations of
//! LoginMEA's evaluation spent most of their time there. Freed big blocks go back to the
//! system at once, so the peak stays what the program holds.
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

/// Which allocator serves a block of `layout` (the same answer when it is freed, as
/// the size and alignment are the caller's).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    System,
    Mimalloc,
    Large,
}

fn route(layout: Layout) -> Route {
    if choice() == SYSTEM {
        Route::System
    } else if large::serves(layout) {
        Route::Large
    } else {
        Route::Mimalloc
    }
}

// SAFETY: each call is forwarded to one of three sound allocators, picked from the
// process-wide choice (fixed at the first allocation, see `choice`) and the block's
// layout, which the caller passes unchanged when freeing or resizing; so a block is
// always freed by the allocator that made it. `realloc` between routes allocates,
// copies and frees.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match route(layout) {
                Route::System => System.alloc(layout),
                Route::Mimalloc => mimalloc::MiMalloc.alloc(layout),
                Route::Large => large::alloc(layout, false),
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match route(layout) {
                Route::System => System.alloc_zeroed(layout),
                Route::Mimalloc => mimalloc::MiMalloc.alloc_zeroed(layout),
                Route::Large => large::alloc(layout, true),
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match route(layout) {
                Route::System => System.dealloc(ptr, layout),
                Route::Mimalloc => mimalloc::MiMalloc.dealloc(ptr, layout),
                Route::Large => large::dealloc(ptr, layout),
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let (from, to) = (route(layout), route(new_layout));
        // SAFETY: forwarded with the caller's guarantees; across routes the old block
        // holds `layout.size()` bytes and the new one at least `min(old, new)`.
        unsafe {
            match (from, to) {
                (Route::System, _) => System.realloc(ptr, layout, new_size),
                (Route::Mimalloc, Route::Mimalloc) => {
                    mimalloc::MiMalloc.realloc(ptr, layout, new_size)
                }
                (Route::Large, Route::Large) => large::realloc(ptr, layout, new_size),
                _ => {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

/// Big blocks as their own mappings with transparent huge pages (Linux).
#[cfg(target_os = "linux")]
mod large {
    use std::alloc::Layout;
    use std::sync::Mutex;

    /// Blocks from this size on are mapped on their own.
    const THRESHOLD: usize = 8 << 20;
    /// A transparent huge page.
    const HUGE_PAGE: usize = 2 << 20;

    /// Whether a block of `layout` is mapped on its own (alignments up to a page).
    pub fn serves(layout: Layout) -> bool {
        layout.size() >= THRESHOLD && layout.align() <= 4096
    }

    fn mapped_len(size: usize) -> usize {
        size.div_ceil(HUGE_PAGE) * HUGE_PAGE
    }

    /// Freed blocks kept mapped for the next allocation of about their size, so that
    /// blocks made and dropped over and over (each training step's tensors, the matrix
    /// products' packing buffers) do not fault in fresh pages every time: the kernel
    /// zeroes every page of a new mapping, which took a quarter of a LoginMEA epoch.
    ///
    /// Kept blocks never raise the process's peak: live and kept bytes together stay
    /// within the most that was ever live at once (a fresh block past that first unmaps
    /// kept ones), so the cache only fills the room the peak already paid for.
    static CACHE: Mutex<Cache> = Mutex::new(Cache {
        blocks: [(0, 0); CACHE_SLOTS],
        kept: 0,
        live: 0,
        peak: 0,
    });
    const CACHE_SLOTS: usize = 256;

    /// The kept blocks and the byte counts that bound them.
    struct Cache {
        /// (address, mapped length); length 0 marks a free slot.
        blocks: [(usize, usize); CACHE_SLOTS],
        /// Bytes in kept blocks.
        kept: usize,
        /// Bytes in blocks handed out and not yet freed.
        live: usize,
        /// The most `live` has been.
        peak: usize,
    }

    impl Cache {
        /// Takes the smallest kept block of `len` to `len + len / 4` bytes.
        fn take(&mut self, len: usize) -> Option<(usize, usize)> {
            let slot = (0..CACHE_SLOTS)
                .filter(|&i| {
                    let kept = self.blocks[i].1;
                    kept >= len && kept <= len + len / 4
                })
                .min_by_key(|&i| self.blocks[i].1)?;
            let block = std::mem::take(&mut self.blocks[slot]);
            self.kept -= block.1;
            Some(block)
        }

        /// Counts `len` more live bytes, unmapping kept blocks (largest first) until
        /// live and kept bytes fit under the peak.
        fn grow_live(&mut self, len: usize) {
            self.live += len;
            self.peak = self.peak.max(self.live);
            while self.live + self.kept > self.peak {
                let Some(slot) = (0..CACHE_SLOTS)
                    .filter(|&i| self.blocks[i].1 > 0)
                    .max_by_key(|&i| self.blocks[i].1)
                else {
                    break;
                };
                let (address, kept) = std::mem::take(&mut self.blocks[slot]);
                self.kept -= kept;
                // SAFETY: a kept block is a mapping of `kept` bytes that nothing uses.
                unsafe {
                    libc::munmap(address as *mut libc::c_void, kept);
                }
            }
        }

        /// Counts `len` fewer live bytes and keeps the freed block if a slot is free;
        /// whether it did.
        fn release(&mut self, address: usize, len: usize) -> bool {
            self.live -= len;
            match self.blocks.iter().position(|b| b.1 == 0) {
                Some(slot) => {
                    self.blocks[slot] = (address, len);
                    self.kept += len;
                    true
                }
                None => false,
            }
        }
    }

    fn cache() -> std::sync::MutexGuard<'static, Cache> {
        CACHE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A block of at least `layout.size()` bytes starting on a huge-page boundary: a kept
    /// one (zeroed first when `zeroed`), else a fresh mapping (zero already) advised to
    /// use huge pages; null when the system refuses.
    ///
    /// # Safety
    /// `layout` must be one that [`serves`] accepts.
    pub unsafe fn alloc(layout: Layout, zeroed: bool) -> *mut u8 {
        let len = mapped_len(layout.size());
        let kept = {
            let mut cache = cache();
            let kept = cache.take(len);
            cache.grow_live(len);
            kept
        };
        if let Some((address, kept_len)) = kept {
            // SAFETY: the kept mapping is `kept_len >= len` bytes from `address`; its tail
            // past `len` is unmapped so that the block is exactly `len` bytes, as
            // `dealloc` and `realloc` expect.
            unsafe {
                if kept_len > len {
                    libc::munmap((address + len) as *mut libc::c_void, kept_len - len);
                }
                if zeroed {
                    std::ptr::write_bytes(address as *mut u8, 0, layout.size());
                }
            }
            return address as *mut u8;
        }
        // SAFETY: `len` is a multiple of the huge-page size.
        let fresh = unsafe { map_aligned(len) };
        if fresh.is_null() {
            cache().live -= len;
        }
        fresh
    }

    /// A fresh mapping of `len` bytes on a huge-page boundary, advised to use huge
    /// pages; null when the system refuses.
    ///
    /// # Safety
    /// `len` must be a multiple of [`HUGE_PAGE`].
    unsafe fn map_aligned(len: usize) -> *mut u8 {
        // Map a huge page more, then unmap the unaligned head and the tail.
        // SAFETY: an anonymous private mapping; the trimmed ranges lie inside it.
        unsafe {
            let raw = libc::mmap(
                std::ptr::null_mut(),
                len + HUGE_PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if raw == libc::MAP_FAILED {
                return std::ptr::null_mut();
            }
            let start = raw as usize;
            let aligned = start.next_multiple_of(HUGE_PAGE);
            if aligned > start {
                libc::munmap(raw, aligned - start);
            }
            let tail = aligned + len;
            let end = start + len + HUGE_PAGE;
            if end > tail {
                libc::munmap(tail as *mut libc::c_void, end - tail);
            }
            libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            aligned as *mut u8
        }
    }

    /// Keeps a block from [`alloc`] or [`realloc`] for reuse, or unmaps it.
    ///
    /// # Safety
    /// `ptr` must come from this module with the same `layout.size()`.
    pub unsafe fn dealloc(ptr: *mut u8, layout: Layout) {
        let len = mapped_len(layout.size());
        if cache().release(ptr as usize, len) {
            return;
        }
        // SAFETY: the mapping is `len` bytes from `ptr`.
        unsafe {
            libc::munmap(ptr.cast(), len);
        }
    }

    /// Grows or shrinks a block in place or by moving its pages (no copy).
    ///
    /// # Safety
    /// `ptr` must come from this module with `layout`; `new_size` must be one [`serves`]
    /// accepts.
    pub unsafe fn realloc(ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (old, new) = (mapped_len(layout.size()), mapped_len(new_size));
        if old == new {
            return ptr;
        }
        {
            let mut cache = cache();
            cache.live -= old;
            cache.grow_live(new);
        }
        // SAFETY: the mapping is `old` bytes from `ptr`; the kernel moves it if needed.
        unsafe {
            let moved = libc::mremap(ptr.cast(), old, new, libc::MREMAP_MAYMOVE);
            if moved == libc::MAP_FAILED {
                let mut cache = cache();
                cache.live = cache.live + old - new;
                return std::ptr::null_mut();
            }
            libc::madvise(moved, new, libc::MADV_HUGEPAGE);
            moved.cast()
        }
    }
}

/// Elsewhere every block goes to mimalloc.
#[cfg(not(target_os = "linux"))]
mod large {
    use std::alloc::Layout;

    pub fn serves(_layout: Layout) -> bool {
        false
    }

    pub unsafe fn alloc(_layout: Layout, _zeroed: bool) -> *mut u8 {
        unreachable!("no block is routed here")
    }

    pub unsafe fn dealloc(_ptr: *mut u8, _layout: Layout) {
        unreachable!("no block is routed here")
    }

    pub unsafe fn realloc(_ptr: *mut u8, _layout: Layout, _new_size: usize) -> *mut u8 {
        unreachable!("no block is routed here")
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
        // Big blocks: zeroed, grown and shrunk across the 8 MiB line, values kept.
        let mut big = vec![0u32; 3 << 20];
        assert!(big.iter().all(|&x| x == 0));
        big.iter_mut().enumerate().for_each(|(i, x)| *x = i as u32);
        big.extend(3u32 << 20..7 << 20);
        assert!(big.iter().enumerate().all(|(i, &x)| x == i as u32));
        big.truncate(1 << 10);
        big.shrink_to_fit();
        assert!(big.iter().enumerate().all(|(i, &x)| x == i as u32));
        // Freed big blocks are kept and handed out again, zeroed where zeros are asked for
        // (`vec![0; n]`), whole where not.
        for round in 0..4u8 {
            let mut dirty = vec![0u8; 20 << 20];
            dirty.fill(0xA0 | round);
            drop(dirty);
            let clean = vec![0u8; 19 << 20];
            assert!(clean.iter().all(|&x| x == 0), "round {round}");
            let mut reused: Vec<u8> = Vec::with_capacity(18 << 20);
            reused.resize(18 << 20, round);
            assert!(reused.iter().all(|&x| x == round));
        }
        assert_eq!(uses_system_allocator(), wanted);
        assert_ne!(CHOICE.load(Ordering::Relaxed), UNDECIDED);
    }
}
