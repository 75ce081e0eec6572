use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use tower::{Layer as _, ServiceExt as _};

use super::*;
use crate::{
    BoxError, Classify as _, ErrorKind, Principal, PrincipalKind, RequestContext, RequestId,
    TenantId,
};

fn principal(roles: &[&str]) -> Principal {
    Principal::new("u1", TenantId::new("acme").unwrap(), PrincipalKind::User)
        .with_roles(roles.iter().copied())
}

fn app(layer: RequireRoleLayer) -> axum::Router {
    axum::Router::new()
        .route("/", get(|| async { "secret" }))
        .route_layer(layer)
}

fn request(p: Option<Principal>) -> Request<Body> {
    let mut req = Request::get("/").body(Body::empty()).unwrap();
    if let Some(p) = p {
        req.extensions_mut().insert(p);
    }
    req
}

#[tokio::test]
async fn anonymous_is_401_problem_json() {
    let res = app(RequireRoleLayer::new("admin"))
        .oneshot(request(None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        crate::http::PROBLEM_JSON
    );
}

#[tokio::test]
async fn missing_role_is_403_and_holder_passes() {
    let res = app(RequireRoleLayer::new("admin"))
        .oneshot(request(Some(principal(&["member"]))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        crate::http::PROBLEM_JSON
    );

    let res = app(RequireRoleLayer::new("admin"))
        .oneshot(request(Some(principal(&["admin"]))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // admin includes member
    let res = app(RequireRoleLayer::new("member"))
        .oneshot(request(Some(principal(&["admin"]))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn operator_requirement() {
    let res = app(RequireRoleLayer::operator())
        .oneshot(request(Some(principal(&["admin"]))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app(RequireRoleLayer::operator())
        .oneshot(request(Some(principal(&["admin"]).with_operator(true))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn principal_inside_request_context_counts() {
    let mut cx = RequestContext::new(RequestId::generate());
    cx.principal = Some(principal(&["admin"]));
    let mut req = Request::get("/").body(Body::empty()).unwrap();
    req.extensions_mut().insert(cx);
    let res = app(RequireRoleLayer::new("admin"))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn generic_services_get_errors_and_the_inner_service_is_not_called() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let inner = tower::service_fn(move |_req: Request<()>| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { Ok::<_, BoxError>("ok") }
    });
    let svc = RequireRoleLayer::new("admin").layer(inner);

    let err = svc.clone().oneshot(Request::new(())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);

    let mut req = Request::new(());
    req.extensions_mut().insert(principal(&["member"]));
    let err = svc.clone().oneshot(req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);

    let mut req = Request::new(());
    req.extensions_mut().insert(principal(&["admin"]));
    assert_eq!(svc.oneshot(req).await.unwrap(), "ok");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}
