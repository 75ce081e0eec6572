//! The OpenAPI description of the routes: [`StoreApi`], [`openapi`]. Errors are
//! documented as baas-core's [`Problem`](baas_core::http::Problem), the one problem+json
//! schema every crate shares.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{documents, files, signed};

/// Adds the `bearer` security scheme the operations name.
#[derive(Debug)]
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI description of baas-store's routes; merge it into the binary's own
/// (`utoipa::openapi::OpenApi::merge`), or take it whole from [`openapi`].
#[derive(Debug, OpenApi)]
#[openapi(
    paths(
        documents::create_document,
        documents::list_documents,
        documents::get_document,
        documents::replace_document,
        documents::delete_document,
        files::put_file,
        files::get_file,
        files::delete_file,
        files::list_files,
        files::create_signed_url,
        signed::get_signed_file,
    ),
    components(schemas(
        baas_core::http::Problem,
        baas_core::FieldError,
        documents::DocumentBody,
        documents::DocumentPage,
        files::FileMeta,
        files::FileItem,
        files::FilePage,
        files::SignedUrlRequest,
        files::SignedUrlResponse,
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "documents", description = "Tenant-scoped JSON documents in named collections"),
        (name = "files", description = "Tenant-scoped files: streamed uploads, ranged downloads, signed URLs"),
    )
)]
pub struct StoreApi;

/// The OpenAPI 3.1 document of every route in this module.
///
/// ```
/// let spec = baas_store::http::openapi();
/// assert!(spec.paths.paths.contains_key("/v1/collections/{collection}/documents/{id}"));
/// ```
pub fn openapi() -> utoipa::openapi::OpenApi {
    StoreApi::openapi()
}
