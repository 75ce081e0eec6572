//! [`GroupCommit`]: concurrent writes that wait for one writer task, which takes every
//! write waiting at once and runs them in one transaction.
//!
//! On SQLite every write transaction of a process runs on one connection
//! ([`Database::write_connection`](crate::Database::write_connection)), so `n`
//! concurrent writers pay `n` times for `BEGIN`, `COMMIT` and the pool's round trips.
//! Handed to a `GroupCommit`, they pay once per group. A call that finds nobody writing
//! writes itself, in its own task (no hop: alone, it costs what a direct write costs).
//! Calls that arrive meanwhile wait; when that write ends they go to a writer task,
//! which takes everything that waits (up to a weight limit), writes it with the
//! caller-supplied function, answers each caller, and goes on until nothing waits.
//!
//! A group's write runs in the writer task, so a caller that stops waiting does not
//! cancel it; a lone call's inline write is cancelled with its caller, and whatever
//! queued behind it is handed to a writer task all the same. If the writer ends without
//! draining (a panic, or the runtime shutting down), every call still waiting is
//! answered `Unavailable`.
//!
//! ```
//! use baas_store::group_commit::GroupCommit;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let sums: GroupCommit<u32, u32> = GroupCommit::new(64);
//! // Each group is "written" by doubling every request.
//! let write = |group: Vec<u32>| async move { group.into_iter().map(|n| Ok(n * 2)).collect() };
//! let (a, b) = tokio::join!(sums.submit(1, 1, write), sums.submit(2, 1, write));
//! assert_eq!((a?, b?), (2, 4));
//! # Ok::<(), baas_core::Error>(())
//! # }).unwrap();
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use baas_core::{Error, ErrorKind};
use parking_lot::Mutex;
use tokio::sync::oneshot;

type Reply<Resp> = oneshot::Sender<Result<Resp, Error>>;

struct Waiting<Req, Resp> {
    request: Req,
    weight: usize,
    reply: Reply<Resp>,
}

struct Pending<Req, Resp> {
    calls: VecDeque<Waiting<Req, Resp>>,
    /// Whether a writer task is running.
    writing: bool,
}

/// Writes that wait for one writer task and are written in groups (see the
/// [module docs](self)). Clones share the waiting writes and the writer.
pub struct GroupCommit<Req, Resp> {
    pending: Arc<Mutex<Pending<Req, Resp>>>,
    max_weight: usize,
}

impl<Req, Resp> Clone for GroupCommit<Req, Resp> {
    fn clone(&self) -> Self {
        GroupCommit {
            pending: Arc::clone(&self.pending),
            max_weight: self.max_weight,
        }
    }
}

impl<Req, Resp> fmt::Debug for GroupCommit<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.pending.lock();
        f.debug_struct("GroupCommit")
            .field("waiting", &p.calls.len())
            .field("writing", &p.writing)
            .field("max_weight", &self.max_weight)
            .finish()
    }
}

impl<Req, Resp> GroupCommit<Req, Resp>
where
    Req: Send + 'static,
    Resp: Send + 'static,
{
    /// Groups of at most `max_weight` (summed over their requests' weights; a single
    /// heavier request goes alone).
    pub fn new(max_weight: usize) -> Self {
        GroupCommit {
            pending: Arc::new(Mutex::new(Pending {
                calls: VecDeque::new(),
                writing: false,
            })),
            max_weight: max_weight.max(1),
        }
    }

    /// Wait for `request` to be written with the next group and return its answer.
    ///
    /// `write` writes one group: it gets the group's requests, oldest first, and returns
    /// one answer per request, in order. When nobody is writing, this call writes its
    /// own request at once, alone; calls that queue meanwhile are then written, in
    /// groups, by a writer task running this call's `write` (so every call must pass a
    /// `write` that does the same).
    ///
    /// # Errors
    ///
    /// The request's own answer, or `Unavailable` if the writer stopped before writing
    /// it.
    pub async fn submit<W, Fut>(&self, request: Req, weight: usize, write: W) -> Result<Resp, Error>
    where
        W: FnMut(Vec<Req>) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Vec<Result<Resp, Error>>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let alone = {
            let mut p = self.pending.lock();
            if p.writing {
                p.calls.push_back(Waiting {
                    request,
                    weight,
                    reply,
                });
                None
            } else {
                p.writing = true;
                Some(request)
            }
        };
        let Some(request) = alone else {
            return answer.await.unwrap_or_else(|_| Err(stopped()));
        };
        // Nobody was writing: write this request here, with no hop to another task.
        // Calls that arrive meanwhile wait; the hand-off (also when this future is
        // dropped half-way) passes them to a writer task, or marks the writer idle.
        let drain = {
            let commit = self.clone();
            let write = write.clone();
            move |runtime: tokio::runtime::Handle| {
                runtime.spawn(commit.drain(write));
            }
        };
        let handoff = Handoff {
            pending: &self.pending,
            drain: Some(Box::new(drain)),
        };
        let mut write = write;
        let answer = write(vec![request]).await.into_iter().next();
        drop(handoff);
        answer.unwrap_or_else(|| Err(Error::internal("a group write answered no request")))
    }

    /// Write groups until nothing waits.
    async fn drain<W, Fut>(self, mut write: W)
    where
        W: FnMut(Vec<Req>) -> Fut,
        Fut: Future<Output = Vec<Result<Resp, Error>>>,
    {
        let guard = WriterGuard(&self.pending, false);
        while let Some(group) = self.next_group() {
            let (requests, replies): (Vec<Req>, Vec<Reply<Resp>>) = group
                .into_iter()
                .map(|waiting| (waiting.request, waiting.reply))
                .unzip();
            let expected = replies.len();
            let mut answers = write(requests).await.into_iter();
            for reply in replies {
                let answer = answers.next().unwrap_or_else(|| {
                    Err(Error::internal(format!(
                        "a group write answered fewer than its {expected} requests"
                    )))
                });
                // The caller may have stopped waiting; its write happened anyway.
                let _ = reply.send(answer);
            }
        }
        guard.finish();
    }

    /// The oldest waiting calls up to the weight limit (at least one), or `None` — and
    /// then no writer runs any more.
    fn next_group(&self) -> Option<Vec<Waiting<Req, Resp>>> {
        let mut p = self.pending.lock();
        if p.calls.is_empty() {
            p.writing = false;
            return None;
        }
        let mut weight = 0;
        let mut group = Vec::new();
        while let Some(call) = p.calls.front() {
            if !group.is_empty() && weight + call.weight > self.max_weight {
                break;
            }
            weight += call.weight;
            group.extend(p.calls.pop_front());
        }
        Some(group)
    }
}

