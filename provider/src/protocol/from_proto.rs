//! Wire messages to the server's hand-written types. Pure functions; an absent message
//! becomes `None` (the server treats it as null).

use super::server::WireValue;
use super::tfplugin6 as pb;

/// A `DynamicValue`, when present.
pub(crate) fn dynamic(v: Option<pb::DynamicValue>) -> Option<WireValue> {
    v.map(|d| WireValue {
        msgpack: d.msgpack,
        json: d.json,
    })
}

/// A `RawState`: the JSON (as a wire value) and whether a legacy flatmap was sent instead.
pub(crate) fn raw_state(v: Option<pb::RawState>) -> (WireValue, bool) {
    match v {
        Some(r) => {
            let has_flatmap = !r.flatmap.is_empty();
            (
                WireValue {
                    msgpack: Vec::new(),
                    json: r.json,
                },
                has_flatmap,
            )
        }
        None => (WireValue::default(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_messages_become_none_and_flatmap_is_flagged() {
        assert_eq!(dynamic(None), None);
        let d = dynamic(Some(pb::DynamicValue {
            msgpack: vec![0xc0],
            json: Vec::new(),
        }));
        assert_eq!(d.map(|w| w.msgpack), Some(vec![0xc0]));
        let (w, flat) = raw_state(Some(pb::RawState {
            json: Vec::new(),
            flatmap: [("a".to_owned(), "b".to_owned())].into(),
        }));
        assert!(flat);
        assert!(w.json.is_empty());
        assert_eq!(raw_state(None), (WireValue::default(), false));
    }
}
