//! Streams a large object (1 GiB by default) into local files and back out through
//! `ObjectBlobStore`, then prints the peak resident memory (VmHWM, Linux).
//!
//! ```text
//! cargo run -p baas-store --example blob_rss --release -- [MiB]
//! ```
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use baas_core::{MasterKey, TenantId};
use baas_store::blob::{BlobStore, MemoryBlobLedger, ObjectBlobStore, UrlSigner};
use bytes::Bytes;
use futures::StreamExt as _;

fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), baas_core::Error> {
    let mib: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1024);
    let total = mib << 20;
    let dir = tempfile_dir();
    let signer = UrlSigner::new(&MasterKey::generate(), baas_core::clock::system());
    let store = ObjectBlobStore::local(&dir, Arc::new(MemoryBlobLedger::new()), signer)?
        .with_limits(baas_store::blob::BlobLimits {
            max_object_bytes: total,
            tenant_quota_bytes: total,
        });
    let tenant = TenantId::new("rss")?;
    println!("before: VmHWM {}", vm_hwm());

    // A body of `total` bytes in 64 KiB chunks, each a fresh allocation (as an HTTP
    // body's would be), generated as it is read.
    let chunks = total / (64 << 10);
    let body = futures::stream::iter(0..chunks)
        .map(|i| Ok::<_, baas_core::BoxError>(Bytes::from(vec![i as u8; 64 << 10])))
        .boxed();
    let started = Instant::now();
    let put = store
        .put(&tenant, "big.bin", "application/octet-stream", body)
        .await?;
    let up = started.elapsed();
    println!(
        "put {} MiB in {:.2?} ({:.0} MiB/s); VmHWM {}",
        put.meta.size >> 20,
        up,
        mib as f64 / up.as_secs_f64(),
        vm_hwm()
    );

    let started = Instant::now();
    let mut body = store.get(&tenant, "big.bin", None).await?.body;
    let mut read = 0u64;
    while let Some(chunk) = body.next().await {
        read += chunk?.len() as u64;
    }
    let down = started.elapsed();
    assert_eq!(read, total);
    println!(
        "get {} MiB in {:.2?} ({:.0} MiB/s); VmHWM {}",
        read >> 20,
        down,
        mib as f64 / down.as_secs_f64(),
        vm_hwm()
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("baas-blob-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
