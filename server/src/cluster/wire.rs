//! The bus's messages between the nodes of one instance-domain (JSON on
//! core NATS), and their subjects. Nodes of one build talk to each other;
//! a message that does not decode is logged and dropped, which the
//! receiver's sequence check turns into a resume of the clients concerned.
//!
//! Subjects (`<domain>` is the instance-domain, made a NATS token):
//! - `sb.<domain>.center.<epoch>`: edges' inputs for the center of an epoch;
//! - `sb.<domain>.center.<epoch>.intervals`: interval statistics (request, reply);
//! - `sb.<domain>.node.<node>`: the center's frames and closes for a node's connections;
//! - `sb.<domain>.heartbeat`: every node's heartbeat.

use crate::core::Endpoint;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;

/// The subjects of one instance-domain.
#[derive(Clone, Debug)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    pub fn new(domain: &str) -> Self {
        // A NATS token: no dots, spaces or wildcards.
        let token: String =
            domain.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        Self { prefix: format!("sb.{token}") }
    }

    pub fn center(&self, epoch: u64) -> String {
        format!("{}.center.{epoch}", self.prefix)
    }

    pub fn intervals(&self, epoch: u64) -> String {
        format!("{}.center.{epoch}.intervals", self.prefix)
    }

    pub fn node(&self, node: u32) -> String {
        format!("{}.node.{node:08x}", self.prefix)
    }

    pub fn heartbeat(&self) -> String {
        format!("{}.heartbeat", self.prefix)
    }
}

/// Which endpoint a connection is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Agent,
    Customer,
    Supervisor,
}

impl From<Endpoint> for Side {
    fn from(endpoint: Endpoint) -> Self {
        match endpoint {
            Endpoint::Agent => Self::Agent,
            Endpoint::Customer => Self::Customer,
            Endpoint::Supervisor => Self::Supervisor,
        }
    }
}

impl From<Side> for Endpoint {
    fn from(side: Side) -> Self {
        match side {
            Side::Agent => Self::Agent,
            Side::Customer => Self::Customer,
            Side::Supervisor => Self::Supervisor,
        }
    }
}

/// An edge's inputs for the center, in the order its connections gave them.
/// `seq` counts this node's bundles to the epoch's center from 1: a gap
/// means the bus lost one.
#[derive(Debug, Serialize, Deserialize)]
pub struct ToCenter {
    pub node: u32,
    pub seq: u64,
    pub inputs: Vec<Input>,
}

/// One input of a connection (`c`: the connection's number on its node).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "camelCase")]
pub enum Input {
    Opened {
        c: u64,
        side: Side,
    },
    Closed {
        c: u64,
    },
    Heard {
        c: u64,
    },
    /// A request frame, checked by the edge (`login`: a login's password
    /// check, see `inbound::Inbound`).
    Request {
        c: u64,
        side: Side,
        text: String,
        login: Option<bool>,
        address: IpAddr,
    },
    /// A frame the edge refused, answered in its turn: the response's JSON.
    Refused {
        c: u64,
        response: String,
    },
}

/// The center's frames and closes for one node, in order. `seq` counts the
/// center's bundles to this node from 1.
#[derive(Debug, Serialize, Deserialize)]
pub struct ToEdge {
    pub epoch: u64,
    pub seq: u64,
    pub outputs: Vec<Output>,
}

/// One thing for a connection of the node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "camelCase")]
pub enum Output {
    /// A frame for the socket; `first`: ahead of the queue (a bind's response and replay).
    Frame {
        c: u64,
        text: Arc<str>,
        first: bool,
    },
    /// A piece of a frame too big for one bus message (a long chat's
    /// `chat.transcript`): the pieces of one frame come in order, in
    /// consecutive outputs, the last with `last`; the node joins them.
    Piece {
        c: u64,
        text: String,
        first: bool,
        last: bool,
    },
    Close {
        c: u64,
        code: u16,
        reason: String,
    },
}

impl Input {
    /// About how many bytes it takes on the bus.
    pub fn size(&self) -> usize {
        match self {
            Input::Request { text, .. } => text.len() + 64,
            Input::Refused { response, .. } => response.len() + 32,
            _ => 32,
        }
    }
}

impl Output {
    /// About how many bytes it takes on the bus.
    pub fn size(&self) -> usize {
        match self {
            Output::Frame { text, .. } => text.len() + 32,
            Output::Piece { text, .. } => text.len() + 32,
            Output::Close { reason, .. } => reason.len() + 32,
        }
    }
}

/// The most bytes of frames one bus message carries: well inside NATS's
/// default limit of 1 MiB per message, with room for JSON's escapes.
pub const BUNDLE_BYTES: usize = 256 * 1024;

/// The most bytes of one frame a bus message carries; a larger frame goes
/// in pieces of this size ([`Output::Piece`]). With JSON's escapes a piece
/// stays under NATS's 1 MiB even if every byte were escaped.
pub const PIECE_BYTES: usize = 256 * 1024;

