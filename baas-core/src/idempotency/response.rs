//! The stored-response encoding: what the layer hands to [`IdempotencyStore::complete`]
//! and reads back from [`Claim::Replay`].
//!
//! A record is versioned binary, so any backend stores it as an opaque byte string:
//!
//! ```text
//! record   = version:u8 (= 1) ‖ flags:u8 ‖ payload
//! flags    = bit 0: the payload is sealed with the master key; other bits must be 0
//! payload  = response, or MasterKey::seal(response, aad) when sealed
//! response = status:u16 ‖ header-count:u32 ‖ (name-len:u32 ‖ name ‖ value-len:u32 ‖ value)*
//!            ‖ body-len:u32 ‖ body                    (all integers big-endian)
//! ```
//!
//! Headers keep their order and repeated names, so a replay is byte for byte the
//! response first sent. A reader refuses unknown versions, unknown flags, truncated or
//! over-long input, and sealed records it cannot open.
//!
//! [`IdempotencyStore::complete`]: super::IdempotencyStore::complete
//! [`Claim::Replay`]: super::Claim::Replay

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::error::Error;
use crate::master_key::MasterKey;

/// The record format version this code writes and reads.
pub const RECORD_VERSION: u8 = 1;

const FLAG_SEALED: u8 = 0b0000_0001;

/// A response as stored for replay: status, headers and the whole body.
///
/// ```
/// use baas_core::MasterKey;
/// use baas_core::idempotency::StoredResponse;
/// use http::{HeaderMap, StatusCode};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("content-type", "application/json".parse().unwrap());
/// let stored = StoredResponse {
///     status: StatusCode::CREATED,
///     headers,
///     body: bytes::Bytes::from_static(br#"{"id":1}"#),
/// };
///
/// let plain = stored.encode();
/// assert_eq!(StoredResponse::decode(&plain, None, b"")?, stored);
///
/// let key = MasterKey::generate();
/// let sealed = stored.encode_sealed(&key, b"scope+key")?;
/// assert!(StoredResponse::is_sealed(&sealed));
/// assert_eq!(StoredResponse::decode(&sealed, Some(&key), b"scope+key")?, stored);
/// assert!(StoredResponse::decode(&sealed, Some(&key), b"other").is_err());
/// # Ok::<(), baas_core::Error>(())
/// ```
///
/// Its `Debug` shows the status, header names and body length only: stored responses
/// may carry secrets (an API key shown once, tokens).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The status code.
    pub status: StatusCode,
    /// Every header, in order, repeated names included.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl std::fmt::Debug for StoredResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredResponse")
            .field("status", &self.status)
            .field("header_names", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl StoredResponse {
    /// The plain (unsealed) record.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(2 + self.encoded_len());
        out.put_u8(RECORD_VERSION);
        out.put_u8(0);
        self.write_response(&mut out);
        out.freeze()
    }

    /// The record with the response sealed by `key`, bound to `aad` (the layer binds
    /// scope and key, so a record cannot be replayed under another).
    pub fn encode_sealed(&self, key: &MasterKey, aad: &[u8]) -> Result<Bytes, Error> {
        let mut plain = BytesMut::with_capacity(self.encoded_len());
        self.write_response(&mut plain);
        let sealed = key.seal(&plain, aad)?;
        let mut out = BytesMut::with_capacity(2 + sealed.len());
        out.put_u8(RECORD_VERSION);
        out.put_u8(FLAG_SEALED);
        out.put_slice(&sealed);
        Ok(out.freeze())
    }

    /// Whether `record` holds a sealed response.
    pub fn is_sealed(record: &[u8]) -> bool {
        record.len() >= 2 && record[0] == RECORD_VERSION && record[1] & FLAG_SEALED != 0
    }

    /// Read a record; a sealed one needs `key` and the `aad` it was sealed with.
    pub fn decode(record: &[u8], key: Option<&MasterKey>, aad: &[u8]) -> Result<Self, Error> {
        let [version, flags, payload @ ..] = record else {
            return Err(corrupt("record too short"));
        };
        if *version != RECORD_VERSION {
            return Err(corrupt("unknown record version"));
        }
        match *flags {
            0 => Self::read_response(payload),
            FLAG_SEALED => {
                let key = key.ok_or_else(|| {
                    Error::internal(
                        "stored idempotent response is sealed but no master key is configured",
                    )
                })?;
                Self::read_response(&key.open(payload, aad)?)
            }
            _ => Err(corrupt("unknown record flags")),
        }
    }

    fn encoded_len(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| 8 + n.as_str().len() + v.len())
            .sum();
        2 + 4 + headers + 4 + self.body.len()
    }

    fn write_response(&self, out: &mut BytesMut) {
        out.put_u16(self.status.as_u16());
        out.put_u32(len32(self.headers.len()));
        for (name, value) in &self.headers {
            out.put_u32(len32(name.as_str().len()));
            out.put_slice(name.as_str().as_bytes());
            out.put_u32(len32(value.len()));
            out.put_slice(value.as_bytes());
        }
        out.put_u32(len32(self.body.len()));
        out.put_slice(&self.body);
    }

    fn read_response(mut input: &[u8]) -> Result<Self, Error> {
        let input = &mut input;
        let status = StatusCode::from_u16(u16::from_be_bytes(take(input)?))
            .map_err(|_| corrupt("invalid status"))?;
        let count = u32::from_be_bytes(take(input)?) as usize;
        // Each header needs at least 8 bytes: refuse counts the input cannot hold.
        if count > input.len() / 8 {
            return Err(corrupt("header count exceeds the record"));
        }
        let mut headers = HeaderMap::with_capacity(count);
        for _ in 0..count {
            let name = HeaderName::from_bytes(take_prefixed(input)?)
                .map_err(|_| corrupt("invalid header name"))?;
            let value = HeaderValue::from_bytes(take_prefixed(input)?)
                .map_err(|_| corrupt("invalid header value"))?;
            headers.append(name, value);
        }
        let body = Bytes::copy_from_slice(take_prefixed(input)?);
        if !input.is_empty() {
            return Err(corrupt("trailing bytes after the body"));
        }
        Ok(StoredResponse {
            status,
            headers,
            body,
        })
    }
}

