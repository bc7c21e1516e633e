//! Rate limits on sign-in, sign-up and reset requests: a fixed-window counter per key (an action
//! and an address or an email), in this process, or in Redis when `REDIS_URL` is set so that
//! every instance counts together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Attempts allowed per window, as Rails 8's authentication generator allows sign-ins.
pub const DEFAULT_LIMIT: u32 = 10;

/// The window the attempts are counted over.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3 * 60);

/// How long a Redis command may take before the process counts alone for that attempt.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// Counts attempts per key and refuses the ones past the limit until their window ends.
#[derive(Clone)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    local: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
    redis: Option<ConnectionManager>,
}

impl RateLimiter {
    /// A limiter that counts in this process.
    pub fn in_process(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            local: Arc::default(),
            redis: None,
        }
    }

    /// A limiter that counts in Redis at `url`, so that every instance shares the counts. It
    /// connects lazily; while Redis cannot be reached, each process counts alone.
    pub fn redis(url: &str, limit: u32, window: Duration) -> Result<Self, redis::RedisError> {
        if url.starts_with("rediss://") {
            // rustls needs one process-wide crypto provider; an error means one is installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(RateLimiter {
            redis: Some(connection),
            ..RateLimiter::in_process(limit, window)
        })
    }

    /// Counts one attempt for every key; when any of them is past the limit, the attempt is
    /// refused with how long until that key's window ends.
    pub async fn attempt(&self, keys: &[String]) -> Result<(), Duration> {
        let mut wait = None;
        for key in keys {
            if let Err(left) = self.attempt_one(key).await {
                wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
            }
        }
        wait.map_or(Ok(()), Err)
    }

    async fn attempt_one(&self, key: &str) -> Result<(), Duration> {
        let (count, left) = match &self.redis {
            Some(connection) => match self.count_in_redis(connection.clone(), key).await {
                Ok(counted) => counted,
                Err(error) => {
                    tracing::warn!(
                        "rate limit: Redis is unavailable ({error}); counting in this process"
                    );
                    self.count_locally(key)
                }
            },
            None => self.count_locally(key),
        };
        if count > self.limit {
            Err(left)
        } else {
            Ok(())
        }
    }

    /// Counts in a window that starts with the first attempt and lasts `window`.
    fn count_locally(&self, key: &str) -> (u32, Duration) {
        let now = Instant::now();
        let mut counts = self
            .local
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget the windows that ended, so the map holds only the last few minutes' keys.
        if counts.len() > 10_000 {
            counts.retain(|_, (started, _)| now.duration_since(*started) < self.window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let left = self.window.saturating_sub(now.duration_since(entry.0));
        (entry.1, left)
    }

    /// The same window in Redis: the key is created with the window as its expiry, then
    /// incremented, in one transaction.
    async fn count_in_redis(
        &self,
        mut connection: ConnectionManager,
        key: &str,
    ) -> redis::RedisResult<(u32, Duration)> {
        let key = format!("{}:rate:{key}", env!("CARGO_PKG_NAME"));
        let seconds = self.window.as_secs().max(1);
        let (count, ttl): (u32, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("EX")
            .arg(seconds)
            .arg("NX")
            .ignore()
            .incr(&key, 1)
            .ttl(&key)
            .query_async(&mut connection)
            .await?;
        let left = Duration::from_secs(u64::try_from(ttl).unwrap_or(seconds));
        Ok((count, left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_attempt_past_the_limit_is_refused_until_the_window_ends() {
        let limiter = RateLimiter::in_process(3, Duration::from_secs(60));
        let keys = ["sign_in:ip:127.0.0.1".to_owned()];
        for _ in 0..3 {
            assert_eq!(limiter.attempt(&keys).await, Ok(()));
        }
        let wait = limiter.attempt(&keys).await.unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        // Another key has its own count.
        assert_eq!(
            limiter.attempt(&["sign_in:ip:10.0.0.1".to_owned()]).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn a_new_window_starts_afresh() {
        let limiter = RateLimiter::in_process(1, Duration::from_millis(50));
        let keys = ["k".to_owned()];
        assert_eq!(limiter.attempt(&keys).await, Ok(()));
        assert!(limiter.attempt(&keys).await.is_err());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(limiter.attempt(&keys).await, Ok(()));
    }
}
