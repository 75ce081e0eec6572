//! OpenAPI helpers for services behind [`StandardStack`](crate::stack::StandardStack).

use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{PartialSchema as _, ToSchema};

use super::{PROBLEM_JSON, Problem};

/// Document, on every operation of `doc`, the answers the standard stack itself can
/// give whatever the handler does — unless the operation already documents that status:
///
/// - 401: an invalid credential is refused even on a public route;
/// - 429: rate limited (`Retry-After`, `RateLimit`);
/// - 503: overloaded, timed out or a backend unavailable;
/// - and, where the operation takes a request body, 400 (unparseable body or wrong
///   content type) and 413 (too large).
///
/// Each is a problem+json [`Problem`]; the schema is added to the components when
/// missing. Call it once, after merging every crate's document.
///
/// ```
/// use utoipa::openapi::{OpenApiBuilder, PathItem, PathsBuilder, HttpMethod, path::OperationBuilder};
///
/// let mut doc = OpenApiBuilder::new()
///     .paths(PathsBuilder::new().path(
///         "/v1/things",
///         PathItem::new(HttpMethod::Get, OperationBuilder::new().build()),
///     ))
///     .build();
/// baas_core::http::openapi::add_stack_responses(&mut doc);
/// let get = doc.paths.paths["/v1/things"].get.as_ref().unwrap();
/// assert!(get.responses.responses.contains_key("429"));
/// assert!(!get.responses.responses.contains_key("413")); // no request body
/// assert!(doc.components.unwrap().schemas.contains_key("Problem"));
/// ```
pub fn add_stack_responses(doc: &mut OpenApi) {
    let problem = |description: &str| -> RefOr<Response> {
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(Problem::name())))
                    .build(),
            )
            .build()
            .into()
    };
    const EVERYWHERE: [(&str, &str); 3] = [
        ("401", "an invalid credential"),
        ("429", "rate limited (see Retry-After and RateLimit)"),
        ("503", "overloaded, timed out or a backend unavailable"),
    ];
    const WITH_A_BODY: [(&str, &str); 2] = [
        ("400", "an unparseable body or the wrong content type"),
        ("413", "the body is too large"),
    ];
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            let with_body = op.request_body.is_some();
            let answers = EVERYWHERE
                .iter()
                .chain(WITH_A_BODY.iter().filter(|_| with_body));
            for (status, description) in answers {
                op.responses
                    .responses
                    .entry((*status).to_owned())
                    .or_insert_with(|| problem(description));
            }
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    if !components.schemas.contains_key(Problem::name().as_ref()) {
        let mut schemas = vec![(Problem::name().into_owned(), Problem::schema())];
        <Problem as ToSchema>::schemas(&mut schemas);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
    }
}
