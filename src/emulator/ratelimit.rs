//! Discord's rate limits, as documented at
//! <https://discord.com/developers/docs/topics/rate-limits>:
//! - every answer to a bot carries `X-RateLimit-Limit`, `-Remaining`,
//!   `-Reset`, `-Reset-After` and `-Bucket` for its route's bucket (keyed by
//!   the route and its top-level resource: channel, guild or webhook);
//! - a request beyond its bucket is answered 429 with `retry_after`,
//!   `Retry-After` and `X-RateLimit-Scope: user`;
//! - beyond 50 requests a second in all (the global limit; interaction
//!   callbacks and webhooks excluded) it is answered 429 with
//!   `"global": true` and `X-RateLimit-Global: true`.
//!
//! Bucket sizes are not documented ("do not hard-code them"); by default a
//! bucket allows 50 a second, so that tests stay fast; [`Limits::strict`]
//! uses what Discord is seen to apply to messages (5 per 5 s per channel).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many requests a bucket allows per window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) per_bucket: u32,
    pub(crate) window: Duration,
}

impl Limits {
    pub(crate) fn lenient() -> Self {
        Self {
            per_bucket: 50,
            window: Duration::from_secs(1),
        }
    }

    pub(crate) fn strict() -> Self {
        Self {
            per_bucket: 5,
            window: Duration::from_secs(5),
        }
    }
}

/// The global limit: requests per second across all routes.
pub(crate) const GLOBAL_PER_SECOND: usize = 50;

struct Bucket {
    used: u32,
    reset_at: Instant,
}

/// The state of every bucket and of the global limit.
pub(crate) struct RateLimiter {
    pub(crate) limits: Limits,
    buckets: HashMap<String, Bucket>,
    recent: VecDeque<Instant>,
}

/// What the limiter says of one request.
pub(crate) enum Verdict {
    /// Go on, and add these headers to the answer.
    Allowed(Vec<(&'static str, String)>),
    /// 429: the body and the headers.
    Limited {
        global: bool,
        retry_after: Duration,
        headers: Vec<(&'static str, String)>,
    },
}

fn epoch(at: Instant) -> f64 {
    let now = Instant::now();
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    wall + at.saturating_duration_since(now).as_secs_f64()
}

/// The bucket of a route: the route and its top-level resource (a
/// channel, a guild, a webhook with its token, an interaction with its
/// token: each interaction is answered in buckets of its own).
pub(crate) fn bucket_key(method: &str, template: &str, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let major = if ["/channels/", "/guilds/"]
        .iter()
        .any(|p| template.starts_with(p))
    {
        segments.get(1).copied().unwrap_or("").to_owned()
    } else if ["/webhooks/", "/interactions/"]
        .iter()
        .any(|p| template.starts_with(p))
    {
        segments.get(1..3).map(|s| s.join("/")).unwrap_or_default()
    } else {
        String::new()
    };
    format!("{method} {template} {major}")
}

impl RateLimiter {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            buckets: HashMap::new(),
            recent: VecDeque::new(),
        }
    }

    /// Counts one request to `bucket` (`global`: whether it counts against
    /// the global limit).
    pub(crate) fn check(&mut self, bucket: &str, global: bool) -> Verdict {
        let now = Instant::now();
        if global {
            while self
                .recent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                self.recent.pop_front();
            }
            if self.recent.len() >= GLOBAL_PER_SECOND {
                let retry_after = self.recent.front().map_or(Duration::from_millis(100), |t| {
                    Duration::from_secs(1).saturating_sub(now.duration_since(*t))
                });
                return Verdict::Limited {
                    global: true,
                    retry_after,
                    headers: vec![
                        (
                            "retry-after",
                            format!("{:.3}", retry_after.as_secs_f64().max(0.001)),
                        ),
                        ("x-ratelimit-global", "true".into()),
                        ("x-ratelimit-scope", "global".into()),
                    ],
                };
            }
            self.recent.push_back(now);
        }
        let limits = self.limits;
        let b = self.buckets.entry(bucket.to_owned()).or_insert(Bucket {
            used: 0,
            reset_at: now + limits.window,
        });
        if now >= b.reset_at {
            b.used = 0;
            b.reset_at = now + limits.window;
        }
        let hash = format!("{:016x}", fnv(bucket));
        let reset_after = b.reset_at.saturating_duration_since(now);
        let headers = |remaining: u32| {
            vec![
                ("x-ratelimit-limit", limits.per_bucket.to_string()),
                ("x-ratelimit-remaining", remaining.to_string()),
                ("x-ratelimit-reset", format!("{:.3}", epoch(b.reset_at))),
                (
                    "x-ratelimit-reset-after",
                    format!("{:.3}", reset_after.as_secs_f64()),
                ),
                ("x-ratelimit-bucket", hash.clone()),
            ]
        };
        if b.used >= limits.per_bucket {
            let mut h = headers(0);
            h.push((
                "retry-after",
                format!("{:.3}", reset_after.as_secs_f64().max(0.001)),
            ));
            h.push(("x-ratelimit-scope", "user".into()));
            return Verdict::Limited {
                global: false,
                retry_after: reset_after,
                headers: h,
            };
        }
        b.used += 1;
        Verdict::Allowed(headers(limits.per_bucket - b.used))
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_runs_out_and_says_when_it_resets() {
        let mut limiter = RateLimiter::new(Limits::strict());
        let key = bucket_key(
            "POST",
            "/channels/{channel_id}/messages",
            "/channels/7/messages",
        );
        for left in (0..5).rev() {
            let Verdict::Allowed(h) = limiter.check(&key, true) else {
                panic!("limited too early");
            };
            assert!(h.contains(&("x-ratelimit-remaining", left.to_string())));
        }
        let Verdict::Limited {
            global, headers, ..
        } = limiter.check(&key, true)
        else {
            panic!("not limited");
        };
        assert!(!global);
        assert!(
            headers
                .iter()
                .any(|(k, v)| *k == "x-ratelimit-scope" && v == "user")
        );
        // Another channel is another bucket.
        let other = bucket_key(
            "POST",
            "/channels/{channel_id}/messages",
            "/channels/8/messages",
        );
        assert!(matches!(limiter.check(&other, true), Verdict::Allowed(_)));
    }

    #[test]
    fn fifty_a_second_in_all() {
        let mut limiter = RateLimiter::new(Limits::lenient());
        for i in 0..GLOBAL_PER_SECOND {
            let key = format!("GET /channels/{{channel_id}} {i}");
            assert!(matches!(limiter.check(&key, true), Verdict::Allowed(_)));
        }
        assert!(matches!(
            limiter.check("GET /users/@me ", true),
            Verdict::Limited { global: true, .. }
        ));
        // Interaction callbacks do not count against it.
        assert!(matches!(
            limiter.check("POST /interactions ", false),
            Verdict::Allowed(_)
        ));
    }
}
