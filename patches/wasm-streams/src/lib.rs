//! The part of [wasm-streams 0.5](https://docs.rs/wasm-streams/0.5) that
//! `server_fn` (a dependency of leptos) uses, without `#[wasm_bindgen]`
//! exports.
//!
//! wasm-streams adapts Rust streams to JS `ReadableStream`s through three
//! exported classes (`IntoUnderlyingSource`, `…ByteSource`, `…Sink`). An
//! export is a root that neither the linker nor wasm-bindgen may remove, so
//! every app that links leptos shipped those classes, a futures executor
//! behind them, their JS glue and ~20 stream imports, whether it streams or
//! not: ≈14 KB of wasm in the customer widget, whose budget is 80 KB gzip.
//! Switchboard uses no server functions; this crate keeps `server_fn`
//! compiling and working with the same API built on closures created on
//! demand, so an app that never streams links none of it.
//!
//! `[patch.crates-io]` in the workspace's Cargo.toml puts it in place of
//! the registry crate. Only the items `server_fn` 0.8 calls are here.

use futures_util::stream::{unfold, Stream, StreamExt};
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// The raw web-sys types, where wasm-streams keeps them.
pub mod readable {
    pub use super::ReadableStream;

    pub mod sys {
        pub use web_sys::ReadableStream;
    }
}

type BoxedStream = Pin<Box<dyn Stream<Item = Result<JsValue, JsValue>>>>;

/// A JS `ReadableStream`, convertible from and into a Rust [`Stream`] of
/// raw [`JsValue`] chunks.
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

impl ReadableStream {
    /// Wraps a JS stream.
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        Self { raw }
    }

    /// A JS stream whose chunks (and error) come from `stream`: each `pull`
    /// of the JS side awaits the next item.
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        // JS calls `pull` again only after the promise of the previous one
        // settled, so the stream is never polled twice at once; it is taken
        // out while awaited so that no borrow is held across the await.
        let source: Rc<RefCell<Option<BoxedStream>>> = Rc::new(RefCell::new(Some(Box::pin(stream))));
        let pull = Closure::<dyn FnMut(web_sys::ReadableStreamDefaultController) -> js_sys::Promise>::new(
            move |controller: web_sys::ReadableStreamDefaultController| {
                let source = Rc::clone(&source);
                future_to_promise(async move {
                    let Some(mut stream) = source.borrow_mut().take() else {
                        return Ok(JsValue::UNDEFINED);
                    };
                    match stream.next().await {
                        Some(Ok(chunk)) => {
                            controller.enqueue_with_chunk(&chunk)?;
                            *source.borrow_mut() = Some(stream);
                        }
                        Some(Err(error)) => return Err(error),
                        None => controller.close()?,
                    }
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let underlying = js_sys::Object::new();
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&underlying, &JsValue::from_str("pull"), pull.as_ref());
        // The JS stream calls `pull` for as long as it lives, which Rust
        // cannot see: the closure lives as long as the page.
        pull.forget();
        let raw = web_sys::ReadableStream::new_with_underlying_source(&underlying)
            .unwrap_or_else(|error| wasm_bindgen::throw_val(error));
        Self { raw }
    }

    /// The JS stream.
    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// The stream's chunks, read through a default reader (which locks it);
    /// a read error is the last item.
    pub fn into_stream(self) -> impl Stream<Item = Result<JsValue, JsValue>> {
        let reader: web_sys::ReadableStreamDefaultReader = self.raw.get_reader().unchecked_into();
        unfold(Some(reader), |reader| async move {
            let reader = reader?;
            match JsFuture::from(reader.read()).await {
                Ok(result) => {
                    let member = |name: &str| js_sys::Reflect::get(&result, &JsValue::from_str(name));
                    if member("done").ok()?.as_bool().unwrap_or(false) {
                        return None;
                    }
                    Some((member("value"), Some(reader)))
                }
                Err(error) => Some((Err(error), None)),
            }
        })
    }
}
