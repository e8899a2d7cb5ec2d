#![forbid(unsafe_code)]
//! Cross-service journeys live in `journeys/`; this library is empty.
