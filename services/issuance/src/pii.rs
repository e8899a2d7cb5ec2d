//! Personal data handled at the window, reduced at once: the collector's ID
//! number is checked against the applicant's and then kept only masked and
//! as a keyed hash (HMAC-SHA256), never stored, logged or published.

use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

/// HMAC-SHA256 (RFC 2104) of `message` under `key`, as 64 lower-case hex
/// characters.
pub fn hmac_sha256_hex(key: &SecretString, message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let key = key.expose_secret().as_bytes();
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    hex::encode(Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize())
}

/// The keyed hash of an identity number (upper-cased, trimmed).
pub fn identity_hmac(key: &SecretString, id_number: &str) -> String {
    hmac_sha256_hex(key, id_number.trim().to_uppercase().as_bytes())
}

/// An ID number with all but its first 4 and last 4 characters masked.
pub fn mask_id_number(id_number: &str) -> String {
    let chars: Vec<char> = id_number.trim().chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_test_vector() {
        // RFC 4231 test case 2.
        let key = SecretString::from("Jefe");
        assert_eq!(
            hmac_sha256_hex(&key, b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn an_id_number_keeps_four_characters_at_each_end() {
        assert_eq!(mask_id_number("15020319900101123X"), "1502**********123X");
        let key = SecretString::from("k");
        assert_eq!(identity_hmac(&key, "15020319900101123x "), identity_hmac(&key, "15020319900101123X"));
    }
}
