//! A small mutation fuzzer for b4k's readers, run by `cargo test` for a bounded
//! time (`B4K_FUZZ_SECS` per target, default 2; `make check` gives more): inputs
//! are the tree's own files and hand-written seeds, mutated with byte flips,
//! truncations, duplications and splices of the formats' own tokens. The property
//! checked is the one a user relies on: a reader returns (an error or a value)
//! in bounded time, and never panics or overflows its stack.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A xorshift64* generator: deterministic for a seed, no dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A value below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// One mutation of `input`: flip, delete, duplicate, truncate, or splice a token
/// (several times over, repeated tokens make deep nesting and long chains).
pub fn mutate(rng: &mut Rng, input: &[u8], tokens: &[&str]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(8) {
        let at = if v.is_empty() {
            0
        } else {
            rng.below(v.len() + 1)
        };
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let end = (at + rng.below(64)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 if !v.is_empty() => {
                let start = rng.below(v.len());
                let end = (start + rng.below(256)).min(v.len());
                let piece = v[start..end].to_vec();
                v.splice(at..at, piece);
            }
            3 => v.truncate(at),
            _ => {
                let t = tokens[rng.below(tokens.len())].as_bytes();
                let times = if rng.below(16) == 0 {
                    1 + rng.below(3000)
                } else {
                    1
                };
                let piece: Vec<u8> = t.iter().copied().cycle().take(t.len() * times).collect();
                v.splice(at..at, piece);
            }
        }
    }
    v.truncate(1 << 20);
    v
}

/// Runs `check` on mutations of `seeds` for `B4K_FUZZ_SECS` seconds (default
/// `default_secs`); returns the number of inputs tried. A panic is reported with
/// the input written to `target/fuzz-failures/<name>-<n>`.
pub fn run(name: &str, seeds: &[Vec<u8>], tokens: &[&str], check: &dyn Fn(&[u8])) -> usize {
    let secs: u64 = std::env::var("B4K_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut rng = Rng::new(0x5eed ^ name.len() as u64);
    let mut n = 0;
    while n < seeds.len() || Instant::now() < deadline {
        let input = if n < seeds.len() {
            seeds[n].clone()
        } else {
            let seed = rng.below(seeds.len());
            mutate(&mut rng, &seeds[seed], tokens)
        };
        // Kept while it runs: an abort (out of memory, stack overflow) leaves it behind.
        let current = save(name, usize::MAX, &input);
        let started = Instant::now();
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            let p = save(name, n, &input);
            panic!("{name}: input #{n} panicked; it is in {}", p.display());
        }
        if started.elapsed() > Duration::from_secs(10) {
            let p = save(name, n, &input);
            panic!(
                "{name}: input #{n} took {:?}; it is in {}",
                started.elapsed(),
                p.display()
            );
        }
        let _ = std::fs::remove_file(current);
        n += 1;
    }
    n
}

fn save(name: &str, n: usize, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let p = match n {
        usize::MAX => dir.join(format!("{name}-running")),
        n => dir.join(format!("{name}-{n}")),
    };
    let _ = std::fs::write(&p, input);
    p
}

/// A scratch directory for one target, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// `$TMPDIR/b4k-fuzz-<name>-<pid>`, empty.
    pub fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("b4k-fuzz-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_default();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
