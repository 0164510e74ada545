//! Any frame a client could send decodes to a request or a precise
//! rejection, never a panic; a decoded request re-serialises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::Request;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Request::<CustomerCommand>::decode_str(text) {
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
