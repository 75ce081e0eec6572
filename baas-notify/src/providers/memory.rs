//! The memory provider: keeps every message, fails on demand (tests).

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::channel::{Channel, DeliveryError, Message, Receipt};
use crate::model::ChannelKind;

type Script = Box<dyn Fn() -> DeliveryError + Send + Sync>;

#[derive(Default)]
struct Inner {
    sent: Vec<Message>,
    failures: VecDeque<Script>,
    always: Option<Script>,
    calls: usize,
}

/// Keeps every delivered message. Failures can be scripted: the next `n` calls
/// ([`MemoryChannel::fail_next`]) or every call ([`MemoryChannel::fail_always`]).
/// Clones share the same state.
#[derive(Clone)]
pub struct MemoryChannel {
    name: Arc<str>,
    kind: ChannelKind,
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for MemoryChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryChannel")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl MemoryChannel {
    /// A provider named `name` for `kind`.
    pub fn new(name: &str, kind: ChannelKind) -> Self {
        MemoryChannel {
            name: name.into(),
            kind,
            inner: Arc::default(),
        }
    }

    /// Fail the next `n` calls with the error `make` builds.
    pub fn fail_next(
        &self,
        n: usize,
        make: impl Fn() -> DeliveryError + Send + Sync + Clone + 'static,
    ) {
        let mut inner = self.inner.lock();
        for _ in 0..n {
            inner.failures.push_back(Box::new(make.clone()));
        }
    }

    /// Fail every call (until [`MemoryChannel::recover`]).
    pub fn fail_always(&self, make: impl Fn() -> DeliveryError + Send + Sync + 'static) {
        self.inner.lock().always = Some(Box::new(make));
    }

    /// Stop failing.
    pub fn recover(&self) {
        let mut inner = self.inner.lock();
        inner.always = None;
        inner.failures.clear();
    }

    /// The messages delivered so far.
    pub fn sent(&self) -> Vec<Message> {
        self.inner.lock().sent.clone()
    }

    /// How many times `send` was called (successes and failures).
    pub fn calls(&self) -> usize {
        self.inner.lock().calls
    }
}

#[async_trait]
impl Channel for MemoryChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> ChannelKind {
        self.kind
    }

    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError> {
        let mut inner = self.inner.lock();
        inner.calls += 1;
        if let Some(fail) = inner.failures.pop_front() {
            return Err(fail());
        }
        if let Some(fail) = &inner.always {
            return Err(fail());
        }
        inner.sent.push(message.clone());
        Ok(Receipt::default())
    }
}
