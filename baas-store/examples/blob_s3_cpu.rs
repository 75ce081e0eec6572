//! Where the time of a small S3 put goes: 4 KiB puts, one at a time, through
//! `ObjectBlobStore` (SQLite ledger) and as raw `object_store` puts, reporting per put
//! the wall time, the CPU time of this process and the CPU time of the S3 server
//! process (read from `/proc/<pid>/stat`, Linux). On a machine where the server shares
//! the cores, the server's CPU per put is the figure that decides throughput.
//!
//! Three workloads, alternated for three rounds: `raw` (a raw put overwriting one of 8
//! paths: the object alone, without the metadata insert that the criterion bench's raw
//! baseline adds), `store` (a store put replacing one of 8 keys: a new version, the ledger
//! commit, and the replaced version's deletion in the background) and `store_new` (a
//! store put of a fresh key, replacing nothing).
//!
//! ```text
//! eval "$(scripts/services.sh env)"
//! BAAS_BENCH_SERVER_PID=$(pgrep -f 'weed server') \
//!   cargo run -p baas-store --all-features --release --example blob_s3_cpu -- [puts]
//! ```
#![allow(clippy::print_stdout)]

#[cfg(all(feature = "s3", feature = "sql"))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::Arc;
    use std::time::Instant;

    use baas_core::{MasterKey, TenantId};
    use baas_store::blob::{
        BlobLedger, BlobLimits, BlobStore, ObjectBlobStore, SqlBlobLedger, UrlSigner,
        body_from_bytes,
    };
    use bytes::Bytes;
    use object_store::path::Path;
    use object_store::{ObjectStore, ObjectStoreExt as _};

    /// User plus system CPU seconds of a process, from `/proc/<pid>/stat`.
    fn cpu_seconds(pid: &str) -> Result<f64, Box<dyn std::error::Error>> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .ok_or("malformed stat")?
            .1
            .split_whitespace()
            .collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        Ok(ticks / 100.0)
    }

    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} must be set"));
    let server = var("BAAS_BENCH_SERVER_PID")?;
    let endpoint = var("BAAS_TEST_S3_ENDPOINT")?;
    let puts: usize = std::env::args().nth(1).map_or(Ok(1000), |a| a.parse())?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let raw: Arc<dyn ObjectStore> = Arc::new(baas_store::blob::testing::test_s3_client(&endpoint));
    let dir = tempfile::tempdir()?;
    let db = baas_store::Database::connect(&format!(
        "sqlite://{}",
        dir.path().join("ledger.db").display()
    ))
    .await?;
    db.migrate().await?;
    let ledger: Arc<dyn BlobLedger> = Arc::new(SqlBlobLedger::new(db.connection().clone()));
    let signer = UrlSigner::new(&MasterKey::generate(), baas_core::clock::system());
    let store = ObjectBlobStore::new(raw.clone(), ledger, signer).with_limits(BlobLimits {
        max_object_bytes: 1 << 30,
        tenant_quota_bytes: u64::MAX / 4,
    });
    let tenant = TenantId::new("cpu-bench")?;
    let data = Bytes::from(vec![7u8; 4 << 10]);
    let per_put = |seconds: f64| seconds * 1e3 / puts as f64;

    println!("workload   wall ms/put  client cpu ms/put  server cpu ms/put");
    for round in 0..3 {
        for workload in ["raw", "store", "store_new"] {
            let (server0, client0) = (cpu_seconds(&server)?, cpu_seconds("self")?);
            let started = Instant::now();
            for i in 0..puts {
                let body = body_from_bytes(data.clone());
                match workload {
                    "raw" => {
                        let path = Path::from(format!("cpu-bench/raw/k{}", i % 8));
                        raw.put(&path, data.clone().into()).await?;
                    }
                    "store" => {
                        let key = format!("k{}", i % 8);
                        store
                            .put(&tenant, &key, "application/octet-stream", body)
                            .await?;
                    }
                    _ => {
                        let key = format!("new/{round}/{i}");
                        store
                            .put(&tenant, &key, "application/octet-stream", body)
                            .await?;
                    }
                }
            }
            // The replaced versions' deletions are part of the store's work.
            store.wait_for_discards().await;
            let wall = started.elapsed().as_secs_f64();
            let server = cpu_seconds(&server)? - server0;
            let client = cpu_seconds("self")? - client0;
            println!(
                "{workload:<10} {:>11.3} {:>18.3} {:>18.3}",
                per_put(wall),
                per_put(client),
                per_put(server)
            );
        }
    }
    // Clean up what the run wrote.
    for i in 0..8 {
        store.delete(&tenant, &format!("k{i}")).await?;
        raw.delete(&Path::from(format!("cpu-bench/raw/k{i}")))
            .await?;
    }
    for round in 0..3 {
        for i in 0..puts {
            store.delete(&tenant, &format!("new/{round}/{i}")).await?;
        }
    }
    Ok(())
}

#[cfg(not(all(feature = "s3", feature = "sql")))]
fn main() {
    println!("blob_s3_cpu needs the `s3` and `sql` features: --all-features");
}
