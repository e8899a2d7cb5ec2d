//! Identity: bearer tokens from an OpenID Connect issuer, verified against
//! its published keys ([`keys`], [`verify`]), mapped to a [`Caller`]
//! ([`claims`]), an applicant's identity learned from the issuer's userinfo
//! and kept only as its keyed hash ([`userinfo`]), checked in front of every gRPC service ([`layer`]); and the
//! service's own tokens for calling other services ([`client`]). See ADR 0015.

pub mod caller;
pub mod claims;
pub mod client;
pub mod error;
pub mod keys;
pub mod layer;
pub mod pkce;
pub mod token_cache;
pub mod userinfo;
pub mod verify;

pub use caller::{Caller, Role};
pub use claims::{ClaimMapping, SERVICES};
pub use client::{Authorized, ClientCredentials, TokenSource};
pub use error::TokenError;
pub use keys::{IssuerKeys, KeyPolicy, http_client};
pub use layer::Authenticate;
pub use userinfo::{IDENTITY_SCOPE, Identities};
pub use verify::{Verified, Verifier};
