//! The test policy for service-backed tests.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Set to `1` to make every service-backed test fail when its service is not configured.
pub const REQUIRE_SERVICES_ENV: &str = "BAAS_REQUIRE_SERVICES";

/// The value of the service variable `var` (for example `BAAS_TEST_POSTGRES_URL`), or
/// `None` after printing one line saying the test skipped and which variable to set.
///
/// # Panics
///
/// When `var` is unset (or empty) and `BAAS_REQUIRE_SERVICES=1`: CI must not pass
/// silently without its servers.
///
/// ```no_run
/// // In a test that needs Postgres (compiled, not run here: under
/// // BAAS_REQUIRE_SERVICES=1 an unset variable fails by design).
/// let Some(url) = baas_core::testing::service("BAAS_TEST_POSTGRES_URL") else {
///     return; // skipped, and said so on stderr
/// };
/// # let _ = url;
/// ```
pub fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ => {
            let required = std::env::var(REQUIRE_SERVICES_ENV).is_ok_and(|v| v.trim() == "1");
            assert!(
                !required,
                "{var} is not set but {REQUIRE_SERVICES_ENV}=1: start the services \
                 (scripts/services.sh start) and eval \"$(scripts/services.sh env)\""
            );
            // Straight to the process's stderr, not `eprintln!`: the test harness captures
            // the macros' output of passing tests, and this line must show in a plain run.
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED: {var} is not set; run scripts/services.sh start and \
                 eval \"$(scripts/services.sh env)\" to run this test"
            );
            None
        }
    }
}

/// A name unique to this process and call, for isolating tests that share a server (a
/// schema, queue name or bucket prefix per test): `<prefix>_<pid>_<n>_<random>`.
///
/// ```
/// let a = baas_core::testing::unique_name("t");
/// let b = baas_core::testing::unique_name("t");
/// assert_ne!(a, b);
/// assert!(a.starts_with("t_"));
/// ```
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}_{n}_{}", std::process::id(), &random[..8])
}