/// Ends an inline write (see [`GroupCommit::submit`]): calls that queued behind it go to
/// a writer task; with none, the writer is idle again.
struct Handoff<'a, Req, Resp> {
    pending: &'a Mutex<Pending<Req, Resp>>,
    /// Starts a writer task for what waits.
    drain: Option<Box<dyn FnOnce(tokio::runtime::Handle) + Send>>,
}

impl<Req, Resp> Drop for Handoff<'_, Req, Resp> {
    fn drop(&mut self) {
        let waiting = {
            let mut p = self.pending.lock();
            let waiting = !p.calls.is_empty();
            p.writing = waiting;
            waiting
        };
        if !waiting {
            return;
        }
        match (self.drain.take(), tokio::runtime::Handle::try_current()) {
            (Some(drain), Ok(runtime)) => drain(runtime),
            // No runtime to write on (it is shutting down): fail what waits.
            _ => drop(WriterGuard(self.pending, false)),
        }
    }
}

/// Answers whatever still waits when the writer ends without draining (a panic, or the
/// runtime shutting down), so the next call starts a new writer.
struct WriterGuard<'a, Req, Resp>(&'a Mutex<Pending<Req, Resp>>, bool);

impl<Req, Resp> WriterGuard<'_, Req, Resp> {
    fn finish(mut self) {
        self.1 = true;
    }
}

impl<Req, Resp> Drop for WriterGuard<'_, Req, Resp> {
    fn drop(&mut self) {
        if self.1 {
            return;
        }
        let calls = {
            let mut p = self.0.lock();
            p.writing = false;
            std::mem::take(&mut p.calls)
        };
        for call in calls {
            let _ = call.reply.send(Err(stopped()));
        }
    }
}

fn stopped() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "the group writer stopped before this write was made; try again",
    )
}