/// `outputs` with every frame larger than [`PIECE_BYTES`] cut into pieces
/// (at character boundaries), in order.
pub fn in_pieces(outputs: Vec<Output>) -> Vec<Output> {
    if outputs.iter().all(|output| !matches!(output, Output::Frame { text, .. } if text.len() > PIECE_BYTES)) {
        return outputs;
    }
    let mut cut = Vec::with_capacity(outputs.len());
    for output in outputs {
        match output {
            Output::Frame { c, text, first } if text.len() > PIECE_BYTES => {
                let mut rest: &str = &text;
                while !rest.is_empty() {
                    let mut end = rest.len().min(PIECE_BYTES);
                    while !rest.is_char_boundary(end) {
                        end -= 1;
                    }
                    let (piece, after) = rest.split_at(end);
                    cut.push(Output::Piece { c, text: piece.to_owned(), first, last: after.is_empty() });
                    rest = after;
                }
            }
            other => cut.push(other),
        }
    }
    cut
}

/// `items` cut, in order, into bundles of about [`BUNDLE_BYTES`] at most (an
/// item larger than that goes alone).
pub fn split_by_size<T>(items: Vec<T>, size: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut bundles = Vec::new();
    let mut bundle = Vec::new();
    let mut bytes = 0;
    for item in items {
        let item_bytes = size(&item);
        if !bundle.is_empty() && bytes + item_bytes > BUNDLE_BYTES {
            bundles.push(std::mem::take(&mut bundle));
            bytes = 0;
        }
        bytes += item_bytes;
        bundle.push(item);
    }
    if !bundle.is_empty() {
        bundles.push(bundle);
    }
    bundles
}

/// A node's heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Heartbeat {
    pub node: u32,
    pub name: String,
    /// Set when this node is the center: its epoch.
    pub center: Option<u64>,
}

/// The center's answer to an interval-statistics request (the request is
/// a `GetIntervals`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IntervalsAnswer {
    Intervals(switchboard_protocol::message::intervals::Intervals),
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_nats_tokens_of_the_domain() {
        let subjects = Subjects::new("acme.example com");
        assert_eq!(subjects.center(7), "sb.acme_example_com.center.7");
        assert_eq!(subjects.node(0xab), "sb.acme_example_com.node.000000ab");
        assert_eq!(subjects.heartbeat(), "sb.acme_example_com.heartbeat");
    }

    #[test]
    fn big_bundles_are_cut_in_order_and_small_ones_are_not() {
        let sizes = [100, BUNDLE_BYTES - 50, 40, BUNDLE_BYTES * 2, 10];
        let bundles = split_by_size(sizes.to_vec(), |size| *size);
        assert_eq!(bundles, vec![vec![100], vec![BUNDLE_BYTES - 50, 40], vec![BUNDLE_BYTES * 2], vec![10]]);
        assert_eq!(split_by_size(vec![1, 2, 3], |size| *size), vec![vec![1, 2, 3]]);
        assert!(split_by_size(Vec::<usize>::new(), |size| *size).is_empty());
    }

    #[test]
    fn a_frame_too_big_for_one_message_goes_in_pieces_that_join_back() {
        // Multi-byte characters across the cut: pieces end at character boundaries.
        let big: String = "é\"x".repeat(PIECE_BYTES / 2);
        let small = Output::Frame { c: 2, text: Arc::from("{}"), first: false };
        let cut = in_pieces(vec![small, Output::Frame { c: 1, text: Arc::from(big.as_str()), first: true }]);
        assert!(matches!(&cut[0], Output::Frame { c: 2, .. }), "small frames stay whole");
        let pieces: Vec<&Output> = cut[1..].iter().collect();
        assert!(pieces.len() >= 2, "{} pieces", pieces.len());
        let mut joined = String::new();
        for (index, piece) in pieces.iter().enumerate() {
            let Output::Piece { c: 1, text, first: true, last } = piece else { panic!("a piece: {piece:?}") };
            assert!(text.len() <= PIECE_BYTES);
            assert_eq!(*last, index == pieces.len() - 1);
            joined.push_str(text);
            // Each piece, escaped, fits a NATS message.
            assert!(serde_json::to_vec(piece).unwrap().len() < 1024 * 1024);
        }
        assert_eq!(joined, big);
    }

    #[test]
    fn bundles_round_trip_through_json() {
        let bundle = ToEdge {
            epoch: 3,
            seq: 9,
            outputs: vec![
                Output::Frame { c: 1, text: Arc::from("{\"seq\":1}"), first: true },
                Output::Close { c: 2, code: 1008, reason: "too slow".into() },
            ],
        };
        let text = serde_json::to_vec(&bundle).unwrap();
        let back: ToEdge = serde_json::from_slice(&text).unwrap();
        assert_eq!((back.epoch, back.seq, back.outputs.len()), (3, 9, 2));
        assert!(matches!(&back.outputs[0], Output::Frame { c: 1, text, first: true } if &**text == "{\"seq\":1}"));
    }
}
