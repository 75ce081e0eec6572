use std::fmt;

/// A W3C Trace Context `traceparent` value: `version-traceid-parentid-flags`.
///
/// Parsing follows the W3C recommendation: lowercase hex, a trace id and parent id that
/// are not all zeros, version `ff` refused, and a later version accepted when its first
/// four fields have the version-00 shape.
///
/// ```
/// use baas_core::trace::TraceParent;
///
/// let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
/// assert_eq!(tp.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(tp.is_sampled());
///
/// // The value to send on: same trace, a new parent id (this hop's span).
/// let next = tp.child();
/// assert_eq!(next.trace_id(), tp.trace_id());
/// assert_ne!(next.parent_id(), tp.parent_id());
/// assert_eq!(TraceParent::parse(&next.to_string()), Some(next));
///
/// assert!(TraceParent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
}

/// The `traceparent` header's name.
pub const TRACEPARENT: &str = "traceparent";

impl TraceParent {
    /// The start of a new trace: random trace id and parent id, sampled.
    pub fn new_root() -> Self {
        TraceParent {
            trace_id: random_nonzero(),
            parent_id: random_nonzero(),
            flags: 0x01,
        }
    }

    /// The same trace and flags with a new random parent id: the value this hop sends on.
    pub fn child(&self) -> Self {
        TraceParent {
            trace_id: self.trace_id,
            parent_id: random_nonzero(),
            flags: self.flags,
        }
    }

    /// Parse a header value; `None` when it is not a valid `traceparent`.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        let b = value.as_bytes();
        if b.len() < 55 {
            return None;
        }
        let version = hex_byte(&b[0..2])?;
        if version == 0xff || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        match (version, b.len()) {
            (0, 55) => {}
            (0, _) => return None,
            // A later version may append fields after a dash.
            (_, 55) => {}
            (_, _) if b[55] == b'-' => {}
            _ => return None,
        }
        let mut trace_id = [0u8; 16];
        for (i, byte) in trace_id.iter_mut().enumerate() {
            *byte = hex_byte(&b[3 + 2 * i..5 + 2 * i])?;
        }
        let mut parent_id = [0u8; 8];
        for (i, byte) in parent_id.iter_mut().enumerate() {
            *byte = hex_byte(&b[36 + 2 * i..38 + 2 * i])?;
        }
        let flags = hex_byte(&b[53..55])?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            parent_id,
            flags,
        })
    }

    /// The trace id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex::encode(self.trace_id)
    }

    /// The parent (span) id.
    pub fn parent_id(&self) -> [u8; 8] {
        self.parent_id
    }

    /// The parent id as 16 lowercase hex digits.
    pub fn parent_id_hex(&self) -> String {
        hex::encode(self.parent_id)
    }

    /// The trace flags.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the caller sampled this trace (flag bit 0).
    pub fn is_sampled(&self) -> bool {
        self.flags & 0x01 == 0x01
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.parent_id),
            self.flags
        )
    }
}

impl fmt::Debug for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceParent({self})")
    }
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    Some(nibble(pair[0])? << 4 | nibble(pair[1])?)
}

fn random_nonzero<const N: usize>() -> [u8; N] {
    loop {
        let bytes: [u8; N] = rand::random();
        if bytes != [0; N] {
            return bytes;
        }
    }
}
