//! The data key of the conversion tests.

use crate::sealed::DataKey;

/// A real authenticated cipher (AES-256-GCM) as the data key of the tests;
/// services use `yiciban_privacy::SecretKey`.
pub(crate) struct TestKey(aes_gcm::Aes256Gcm, std::sync::atomic::AtomicU64);

impl TestKey {
    pub(crate) fn new(seed: u8) -> TestKey {
        use aes_gcm::KeyInit as _;
        TestKey(aes_gcm::Aes256Gcm::new_from_slice(&[seed; 32]).unwrap(), Default::default())
    }
}

impl DataKey for TestKey {
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        use aes_gcm::aead::{Aead as _, Payload};
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_le_bytes());
        let mut out = nonce.to_vec();
        out.extend(self.0.encrypt(&nonce.into(), Payload { msg: plaintext, aad }).unwrap());
        out
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        use aes_gcm::aead::{Aead as _, Payload};
        let nonce: [u8; 12] = sealed.get(..12)?.try_into().ok()?;
        self.0.decrypt(&nonce.into(), Payload { msg: &sealed[12..], aad }).ok()
    }
}
