//! Any frame a client could send decodes to a request or a precise
//! rejection, never a panic; a decoded request re-serialises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::supervisor::SupervisorCommand;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Request::<SupervisorCommand>::decode_str(text) {
        Ok(request) => {
            let _ = request.failure(switchboard_protocol::message::failure::Failure::new(
                switchboard_protocol::message::failure::FailureCode::Internal,
                "fuzz",
            ));
        }
        Err(rejection) => {
            let _ = rejection.into_response();
        }
    }
});
