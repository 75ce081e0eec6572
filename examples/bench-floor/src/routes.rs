//! The handlers: each does its SQL and nothing else.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::token;
use crate::{AppState, db};

const TENANT: &str = "bench";
const COLLECTION: &str = "bench";
const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;
const ACCESS_TTL_S: i64 = 900;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

fn server_error(err: &DbErr) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response()
}

/// `POST /documents`: one INSERT.
pub(crate) async fn create_document(
    State(state): State<AppState>,
    Json(data): Json<serde_json::Map<String, serde_json::Value>>,
) -> Response {
    let id = Uuid::now_v7();
    let now = now_ms();
    let data = serde_json::Value::Object(data);
    let insert = stmt(
        "INSERT INTO documents (tenant, collection, id, version, data, created_at, updated_at) \
         VALUES (?, ?, ?, 1, ?, ?, ?)",
        vec![
            TENANT.into(),
            COLLECTION.into(),
            id.into(),
            data.to_string().into(),
            now.into(),
            now.into(),
        ],
    );
    match state.db.execute_raw(insert).await {
        Ok(_) => (
            StatusCode::CREATED,
            Json(json!({"id": id, "version": 1, "data": data})),
        )
            .into_response(),
        Err(e) => server_error(&e),
    }
}

/// `GET /documents/{id}`: one SELECT by primary key.
pub(crate) async fn get_document(State(state): State<AppState>, Path(id): Path<Uuid>) -> Response {
    let select = stmt(
        "SELECT version, data FROM documents WHERE tenant = ? AND collection = ? AND id = ?",
        vec![TENANT.into(), COLLECTION.into(), id.into()],
    );
    match state.db.query_one_raw(select).await {
        Ok(Some(row)) => {
            let version: i64 = row.try_get("", "version").unwrap_or_default();
            let data: String = row.try_get("", "data").unwrap_or_default();
            let data: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            Json(json!({"id": id, "version": version, "data": data})).into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => server_error(&e),
    }
}

/// `POST /sessions`: a session and its first refresh token.
pub(crate) async fn create_session(State(state): State<AppState>) -> Response {
    let now = now_ms();
    let session = Uuid::now_v7().to_string();
    let refresh = token::new_refresh_token();
    let result = async {
        let tx = db::begin_write(&state.writer).await?;
        tx.execute_raw(stmt(
            "INSERT INTO sessions (id, tenant, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            vec![
                session.clone().into(),
                TENANT.into(),
                "user".into(),
                now.into(),
                (now + SESSION_TTL_MS).into(),
            ],
        ))
        .await?;
        insert_token(&tx, &refresh, &session, now).await?;
        tx.commit().await
    }
    .await;
    match result {
        Ok(()) => (StatusCode::CREATED, Json(json!({"refresh_token": refresh}))).into_response(),
        Err(e) => server_error(&e),
    }
}

async fn insert_token<C: ConnectionTrait>(
    conn: &C,
    refresh: &str,
    session: &str,
    now: i64,
) -> Result<(), DbErr> {
    conn.execute_raw(stmt(
        "INSERT INTO refresh_tokens (digest, session_id, rotations, created_at) VALUES (?, ?, 0, ?)",
        vec![token::digest(refresh).into(), session.into(), now.into()],
    ))
    .await
    .map(|_| ())
}

/// The body of `POST /refresh`.
#[derive(Debug, Deserialize)]
pub(crate) struct RefreshBody {
    refresh_token: String,
}

/// `POST /refresh`: the platform's rotation writes in one transaction, then a signature.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshBody>,
) -> Response {
    let now = now_ms();
    let digest = token::digest(&body.refresh_token);
    let next = token::new_refresh_token();
    let result = async {
        let tx = db::begin_write(&state.writer).await?;
        let rotated = tx
            .execute_raw(stmt(
                "UPDATE refresh_tokens SET rotations = 1, rotated_at = ? \
                 WHERE digest = ? AND rotations = 0 AND session_id IN \
                 (SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at > ?)",
                vec![now.into(), digest.clone().into(), now.into()],
            ))
            .await?
            .rows_affected()
            == 1;
        if !rotated {
            return Ok(None);
        }
        let row = tx
            .query_one_raw(stmt(
                "SELECT s.id, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
                 WHERE t.digest = ?",
                vec![digest.into()],
            ))
            .await?;
        let Some(row) = row else { return Ok(None) };
        let session: String = row.try_get("", "id")?;
        let user: String = row.try_get("", "user_id")?;
        insert_token(&tx, &next, &session, now).await?;
        tx.execute_raw(stmt(
            "UPDATE sessions SET expires_at = ?, last_rotated_at = ? WHERE id = ?",
            vec![(now + SESSION_TTL_MS).into(), now.into(), session.clone().into()],
        ))
        .await?;
        tx.commit().await?;
        Ok::<_, DbErr>(Some((session, user)))
    }
    .await;
    match result {
        Ok(Some((session, user))) => {
            let access =
                state
                    .signer
                    .access_token(TENANT, &user, &session, now / 1000, ACCESS_TTL_S);
            Json(json!({
                "access_token": access, "token_type": "Bearer",
                "expires_in": ACCESS_TTL_S, "refresh_token": next,
            }))
            .into_response()
        }
        Ok(None) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response(),
        Err(e) => server_error(&e),
    }
}
