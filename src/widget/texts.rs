//! Every string the widget shows, in one table: English is built in; a
//! language file (`www/i18n/<lang>.json`, fetched by the frame only when the
//! snippet asks for that language) and then the snippet's own overrides
//! replace entries by name (see the README).
//!
//! Strings with figures use `{placeholders}`; plurals are separate entries
//! (`waitMinute`, `waitMinutes`), which is enough for the languages shipped.
//! A few entries are empty in English: there the server's own text (the
//! service's configured dialog, the alert) is shown, and a language file
//! replaces it with a translation.

use super::json::Json;

/// Defines [`T`] (one variant per string), its JSON names and English.
macro_rules! table {
    ($($(#[$doc:meta])* $variant:ident $key:literal $english:literal,)*) => {
        /// One entry of the table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum T { $($(#[$doc])* $variant,)* }

        /// The names used by language files and snippet overrides, in [`T`]'s order.
        pub const KEYS: &[&str] = &[$($key,)*];

        const ENGLISH: [&str; COUNT] = [$($english,)*];
    };
}

table! {
    Title "title" "Chat with us",
    Greeting "greeting" "Questions? We are here to help.",
    Minimise "minimise" "Minimise the chat",
    Offline "offline" "Connection lost — reconnecting… Your messages will be sent.",
    Name "name" "Your name",
    Email "email" "E-mail",
    Subject "subject" "Subject",
    Start "start" "Start chat",
    Connecting "connecting" "Connecting…",
    /// The confirmation dialog (empty: the server's configured text).
    Dialog "dialog" "",
    Hint "hint" "You may leave this page open in the background: a sound tells you when an agent is available.",
    CancelRequest "cancelRequest" "Cancel request",
    /// "An agent is available" (empty: the server's text).
    Available "available" "",
    Confirm "confirm" "I'm here — start the chat",
    Cancel "cancel" "Cancel",
    /// A missed confirmation, place kept (empty: the server's text).
    MissedKept "missedKept" "",
    /// A missed confirmation, back of the queue (empty: the server's text).
    MissedBack "missedBack" "",
    Starting "starting" "Starting the chat…",
    Messages "messages" "Messages",
    Typing "typing" "{name} is typing…",
    Message "message" "Your message",
    Placeholder "placeholder" "Write a message…",
    Send "send" "Send",
    Download "download" "Download transcript",
    End "end" "End chat",
    NewChat "newChat" "New chat",
    Queue "queue" "You are number {position} in line ({waiting} waiting).",
    Estimate "estimate" "Estimated wait: {wait}.",
    WaitShort "waitShort" "less than a minute",
    WaitMinute "waitMinute" "about 1 minute",
    WaitMinutes "waitMinutes" "about {minutes} minutes",
    Sending "sending" "Sending…",
    Sent "sent" "Sent",
    Delivered "delivered" "Delivered",
    Seen "seen" "Seen",
    NotSent "notSent" "Not sent: {reason}",
    /// Why queued messages failed when the chat ended under them.
    Unsent "unsent" "the chat ended",
    /// The customer's name in the transcript when the form had none.
    You "you" "You",
    LeftByCustomer "leftByCustomer" "You left the chat.",
    ChatOver "chatOver" "The chat has ended.",
    /// `chat.ended {reason: "inactivity"}`.
    ClosedIdle "closedIdle" "The chat was closed because there was no reply.",
    AgentLeft "agentLeft" "{name} left the chat.",
    RateQuestion "rateQuestion" "How was the chat? Rate it from 1 (bad) to 5 (very good).",
    RateComment "rateComment" "Comment (optional)",
    RateThanks "rateThanks" "Thank you for your rating.",
    /// "Notify me" while waiting (issue 16): by push, else by e-mail.
    NotifyMe "notifyMe" "Notify me",
    Notifying "notifying" "We will notify you. You may close this page.",
    NoNotify "noNotify" "Notifications are not available: keep this page open.",
    /// The author of the widget's own transcript lines.
    System "system" "Switchboard",
}

const COUNT: usize = KEYS.len();

/// The table; [`Texts::default`] is English.
///
/// A fixed array of `'static` strings: lookups need no bounds checks, and
/// copying, comparing or dropping it needs no code for owned strings. The
/// few strings a language file or the snippet supplies are leaked once per
/// page load (the table lives as long as the page does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Texts([&'static str; COUNT]);

/// The built-in English table (sessions and configs point at it until a
/// language or an override asks for another).
pub static ENGLISH_TEXTS: Texts = Texts(ENGLISH);

impl Default for Texts {
    fn default() -> Self {
        ENGLISH_TEXTS
    }
}

impl Texts {
    /// Replaces the entries `json` names (a language file, or the snippet's
    /// `texts` option); members that are not strings are ignored.
    pub fn apply<J: Json>(&mut self, json: &J) {
        for (text, key) in self.0.iter_mut().zip(KEYS) {
            if let Some(value) = json.text(key) {
                *text = value.leak();
            }
        }
    }

    pub fn get(&self, entry: T) -> &'static str {
        self.0[entry as usize]
    }

    /// The entry with each `{name}` replaced by its value (an unknown
    /// `{name}` stays as it is). One pass over the bytes by hand:
    /// `str::replace` and `find` would ship searchers to every customer.
    pub fn fill(&self, entry: T, values: &[(&str, &str)]) -> String {
        let template = self.get(entry);
        let bytes = template.as_bytes();
        let mut text = String::new();
        let (mut copied, mut at) = (0, 0);
        while at < bytes.len() {
            if bytes[at] == b'{'
                && let Some(length) = bytes[at..].iter().position(|byte| *byte == b'}')
                && let Some((_, value)) = values.iter().find(|(name, _)| name.as_bytes() == &bytes[at + 1..at + length])
            {
                // `{` and `}` are ASCII: both ends are char boundaries.
                text.push_str(&template[copied..at]);
                text.push_str(value);
                at += length + 1;
                copied = at;
            } else {
                at += 1;
            }
        }
        text.push_str(&template[copied..]);
        text
    }

    /// The entry, or `server`'s text where the entry is empty.
    pub fn or(&self, entry: T, server: String) -> String {
        match self.get(entry) {
            "" => server,
            own => own.to_owned(),
        }
    }

    /// Minutes for people: "about 2 minutes", "less than a minute".
    pub fn wait(&self, seconds: u64) -> String {
        match seconds.div_ceil(60) {
            _ if seconds < 60 => self.get(T::WaitShort).to_owned(),
            1 => self.get(T::WaitMinute).to_owned(),
            minutes => self.fill(T::WaitMinutes, &[("minutes", &format!("{minutes}"))]),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn every_entry_has_a_name_and_english() {
        assert_eq!(KEYS.len(), ENGLISH.len());
        assert_eq!(KEYS.len(), T::System as usize + 1);
        let english = Texts::default();
        assert_eq!(english.get(T::Title), "Chat with us");
        assert_eq!(english.get(T::System), "Switchboard");
        let mut names = KEYS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KEYS.len(), "names are unique");
    }

    #[test]
    fn placeholders_are_filled_and_plurals_chosen() {
        let english = Texts::default();
        assert_eq!(english.wait(0), "less than a minute");
        assert_eq!(english.wait(59), "less than a minute");
        assert_eq!(english.wait(60), "about 1 minute");
        assert_eq!(english.wait(61), "about 2 minutes");
        assert_eq!(
            english.fill(T::Queue, &[("position", "2"), ("waiting", "5")]),
            "You are number 2 in line (5 waiting)."
        );
        assert_eq!(english.fill(T::Typing, &[("name", "Alice")]), "Alice is typing…");
        assert_eq!(english.fill(T::Typing, &[]), "{name} is typing…", "an unknown value stays visible");
        let mut texts = Texts::default();
        texts.0[T::Typing as usize] = "{ {name}} {} {name";
        assert_eq!(texts.fill(T::Typing, &[("name", "A")]), "{ A} {} {name", "stray braces stay");
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).expect("test JSON")
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_language_then_overrides_replace_entries_by_name() {
        let mut texts = Texts::default();
        texts.apply(&json(r#"{"greeting":"Hallo!","waitMinutes":"etwa {minutes} Minuten","x":"y","send":7}"#));
        assert_eq!(texts.get(T::Greeting), "Hallo!");
        assert_eq!(texts.wait(600), "etwa 10 Minuten");
        assert_eq!(texts.get(T::Send), "Send", "not a string: ignored");
        texts.apply(&json(r#"{"greeting":"Moin!"}"#));
        assert_eq!(texts.get(T::Greeting), "Moin!");
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_shipped_languages_translate_every_entry() {
        for (lang, file) in [
            ("de", include_str!("../../www/i18n/de.json")),
            ("fr", include_str!("../../www/i18n/fr.json")),
            ("es", include_str!("../../www/i18n/es.json")),
        ] {
            let parsed = json(file);
            let members = parsed.as_object().expect("an object");
            for key in KEYS {
                let text = members.get(*key).and_then(|text| text.as_str());
                assert!(text.is_some_and(|text| !text.is_empty()), "{lang}.json lacks {key}");
            }
            assert_eq!(members.len(), KEYS.len(), "{lang}.json has only known names");
            let mut texts = Texts::default();
            texts.apply(&parsed);
            for (entry, names) in [
                (T::Queue, &["{position}", "{waiting}"][..]),
                (T::Estimate, &["{wait}"]),
                (T::WaitMinutes, &["{minutes}"]),
            ] {
                for name in names {
                    assert!(texts.get(entry).contains(name), "{lang}: {entry:?} keeps {name}");
                }
            }
            for (entry, name) in [(T::Typing, "{name}"), (T::AgentLeft, "{name}"), (T::NotSent, "{reason}")] {
                assert!(texts.get(entry).contains(name), "{lang}: {entry:?} keeps {name}");
            }
        }
    }
}
