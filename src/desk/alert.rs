//! How a new offer gets the agent's attention beyond the page itself: a short
//! tone (WebAudio) and a browser notification when the agent allowed them.
//! Browsers allow both only after a user gesture, so [`prepare`] runs from a
//! click (going Ready) and [`announce`] later reuses what it set up.

use std::cell::RefCell;
use wasm_bindgen::JsValue;
use web_sys::{AudioContext, Notification, NotificationOptions, NotificationPermission, OscillatorType};

thread_local! {
    static AUDIO: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// From a user gesture: asks for notification permission (once) and unlocks audio.
pub fn prepare() {
    if Notification::permission() == NotificationPermission::Default {
        let _ = Notification::request_permission();
    }
    AUDIO.with(|audio| {
        let mut audio = audio.borrow_mut();
        if audio.is_none() {
            *audio = AudioContext::new().ok();
        }
        if let Some(context) = audio.as_ref() {
            let _ = context.resume();
        }
    });
}

/// A two-note chime and, when permitted, a notification.
pub fn announce(title: &str, body: &str) {
    let _ = chime();
    if Notification::permission() == NotificationPermission::Granted {
        let options = NotificationOptions::new();
        options.set_body(body);
        options.set_tag("switchboard-offer");
        let _ = Notification::new_with_options(title, &options);
    }
}

fn chime() -> Result<(), JsValue> {
    AUDIO.with(|audio| {
        let audio = audio.borrow();
        let Some(context) = audio.as_ref() else { return Ok(()) };
        let start = context.current_time();
        for (index, frequency) in [880.0_f32, 1320.0].into_iter().enumerate() {
            let at = start + index as f64 * 0.18;
            let oscillator = context.create_oscillator()?;
            let gain = context.create_gain()?;
            oscillator.set_type(OscillatorType::Sine);
            oscillator.frequency().set_value(frequency);
            gain.gain().set_value_at_time(0.0, at)?;
            gain.gain().linear_ramp_to_value_at_time(0.2, at + 0.02)?;
            gain.gain().linear_ramp_to_value_at_time(0.0, at + 0.16)?;
            oscillator.connect_with_audio_node(&gain)?;
            gain.connect_with_audio_node(&context.destination())?;
            oscillator.start_with_when(at)?;
            oscillator.stop_with_when(at + 0.17)?;
        }
        Ok(())
    })
}
