//! How a request is signed, exactly as docs/DEPARTMENTS.md tells receivers:
//! `Yiciban-Signature: v1=<hex>` where `<hex>` is the lower-case hex
//! HMAC-SHA256, keyed with the subscription's secret (its UTF-8 bytes), of
//! the ASCII decimal `Yiciban-Timestamp`, a `.`, and the raw body bytes.
//! While a rotated-out secret is still honoured the header carries one
//! `v1=` entry per secret, comma-separated, the newest first.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The header with the signature(s).
pub const SIGNATURE: &str = "yiciban-signature";
/// The header with the signing time, Unix seconds.
pub const TIMESTAMP: &str = "yiciban-timestamp";

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Yiciban-Signature` value for `secrets` (newest first).
pub fn header(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| format!("v1={}", sign(s, timestamp, body))).collect::<Vec<_>>().join(",")
}

/// What a receiver does: true if one `v1=` entry of `header` is the
/// signature of `body` at `timestamp` under `secret` (compared in constant
/// time) and `timestamp` is within `tolerance_secs` of `now`.
pub fn verify(secret: &str, header: &str, timestamp: i64, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    if (now - timestamp).abs() > tolerance_secs {
        return false;
    }
    header.split(',').filter_map(|entry| entry.trim().strip_prefix("v1=")).any(|hex_sig| {
        let Ok(code) = hex::decode(hex_sig) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&code).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = &[0x0a, 0x03, b'a', b'b', b'c'];

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_a_dot_and_the_body() {
        // python3: hmac.new(b'whsec_test', b'1764748800.' + body, hashlib.sha256).hexdigest()
        assert_eq!(
            sign("whsec_test", 1_764_748_800, BODY),
            "4f01f2fae0d43331f6eaef8301815f1268ff15579d6b1c398149e53cc6bbe2ea"
        );
    }

    #[test]
    fn a_receiver_accepts_any_listed_secret_and_refuses_old_or_altered_requests() {
        let h = header(&["new-secret", "old-secret"], 1000, BODY);
        assert!(h.starts_with("v1=") && h.contains(",v1="));
        assert!(verify("new-secret", &h, 1000, BODY, 1010, 300));
        assert!(verify("old-secret", &h, 1000, BODY, 1010, 300));
        assert!(!verify("other", &h, 1000, BODY, 1010, 300));
        assert!(!verify("new-secret", &h, 1000, b"altered", 1010, 300));
        assert!(!verify("new-secret", &h, 1001, BODY, 1010, 300), "the timestamp is signed");
        assert!(!verify("new-secret", &h, 1000, BODY, 1000 + 301, 300), "too old: a replayed capture");
        assert!(!verify("new-secret", "v1=zz,nonsense", 1000, BODY, 1000, 300));
    }
}
