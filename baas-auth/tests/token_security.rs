//! Security tests for access tokens (issue 5, item 10): each attack gets a precise,
//! `Unauthenticated` refusal.

mod common;

use std::time::Duration;

use baas_auth::keys::{KeyState, Rotation};
use baas_auth::{AuthError, TokenConfig};
use baas_core::{Classify, ErrorKind, ManualClock};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{AUDIENCE, Fixture, ISSUER, acme};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

fn assert_refused(result: Result<impl std::fmt::Debug, AuthError>, expected: &str) {
    let err = result.expect_err("the token must be refused");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err:?}");
    let name = format!("{err:?}");
    assert!(
        name.starts_with(expected),
        "expected {expected}, got {name}"
    );
    let core: baas_core::Error = err.into();
    assert!(!core.message().is_empty());
}

#[tokio::test]
async fn a_valid_token_verifies_into_a_principal() {
    let f = Fixture::new().await;
    let token = f.issue().await;
    let verified = f.verifier.verify(token.as_str()).await.unwrap();
    assert_eq!(verified.principal.subject, "user-1");
    assert_eq!(verified.principal.tenant, acme());
    assert_eq!(verified.principal.kind, baas_core::PrincipalKind::User);
    assert_eq!(verified.principal.session.as_deref(), Some("s1"));
    assert!(verified.principal.has_role("member"));
    assert!(!verified.principal.is_operator());
    assert_eq!(verified.claims, token.claims);
    // The header is what RFC 9068 asks for.
    let header = jsonwebtoken::decode_header(token.as_str()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(token.kid.as_str()));
    // Cached: verifying again gives the same result.
    assert_eq!(f.verifier.verify(token.as_str()).await.unwrap(), verified);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let f = Fixture::new().await;
    let (kid, _) = f.current_private().await;
    let header = format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{kid}"}}"#);
    let payload = serde_json::to_vec(&f.claims()).unwrap();
    for signature in ["", "AAAA"] {
        let token = format!(
            "{}.{}.{signature}",
            B64.encode(header.as_bytes()),
            B64.encode(&payload)
        );
        assert_refused(f.verifier.verify(&token).await, "WrongAlgorithm");
    }
    // Spelling variants too.
    for alg in ["None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"at+jwt","kid":"{kid}"}}"#);
        let token = format!(
            "{}.{}.",
            B64.encode(header.as_bytes()),
            B64.encode(&payload)
        );
        assert_refused(f.verifier.verify(&token).await, "WrongAlgorithm");
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let f = Fixture::new().await;
    let keys = f.keys.store().list().await.unwrap();
    let current = keys.iter().find(|k| k.state == KeyState::Current).unwrap();
    let jwk = f
        .keys
        .jwks()
        .await
        .unwrap()
        .keys
        .into_iter()
        .find(|k| k.kid == current.kid)
        .unwrap();
    // Try the raw public key and its JWK encoding as the HMAC secret.
    for secret in [current.public_key.clone(), jwk.x.clone().into_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(current.kid.clone());
        let token =
            jsonwebtoken::encode(&header, &f.claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_refused(f.verifier.verify(&token).await, "WrongAlgorithm");
    }
}

#[tokio::test]
async fn es256_token_is_refused_by_an_eddsa_verifier() {
    let f = Fixture::new().await;
    let es = Fixture::with_config(TokenConfig {
        algorithm: baas_auth::keys::SigningAlgorithm::ES256,
        ..TokenConfig::new(ISSUER, AUDIENCE)
    })
    .await;
    let token = es.issue().await;
    assert!(
        es.verifier.verify(token.as_str()).await.is_ok(),
        "ES256 works as an option"
    );
    assert_refused(f.verifier.verify(token.as_str()).await, "WrongAlgorithm");
}

#[tokio::test]
async fn unknown_kid_is_refused_after_one_reload() {
    let f = Fixture::new().await;
    f.verifier.verify(f.issue().await.as_str()).await.unwrap(); // loads the ring
    let before = f.store.lists();
    // A key the store has never seen, with a kid of its own.
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some("attacker-key".into());
    let token = jsonwebtoken::encode(
        &header,
        &f.claims(),
        &EncodingKey::from_ed_der(doc.as_ref()),
    )
    .unwrap();
    f.advance(Duration::from_secs(2));
    assert_refused(f.verifier.verify(&token).await, "UnknownKey");
    assert_eq!(
        f.store.lists(),
        before + 1,
        "exactly one reload before refusing"
    );
    // Again at once: the reload is rate-limited, the store is not asked.
    assert_refused(f.verifier.verify(&token).await, "UnknownKey");
    assert_eq!(f.store.lists(), before + 1, "rate-limited");
    // A missing kid is refused too.
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    let token = jsonwebtoken::encode(
        &header,
        &f.claims(),
        &EncodingKey::from_ed_der(doc.as_ref()),
    )
    .unwrap();
    assert_refused(f.verifier.verify(&token).await, "UnknownKey");
    // A known kid with a foreign key: the signature fails.
    let (kid, _) = f.current_private().await;
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid);
    let token = jsonwebtoken::encode(
        &header,
        &f.claims(),
        &EncodingKey::from_ed_der(doc.as_ref()),
    )
    .unwrap();
    assert_refused(f.verifier.verify(&token).await, "BadSignature");
}

#[tokio::test]
async fn a_kid_rotated_in_by_another_process_is_found_by_reloading() {
    let f = Fixture::new().await;
    f.verifier.verify(f.issue().await.as_str()).await.unwrap(); // ring loaded
    // "Another process" rotates twice: its new current key was never seen by our ring.
    f.keys.rotate().await.unwrap();
    f.keys.rotate().await.unwrap();
    f.advance(Duration::from_secs(2));
    let token = f.issue().await;
    assert!(f.verifier.verify(token.as_str()).await.is_ok());
}

#[tokio::test]
async fn tampered_payload_is_refused() {
    let f = Fixture::new().await;
    let token = f.issue().await.into_string();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
    claims["roles"] = serde_json::json!(["admin"]);
    parts[1] = B64.encode(serde_json::to_vec(&claims).unwrap());
    assert_refused(f.verifier.verify(&parts.join(".")).await, "BadSignature");
    // A flipped signature byte as well.
    let mut sig = B64.decode(&parts[2]).unwrap();
    sig[0] ^= 1;
    let original: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{}.{}", original[0], original[1], B64.encode(sig));
    assert_refused(f.verifier.verify(&forged).await, "BadSignature");
}

#[tokio::test]
async fn expired_tokens_are_refused_cached_or_not() {
    let f = Fixture::new().await;
    let cold = f.issue().await;
    let cached = f.issuer.issue(&common::request("s2")).await.unwrap();
    f.verifier.verify(cached.as_str()).await.unwrap();
    // Within the leeway: still fine.
    f.advance(f.config.access_ttl + Duration::from_secs(29));
    f.verifier.verify(cached.as_str()).await.unwrap();
    f.advance(Duration::from_secs(2));
    assert_refused(f.verifier.verify(cold.as_str()).await, "Expired");
    assert_refused(f.verifier.verify(cached.as_str()).await, "Expired");
}

#[tokio::test]
async fn not_yet_valid_tokens_are_refused() {
    let f = Fixture::new().await;
    let mut claims = f.claims();
    claims.nbf += 31; // beyond the 30 s leeway
    let token = f.sign(&claims, |_| {}).await;
    assert_refused(f.verifier.verify(&token).await, "NotYetValid");
    claims.nbf -= 2; // within the leeway
    let token = f.sign(&claims, |_| {}).await;
    assert!(f.verifier.verify(&token).await.is_ok());
    // A verifier whose clock is behind the issuer's by more than the leeway.
    let token = f.issue().await;
    let behind =
        ManualClock::starting_at(baas_core::Clock::now(&f.clock) - Duration::from_secs(600));
    let verifier =
        Fixture::verifier_on(&f.store, &f.revocations, behind.shared(), f.config.clone());
    assert_refused(verifier.verify(token.as_str()).await, "NotYetValid");
}

#[tokio::test]
async fn wrong_audience_or_issuer_is_refused() {
    let f = Fixture::new().await;
    let token = f.issue().await;
    let other_aud = f.verifier_with(TokenConfig::new(ISSUER, "https://other.example.com"));
    assert_refused(other_aud.verify(token.as_str()).await, "WrongAudience");
    let other_iss = f.verifier_with(TokenConfig::new("https://evil.example.com", AUDIENCE));
    assert_refused(other_iss.verify(token.as_str()).await, "WrongIssuer");
    // Forged claims with the real key: same refusals.
    let mut claims = f.claims();
    claims.aud = "https://other.example.com".into();
    assert_refused(
        f.verifier.verify(&f.sign(&claims, |_| {}).await).await,
        "WrongAudience",
    );
    let mut claims = f.claims();
    claims.iss = "https://evil.example.com".into();
    assert_refused(
        f.verifier.verify(&f.sign(&claims, |_| {}).await).await,
        "WrongIssuer",
    );
}

#[tokio::test]
async fn wrong_typ_is_refused() {
    let f = Fixture::new().await;
    for typ in [
        Some("JWT"),
        Some("jwt"),
        Some("application/jwt"),
        Some("dpop+jwt"),
        None,
    ] {
        let token = f
            .sign(&f.claims(), |h| h.typ = typ.map(str::to_owned))
            .await;
        assert_refused(f.verifier.verify(&token).await, "WrongTokenType");
    }
    let token = f
        .sign(&f.claims(), |h| h.typ = Some("application/at+jwt".into()))
        .await;
    assert!(f.verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn embedded_keys_in_the_header_are_never_used() {
    let f = Fixture::new().await;
    // An attacker's own key, advertised through jku / x5u: the verifier uses only its
    // ring, so the kid is unknown.
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some("evil".into());
    header.jku = Some("https://evil.example.com/jwks.json".into());
    header.x5u = Some("https://evil.example.com/cert.pem".into());
    let token = jsonwebtoken::encode(
        &header,
        &f.claims(),
        &EncodingKey::from_ed_der(doc.as_ref()),
    )
    .unwrap();
    assert_refused(f.verifier.verify(&token).await, "UnknownKey");
    // A `crit` header we cannot honour is refused.
    let token = f
        .sign(&f.claims(), |h| h.crit = Some(vec!["exp".into()]))
        .await;
    assert_refused(f.verifier.verify(&token).await, "MalformedToken");
}

#[tokio::test]
async fn a_key_rotated_out_past_its_window_is_refused() {
    let f = Fixture::new().await;
    let old = f.issue().await;
    f.verifier.verify(old.as_str()).await.unwrap();
    f.keys.rotate().await.unwrap();
    // Still inside the window: verifies.
    f.advance(Duration::from_secs(60));
    assert!(f.verifier.verify(old.as_str()).await.is_ok());
    // Past the window: the next rotation retires it and deletes its private half.
    f.advance(f.config.retire_window());
    let report = f.keys.rotate().await.unwrap();
    assert_eq!(report.retired, vec![old.kid.clone()]);
    let stored = f.keys.store().list().await.unwrap();
    let retired = stored.iter().find(|k| k.kid == old.kid).unwrap();
    assert_eq!(retired.state, KeyState::Retired);
    assert!(retired.sealed_private.is_none());
    assert!(
        f.keys
            .jwks()
            .await
            .unwrap()
            .keys
            .iter()
            .all(|k| k.kid != old.kid)
    );
    let fresh = f.verifier_with(f.config.clone());
    assert_refused(fresh.verify(old.as_str()).await, "KeyRetired");
    assert!(f.verifier.verify(old.as_str()).await.is_err());
}

#[tokio::test]
async fn a_cached_token_of_a_key_retired_early_is_refused() {
    let f = Fixture::new().await;
    let token = f.issue().await;
    f.verifier.verify(token.as_str()).await.unwrap(); // cached
    // An operator retires the key at once (say it leaked).
    let keys = f.keys.store().list().await.unwrap();
    let kid = |s| keys.iter().find(|k| k.state == s).unwrap().kid.clone();
    let now = baas_core::Clock::now(&f.clock);
    let mut new_next = keys[0].clone();
    new_next.kid = "replacement".into();
    f.keys
        .store()
        .rotate(Rotation {
            expected_current: kid(KeyState::Current),
            expected_next: kid(KeyState::Next),
            new_next,
            now,
            retire_after: now,
        })
        .await
        .unwrap();
    f.keys.store().retire_expired(now).await.unwrap();
    // Once the verifier's view refreshes, the cached token is refused.
    f.advance(f.config.key_refresh + Duration::from_secs(1));
    assert_refused(f.verifier.verify(token.as_str()).await, "KeyRetired");
}

#[tokio::test]
async fn a_revoked_session_is_refused_cached_or_not() {
    let f = Fixture::new().await;
    let cached = f.issue().await;
    f.verifier.verify(cached.as_str()).await.unwrap();
    let cold = f.issue().await;
    f.revocations.revoke(&acme(), "s1");
    assert_refused(f.verifier.verify(cached.as_str()).await, "SessionRevoked");
    assert_refused(f.verifier.verify(cold.as_str()).await, "SessionRevoked");
    // Other sessions are unaffected.
    let other = f.issuer.issue(&common::request("s2")).await.unwrap();
    assert!(f.verifier.verify(other.as_str()).await.is_ok());
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let f = Fixture::new().await;
    let valid = f.issue().await.into_string();
    let parts: Vec<&str> = valid.split('.').collect();
    let cases = [
        String::new(),
        "not a token".into(),
        "a.b".into(),
        "a.b.c.d".into(),
        "!!!.@@@.###".into(),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]), // padding is not base64url
        format!("{}.{}.{}", B64.encode(b"{not json"), parts[1], parts[2]),
        format!("{}.{}.{}", B64.encode(b"[]"), parts[1], parts[2]),
        format!(
            "{}+/.{}.{}",
            &parts[0][..parts[0].len() - 2],
            parts[1],
            parts[2]
        ),
    ];
    for token in &cases {
        assert_refused(f.verifier.verify(token).await, "MalformedToken");
    }
    // Broken base64 in the payload or signature fails the signature check.
    let token = format!("{}.{}!.{}", parts[0], parts[1], parts[2]);
    assert!(f.verifier.verify(&token).await.is_err());
    let token = format!("{}.{}.{}*", parts[0], parts[1], parts[2]);
    assert!(f.verifier.verify(&token).await.is_err());
}

#[tokio::test]
async fn oversized_tokens_are_refused_unread() {
    let f = Fixture::new().await;
    let before = f.store.lists();
    let huge = format!(
        "{}.{}.{}",
        "a".repeat(3000),
        "b".repeat(3000),
        "c".repeat(3000)
    );
    assert_refused(f.verifier.verify(&huge).await, "TokenTooLarge");
    assert_eq!(f.store.lists(), before);
    let valid = f.issue().await;
    let padded = format!("{}{}", valid.as_str(), " ".repeat(9000));
    assert_refused(f.verifier.verify(&padded).await, "TokenTooLarge");
}

#[tokio::test]
async fn operators_are_admins_of_the_operator_tenant() {
    let mut config = TokenConfig::new(ISSUER, AUDIENCE);
    config.operator_tenant = Some(acme());
    let f = Fixture::with_config(config).await;
    let mut request = common::request("s1");
    request.roles = vec!["admin".into()];
    let token = f.issuer.issue(&request).await.unwrap();
    assert!(
        f.verifier
            .verify(token.as_str())
            .await
            .unwrap()
            .principal
            .is_operator()
    );
    let member = f.issue().await;
    assert!(
        !f.verifier
            .verify(member.as_str())
            .await
            .unwrap()
            .principal
            .is_operator()
    );
}

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let f = Fixture::new().await;
    let token = f.issue().await;
    let shown = format!(
        "{token:?} {:?} {:?}",
        f.keys.signer().await.unwrap(),
        f.keys.store().list().await.unwrap()
    );
    assert!(!shown.contains(token.as_str()));
    assert!(shown.contains("REDACTED"));
    assert!(shown.contains("[SEALED]"));
}