/// The answers for `requests` after their group's write failed as a whole with `err`.
///
/// When the failure is not the database's unavailability and the group held more than
/// one request, each request is written again alone with `alone`, so one bad request
/// never fails the others. Otherwise every request gets the failure: the first `err`
/// itself, the others a [`copy_error`].
///
/// ```
/// use baas_core::{Error, ErrorKind};
/// use baas_store::group_commit::after_group_failure;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let requests = [1, 2, 3];
/// // One bad request (2) broke the group: the others still succeed alone.
/// let alone = |n: &i32| {
///     let n = *n;
///     async move { if n == 2 { Err(Error::invalid("two")) } else { Ok(n * 10) } }
/// };
/// let answers = after_group_failure(&requests, Error::invalid("two"), alone).await;
/// assert_eq!(answers[0].as_ref().unwrap(), &10);
/// assert_eq!(answers[1].as_ref().unwrap_err().kind(), ErrorKind::Invalid);
/// assert_eq!(answers[2].as_ref().unwrap(), &30);
/// # });
/// ```
pub async fn after_group_failure<'a, Req, Resp, A, Fut>(
    requests: &'a [Req],
    err: Error,
    mut alone: A,
) -> Vec<Result<Resp, Error>>
where
    A: FnMut(&'a Req) -> Fut,
    Fut: Future<Output = Result<Resp, Error>>,
{
    if requests.len() > 1 && !err.kind().is_retryable() {
        tracing::debug!(error = %err, writes = requests.len(), "a group write failed; writing its requests one by one");
        let mut out = Vec::with_capacity(requests.len());
        for request in requests {
            out.push(alone(request).await);
        }
        return out;
    }
    let mut out: Vec<_> = (1..requests.len()).map(|_| Err(copy_error(&err))).collect();
    out.insert(0, Err(err));
    out
}

/// A copy of `err` (kind, message and retry hint) for the other members of a group that
/// failed as a whole.
pub fn copy_error(err: &Error) -> Error {
    let copy = Error::new(err.kind(), err.message().to_owned());
    match err.retry_after() {
        Some(after) => copy.with_retry_after(after),
        None => copy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_groups_and_get_their_own_answers() {
        let groups = Arc::new(AtomicUsize::new(0));
        let commit: GroupCommit<u32, u32> = GroupCommit::new(1000);
        let mut calls = Vec::new();
        for n in 0..200u32 {
            let commit = commit.clone();
            let groups = Arc::clone(&groups);
            calls.push(tokio::spawn(async move {
                let write = move |group: Vec<u32>| {
                    let groups = Arc::clone(&groups);
                    async move {
                        groups.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                        group.into_iter().map(|n| Ok(n + 1)).collect()
                    }
                };
                commit.submit(n, 1, write).await
            }));
        }
        for (n, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.unwrap().unwrap(), n as u32 + 1, "its own answer");
        }
        let groups = groups.load(Ordering::SeqCst);
        assert!(groups < 200, "calls were grouped ({groups} groups for 200)");
    }

    #[tokio::test]
    async fn groups_respect_the_weight_limit() {
        let commit: GroupCommit<usize, usize> = GroupCommit::new(10);
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let mut calls = Vec::new();
        for _ in 0..6 {
            let commit = commit.clone();
            let sizes = Arc::clone(&sizes);
            calls.push(tokio::spawn(async move {
                commit
                    .submit(4, 4, move |group: Vec<usize>| {
                        let sizes = Arc::clone(&sizes);
                        async move {
                            sizes.lock().push(group.iter().sum::<usize>());
                            group.into_iter().map(Ok).collect()
                        }
                    })
                    .await
            }));
        }
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap(), 4);
        }
        assert!(
            sizes.lock().iter().all(|&w| w <= 10),
            "no group over the limit: {:?}",
            sizes.lock()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_behind_a_dropped_inline_write_are_still_written() {
        let commit: GroupCommit<u32, u32> = GroupCommit::new(8);
        let slow = |group: Vec<u32>| async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            group.into_iter().map(Ok).collect::<Vec<_>>()
        };
        // Nobody writes yet: this call writes inline, on its own task...
        let first = {
            let commit = commit.clone();
            tokio::spawn(async move { commit.submit(1, 1, slow).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        // ...so these wait behind it...
        let behind: Vec<_> = (2..5)
            .map(|n| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.submit(n, 1, slow).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        // ...and its caller goes away mid-write.
        first.abort();
        for (n, call) in (2..5).zip(behind) {
            assert_eq!(call.await.unwrap().unwrap(), n, "handed to a writer task");
        }
        // Afterwards a lone call writes inline again.
        assert_eq!(commit.submit(9, 1, slow).await.unwrap(), 9);
        assert!(!commit.pending.lock().writing, "idle again");
    }

    #[tokio::test]
    async fn a_failed_group_is_written_again_one_by_one_unless_unavailable() {
        let tried = Arc::new(AtomicUsize::new(0));
        let alone = |n: &u32| {
            let (n, tried) = (*n, Arc::clone(&tried));
            async move {
                tried.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Error>(n)
            }
        };
        let answers = after_group_failure(&[1, 2, 3], Error::internal("boom"), alone).await;
        let answers: Vec<u32> = answers.into_iter().map(Result::unwrap).collect();
        assert_eq!(answers, [1, 2, 3], "each written alone");
        assert_eq!(tried.load(Ordering::SeqCst), 3);

        let down = Error::new(ErrorKind::Unavailable, "down");
        let answers = after_group_failure(&[1, 2, 3], down, alone).await;
        assert_eq!(
            tried.load(Ordering::SeqCst),
            3,
            "nothing retried while unavailable"
        );
        assert!(
            answers
                .iter()
                .all(|a| a.as_ref().unwrap_err().kind() == ErrorKind::Unavailable)
        );

        let answers = after_group_failure(&[7], Error::internal("boom"), alone).await;
        assert_eq!(answers[0].as_ref().unwrap_err().kind(), ErrorKind::Internal);
        assert_eq!(
            tried.load(Ordering::SeqCst),
            3,
            "a lone request is not written twice"
        );
    }

    #[tokio::test]
    async fn a_write_that_answers_too_few_fails_the_rest() {
        let commit: GroupCommit<u8, u8> = GroupCommit::new(8);
        let answer = commit
            .submit(1, 1, |_group: Vec<u8>| async { Vec::new() })
            .await;
        assert_eq!(answer.unwrap_err().kind(), ErrorKind::Internal);
    }
}
