//! A browser `WebSocket` together with its open, message and close
//! handlers, as the socket driver holds it. Dropping it
//! detaches the handlers before closing, so a late event of an abandoned
//! socket never reaches its owner.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, WebSocket};

/// A handler of one socket event.
pub type SocketHandler = Closure<dyn FnMut(MessageEvent)>;

pub struct HandledSocket {
    socket: WebSocket,
    /// Kept alive for as long as the socket may call them.
    _handlers: [SocketHandler; 3],
}

impl HandledSocket {
    /// Attaches `opened`, `message` and `closed` to `socket`.
    pub fn attach(socket: WebSocket, opened: SocketHandler, message: SocketHandler, closed: SocketHandler) -> Self {
        socket.set_onopen(Some(opened.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(closed.as_ref().unchecked_ref()));
        Self { socket, _handlers: [opened, message, closed] }
    }

    /// Sends a text frame. An error means the socket is closing: its close
    /// handler follows, and the owner's session decides what to send again
    /// on the next socket.
    pub fn send(&self, frame: &str) {
        let _ = self.socket.send_with_str(frame);
    }
}

impl Drop for HandledSocket {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}
