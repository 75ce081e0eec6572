//! The in-memory backends run their whole suites.

use baas_store::audit::MemoryAuditLog;
use baas_store::documents::MemoryDocumentStore;
use baas_store::testing::{audit_log_suite, document_store_suite};

#[tokio::test]
async fn memory_documents_pass_the_suite() {
    document_store_suite(&MemoryDocumentStore::new()).await;
}

#[tokio::test]
async fn memory_audit_log_passes_the_suite() {
    let log = MemoryAuditLog::new();
    audit_log_suite(&log, &log).await;
}
