//! The wasm-streams stand-in (`patches/wasm-streams`, in place of the
//! registry crate that leptos' server functions use) in a real browser: a
//! Rust stream goes through a JS `ReadableStream` and back.
#![cfg(target_arch = "wasm32")]

use futures::StreamExt;
use futures::stream::iter;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_streams::ReadableStream;

wasm_bindgen_test_configure!(run_in_browser);

/// Makes a JS stream of `items` and reads it back.
async fn round_trip(items: Vec<Result<JsValue, JsValue>>) -> Vec<Result<JsValue, JsValue>> {
    let raw = ReadableStream::from_stream(iter(items)).into_raw();
    assert!(raw.is_instance_of::<web_sys::ReadableStream>());
    ReadableStream::from_raw(raw).into_stream().collect().await
}

#[wasm_bindgen_test]
async fn chunks_go_through_a_js_stream_and_back_in_order() {
    let chunks = ["a", "b", "c"].map(|chunk| Ok(JsValue::from_str(chunk))).to_vec();
    let back = round_trip(chunks).await;
    let texts: Vec<String> = back.into_iter().map(|chunk| chunk.unwrap().as_string().unwrap()).collect();
    assert_eq!(texts, ["a", "b", "c"]);
}

#[wasm_bindgen_test]
async fn an_error_is_the_last_item() {
    let back = round_trip(vec![Ok(JsValue::from(1)), Err(JsValue::from_str("boom")), Ok(JsValue::from(2))]).await;
    assert_eq!(back.len(), 2, "nothing after the error: {back:?}");
    assert_eq!(back[0].as_ref().unwrap().as_f64(), Some(1.0));
    assert_eq!(back[1].as_ref().unwrap_err().as_string().as_deref(), Some("boom"));
}

#[wasm_bindgen_test]
async fn an_empty_stream_closes() {
    assert!(round_trip(Vec::new()).await.is_empty());
}
