//! Argon2id password hashes. Hashing is CPU work, so it runs on the blocking
//! pool, never on a request's async thread; and each hash needs 19 MiB and a
//! thread, so a sign-in verifies only inside one of a few [`HashingSlots`],
//! each owning its 19 MiB for the life of the process. (Allocating them per
//! hash left the freed blocks with the allocator: 30 sequential sign-ins
//! grew the process by 150 MB.)

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::domain::TextKind;
use crate::error::{Error, Result};

/// A password as typed: checked for length, never printed by `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = TextKind::PASSWORD.max_chars;

    /// A new password: the rule of passwords, and long enough.
    pub fn parse(raw: &str) -> std::result::Result<Password, String> {
        let raw = TextKind::PASSWORD.check("password", raw)?;
        if raw.chars().count() < Password::MIN_LEN {
            return Err(format!(
                "password: at least {} characters",
                Password::MIN_LEN
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    /// A random password for `serve --demo` (about 120 bits).
    pub fn generate() -> Password {
        use rand::Rng;
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rngs::OsRng;
        let s: String = (0..22)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        Password(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// How many password verifications may run at once in this process (about
/// one per core), and how long a sign-in waits for one before it is told to
/// come back. Clones share the slots.
#[derive(Debug, Clone)]
pub struct HashingSlots {
    slots: Arc<Semaphore>,
    /// The working memory of slots not in use; at most one per slot.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
    size: usize,
    wait: Duration,
}

/// One of the [`HashingSlots`] and its working memory, held until its
/// verification has finished (dropping it frees the slot).
pub struct HashingSlot {
    memory: Vec<Block>,
    pool: Arc<Mutex<Vec<Vec<Block>>>>,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for HashingSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashingSlot({} KiB)", self.memory.len())
    }
}

impl Drop for HashingSlot {
    /// The memory goes back to the pool before the permit is released, so
    /// the next holder finds it there.
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        if !memory.is_empty() {
            lock(&self.pool).push(memory);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl HashingSlots {
    /// How long a sign-in waits for a slot unless configured otherwise.
    pub const DEFAULT_WAIT: Duration = Duration::from_secs(2);

    pub fn new(size: usize, wait: Duration) -> HashingSlots {
        let size = size.max(1);
        HashingSlots {
            slots: Arc::new(Semaphore::new(size)),
            memory: Arc::new(Mutex::new(Vec::new())),
            size,
            wait,
        }
    }

    /// One slot per core this process may use.
    pub fn per_core(wait: Duration) -> HashingSlots {
        HashingSlots::new(cores(), wait)
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// A free slot, or `None` when none came free within the wait. Waiters
    /// are served in the order they came.
    pub async fn take(&self) -> Option<HashingSlot> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Some(HashingSlot {
                memory: lock(&self.memory).pop().unwrap_or_default(),
                pool: self.memory.clone(),
                _permit: permit,
            }),
            _ => None,
        }
    }
}

impl Default for HashingSlots {
    fn default() -> Self {
        HashingSlots::per_core(HashingSlots::DEFAULT_WAIT)
    }
}

/// The cores this process may use (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn our_params() -> Params {
    // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, our_params())
}

/// Checks `password` against a stored PHC string in `memory` (grown once to
/// our parameters' size; a hash needing more gets memory of its own for the
/// call). `None`: the stored hash is malformed.
fn check_in(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> Option<bool> {
    let parsed = PasswordHash::new(stored).ok()?;
    let expected = parsed.hash?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let needed = params.block_count();
    if memory.len() < our_params().block_count() {
        memory.resize(our_params().block_count(), Block::default());
    }
    let mut own = Vec::new();
    let blocks = if needed <= memory.len() {
        &mut memory[..needed]
    } else {
        own.resize(needed, Block::default());
        &mut own[..]
    };
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, blocks)
        .ok()?;
    // `Output` compares in constant time.
    Some(Output::new(&out).ok()? == expected)
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a password failed: {e}")))
}

/// A hash of nothing anyone knows, verified for unknown emails so they cost
/// what a wrong password costs.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("tenantatlas-dummy-password-for-timing").unwrap_or_default())
}

pub async fn hash_password(password: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password.0))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
}

/// Verifies `password` against `hash`, or against the dummy hash when there
/// is none (and then answers false), taking the same time either way. The
/// slot is given back when the work is done, even if the caller has gone.
pub async fn verify_password(
    slot: HashingSlot,
    password: &str,
    hash: Option<String>,
) -> Result<bool> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut slot = slot;
        let known = hash.is_some();
        let stored = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = match check_in(&mut slot.memory, password.as_bytes(), &stored) {
            Some(ok) => ok,
            None => {
                // A malformed stored hash: still spend the time, then refuse.
                let _ = check_in(&mut slot.memory, password.as_bytes(), dummy_hash());
                false
            }
        };
        ok && known
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("verifying task failed: {e}")))
}

/// Warms the dummy hash so the first unknown email is not slower than later ones.
pub fn warm_up() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_is_false() {
        let h = hash_password(Password::parse("correct horse battery").unwrap())
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$"));
        let slots = HashingSlots::new(1, Duration::from_secs(5));
        let verify = async |password: &str, hash: Option<String>| {
            let slot = slots.take().await.unwrap();
            verify_password(slot, password, hash).await.unwrap()
        };
        assert!(verify("correct horse battery", Some(h.clone())).await);
        assert!(!verify("wrong password here", Some(h)).await);
        assert!(!verify("tenantatlas-dummy-password-for-timing", None).await);
    }

    #[tokio::test]
    async fn slots_keep_their_memory_and_check_other_parameters_too() {
        let slots = HashingSlots::new(1, Duration::from_secs(5));
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let h = small
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        for (password, expected) in [("correct horse battery", true), ("wrong one here", false)] {
            let slot = slots.take().await.unwrap();
            assert!(slot.memory.is_empty() || slot.memory.len() == our_params().block_count());
            let ok = verify_password(slot, password, Some(h.clone()))
                .await
                .unwrap();
            assert_eq!(ok, expected);
        }
        assert_eq!(lock(&slots.memory).len(), 1);
        assert_eq!(lock(&slots.memory)[0].len(), our_params().block_count());
        let slot = slots.take().await.unwrap();
        assert!(
            !verify_password(slot, "x", Some("not a hash".into()))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_slot_is_refused_after_the_wait_and_free_again_when_given_back() {
        let slots = HashingSlots::new(1, Duration::from_millis(50));
        let held = slots.take().await.unwrap();
        assert!(slots.take().await.is_none());
        drop(held);
        assert!(slots.take().await.is_some());
    }
}
