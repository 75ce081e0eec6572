//! The response body of the layer, and bounded buffering of the inner response.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use pin_project_lite::pin_project;

pin_project! {
    /// The body of a response that went through the
    /// [`IdempotencyLayer`](super::IdempotencyLayer): the inner service's own body
    /// (passed through untouched), a buffered one (a stored or replayed response, or one
    /// of the layer's problem documents), or a partly buffered one resumed from where
    /// buffering stopped.
    pub struct IdempotencyBody<B: Body> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B: Body> {
        Inner { #[pin] body: B },
        Full { data: Option<Bytes> },
        Resumed {
            prefix: Option<Bytes>,
            pending: Option<Result<Frame<Bytes>, B::Error>>,
            rest: Pin<Box<B>>,
            done: bool,
        },
    }
}

impl<B: Body> IdempotencyBody<B> {
    /// The inner service's body, untouched.
    pub(crate) fn inner(body: B) -> Self {
        IdempotencyBody {
            kind: Kind::Inner { body },
        }
    }

    /// A fully buffered body.
    pub(crate) fn full(data: Bytes) -> Self {
        IdempotencyBody {
            kind: Kind::Full {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }
}

impl<B: Body> fmt::Debug for IdempotencyBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Inner { .. } => "Inner",
            Kind::Full { .. } => "Full",
            Kind::Resumed { .. } => "Resumed",
        };
        f.debug_struct("IdempotencyBody")
            .field("kind", &kind)
            .finish()
    }
}

impl<B: Body<Data = Bytes>> Body for IdempotencyBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Full { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            KindProj::Resumed {
                prefix,
                pending,
                rest,
                done,
            } => {
                if let Some(prefix) = prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(prefix))));
                }
                if let Some(frame) = pending.take() {
                    *done = frame.is_err();
                    return Poll::Ready(Some(frame));
                }
                if *done {
                    return Poll::Ready(None);
                }
                rest.as_mut().poll_frame(cx)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
            Kind::Resumed {
                prefix,
                pending,
                rest,
                done,
            } => prefix.is_none() && pending.is_none() && (*done || rest.is_end_stream()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Resumed { .. } => SizeHint::default(),
        }
    }
}

/// What [`buffer`] got.
pub(crate) enum Buffered<B: Body> {
    /// The whole body, within the limit.
    Complete(Bytes),
    /// The body was over the limit, had trailers or failed: here it is, to be sent on
    /// unchanged (what was read first, then the rest).
    Partial(IdempotencyBody<B>),
}

/// Read `body` whole if it fits in `max` bytes and has no trailers.
pub(crate) async fn buffer<B: Body<Data = Bytes>>(body: B, max: usize) -> Buffered<B> {
    if body.size_hint().lower() > max as u64 {
        return Buffered::Partial(IdempotencyBody::inner(body));
    }
    let mut body = Box::pin(body);
    let mut chunks = Chunks::default();
    loop {
        let pending = match body.frame().await {
            None => return Buffered::Complete(chunks.into_bytes()),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if chunks.len + data.len() <= max => {
                    chunks.push(data);
                    continue;
                }
                Ok(data) => Ok(Frame::data(data)),
                Err(trailers) => Ok(trailers),
            },
            Some(Err(err)) => Err(err),
        };
        let prefix = chunks.into_bytes();
        return Buffered::Partial(IdempotencyBody {
            kind: Kind::Resumed {
                prefix: (!prefix.is_empty()).then_some(prefix),
                pending: Some(pending),
                rest: body,
                done: false,
            },
        });
    }
}

/// Data frames, copied together only when there is more than one.
#[derive(Default)]
struct Chunks {
    first: Option<Bytes>,
    more: Option<BytesMut>,
    len: usize,
}

impl Chunks {
    fn push(&mut self, data: Bytes) {
        self.len += data.len();
        match (&mut self.first, &mut self.more) {
            (None, _) => self.first = Some(data),
            (Some(_), Some(more)) => more.extend_from_slice(&data),
            (Some(first), None) => {
                let mut more = BytesMut::with_capacity(self.len);
                more.extend_from_slice(first);
                more.extend_from_slice(&data);
                self.more = Some(more);
            }
        }
    }

    fn into_bytes(self) -> Bytes {
        match (self.first, self.more) {
            (_, Some(more)) => more.freeze(),
            (Some(first), None) => first,
            (None, None) => Bytes::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    type Item = Result<Frame<Bytes>, std::io::Error>;
    type Frames = Vec<Item>;
    type Stream = StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Item>>>;

    fn stream(frames: Frames) -> Stream {
        StreamBody::new(futures_util::stream::iter(frames))
    }

    #[tokio::test]
    async fn buffers_a_body_within_the_limit() {
        let body = stream(vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Ok(Frame::data(Bytes::from_static(b"cd"))),
        ]);
        let Buffered::Complete(bytes) = buffer(body, 4).await else {
            panic!("expected complete");
        };
        assert_eq!(bytes, "abcd");
    }

    #[tokio::test]
    async fn an_oversized_body_is_sent_on_whole() {
        let body = stream(vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Ok(Frame::data(Bytes::from_static(b"cd"))),
            Ok(Frame::data(Bytes::from_static(b"ef"))),
        ]);
        let Buffered::Partial(rest) = buffer(body, 3).await else {
            panic!("expected partial");
        };
        assert_eq!(rest.collect().await.unwrap().to_bytes(), "abcdef");

        let known = Full::new(Bytes::from_static(b"0123456789"));
        let Buffered::Partial(rest) = buffer(known, 3).await else {
            panic!("expected partial by size hint");
        };
        assert_eq!(rest.collect().await.unwrap().to_bytes(), "0123456789");
    }

    #[tokio::test]
    async fn trailers_and_errors_are_passed_on() {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-t", http::HeaderValue::from_static("1"));
        let body = stream(vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Ok(Frame::trailers(trailers.clone())),
        ]);
        let Buffered::Partial(rest) = buffer(body, 100).await else {
            panic!("trailers are not storable");
        };
        let collected = rest.collect().await.unwrap();
        assert_eq!(collected.trailers(), Some(&trailers));
        assert_eq!(collected.to_bytes(), "ab");

        let body = stream(vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Err(std::io::Error::other("boom")),
            Ok(Frame::data(Bytes::from_static(b"never"))),
        ]);
        let Buffered::Partial(mut rest) = buffer(body, 100).await else {
            panic!("errors are not storable");
        };
        assert_eq!(
            rest.frame().await.unwrap().unwrap().into_data().unwrap(),
            "ab"
        );
        assert!(rest.frame().await.unwrap().is_err());
        assert!(rest.frame().await.is_none(), "nothing after the error");
    }

    #[tokio::test]
    async fn full_bodies_report_their_size() {
        let body = IdempotencyBody::<Full<Bytes>>::full(Bytes::from_static(b"xyz"));
        assert_eq!(body.size_hint().exact(), Some(3));
        assert!(!body.is_end_stream());
        let empty = IdempotencyBody::<Full<Bytes>>::full(Bytes::new());
        assert!(empty.is_end_stream());
        assert_eq!(empty.collect().await.unwrap().to_bytes(), "");
    }
}
