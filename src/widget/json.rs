//! Read access to parsed JSON, the same code over the browser's parser in
//! the widget and over `serde_json` in native tests: the browser's own
//! `JSON.parse` costs the widget no parser (see `wire`), and the natively
//! run tests check the same readers against the protocol crate.

/// Read access to a parsed JSON value: the browser's own `JSON.parse`
/// result in the widget, `serde_json::Value` in native tests.
pub trait Json: Sized {
    fn field(&self, key: &str) -> Option<Self>;
    fn string(&self) -> Option<String>;
    fn number(&self) -> Option<f64>;
    fn boolean(&self) -> Option<bool>;
    fn strings(&self) -> Option<Vec<String>>;

    fn text(&self, key: &str) -> Option<String> {
        self.field(key)?.string()
    }

    fn unsigned(&self, key: &str) -> Option<u64> {
        self.field(key)?.number().filter(|n| *n >= 0.0).map(|n| n as u64)
    }
}

#[cfg(target_arch = "wasm32")]
impl Json for wasm_bindgen::JsValue {
    fn field(&self, key: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        js_sys::Reflect::get(self, &key.into()).ok().filter(|value| !value.is_undefined() && !value.is_null())
    }
    fn string(&self) -> Option<String> {
        self.as_string()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn strings(&self) -> Option<Vec<String>> {
        js_sys::Array::is_array(self)
            .then(|| js_sys::Array::from(self).iter().filter_map(|item| item.as_string()).collect())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Json for serde_json::Value {
    fn field(&self, key: &str) -> Option<Self> {
        self.get(key).filter(|value| !value.is_null()).cloned()
    }
    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn strings(&self) -> Option<Vec<String>> {
        self.as_array().map(|items| items.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect())
    }
}

/// A parsed JSON value on this platform (see [`Json`]).
#[cfg(target_arch = "wasm32")]
pub type Parsed = wasm_bindgen::JsValue;
#[cfg(not(target_arch = "wasm32"))]
pub type Parsed = serde_json::Value;

/// Parses JSON text with the platform's parser.
#[cfg(target_arch = "wasm32")]
pub fn parse(text: &str) -> Option<Parsed> {
    js_sys::JSON::parse(text).ok()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn parse(text: &str) -> Option<Parsed> {
    serde_json::from_str(text).ok()
}