fn len32(len: usize) -> u32 {
    // Stored bodies and headers are bounded far below 4 GiB by the layer.
    u32::try_from(len).expect("stored response part exceeds 4 GiB")
}

fn take<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], Error> {
    let Some((head, rest)) = input.split_first_chunk::<N>() else {
        return Err(corrupt("record truncated"));
    };
    *input = rest;
    Ok(*head)
}

fn take_prefixed<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    let len = u32::from_be_bytes(take(input)?) as usize;
    if input.len() < len {
        return Err(corrupt("record truncated"));
    }
    let (head, rest) = input.split_at(len);
    *input = rest;
    Ok(head)
}

fn corrupt(what: &'static str) -> Error {
    Error::internal(format!("stored idempotent response is unreadable: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StoredResponse {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.insert("x-opaque", HeaderValue::from_bytes(b"\xfe\x80ok").unwrap());
        StoredResponse {
            status: StatusCode::CREATED,
            headers,
            body: Bytes::from_static(b"\x00{\"id\":1}\xff"),
        }
    }

    #[test]
    fn debug_shows_neither_header_values_nor_the_body() {
        let shown = format!("{:?}", sample());
        assert!(
            shown.contains("set-cookie") && shown.contains("body_len"),
            "{shown}"
        );
        assert!(
            !shown.contains("a=1") && !shown.contains("\"id\""),
            "{shown}"
        );
    }

    #[test]
    fn plain_round_trip_keeps_everything() {
        let stored = sample();
        let record = stored.encode();
        assert!(!StoredResponse::is_sealed(&record));
        let back = StoredResponse::decode(&record, None, b"").unwrap();
        assert_eq!(back, stored);
        let cookies: Vec<_> = back.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"], "repeated headers keep their order");
    }

    #[test]
    fn empty_response_round_trips() {
        let stored = StoredResponse {
            status: StatusCode::NO_CONTENT,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        };
        assert_eq!(
            StoredResponse::decode(&stored.encode(), None, b"").unwrap(),
            stored
        );
    }

    #[test]
    fn sealed_round_trip_hides_the_body_and_binds_the_aad() {
        let key = MasterKey::generate();
        let mut stored = sample();
        stored.body = Bytes::from_static(b"{\"key\":\"sk_live_secret\"}");
        let record = stored.encode_sealed(&key, b"aad").unwrap();
        assert!(StoredResponse::is_sealed(&record));
        assert!(!record.windows(6).any(|w| w == b"sk_liv"));
        assert_eq!(
            StoredResponse::decode(&record, Some(&key), b"aad").unwrap(),
            stored
        );
        assert!(StoredResponse::decode(&record, Some(&key), b"other").is_err());
        assert!(StoredResponse::decode(&record, None, b"aad").is_err());
        assert!(StoredResponse::decode(&record, Some(&MasterKey::generate()), b"aad").is_err());
    }

    #[test]
    fn corrupt_records_are_refused() {
        let record = sample().encode();
        for cut in 0..record.len() {
            assert!(
                StoredResponse::decode(&record[..cut], None, b"").is_err(),
                "truncated at {cut}"
            );
        }
        let mut extra = record.to_vec();
        extra.push(0);
        assert!(
            StoredResponse::decode(&extra, None, b"").is_err(),
            "trailing byte"
        );
        let mut version = record.to_vec();
        version[0] = 2;
        assert!(
            StoredResponse::decode(&version, None, b"").is_err(),
            "version"
        );
        let mut flags = record.to_vec();
        flags[1] = 0x80;
        assert!(StoredResponse::decode(&flags, None, b"").is_err(), "flags");
        let mut huge_count = record.to_vec();
        huge_count[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(
            StoredResponse::decode(&huge_count, None, b"").is_err(),
            "count"
        );
    }
}
