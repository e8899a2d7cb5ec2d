#![forbid(unsafe_code)]
//! The wire contracts of yiciban, generated from `proto/` at build time.
//! One module per versioned proto package; `FILE_DESCRIPTOR_SET` feeds gRPC
//! reflection; [`events::EventPayload`] decodes any event payload by its
//! type.
//!
//! The conversions between these types and the domain's
//! ([`convert`]) are behind the `domain` feature, so that crates which only
//! move envelopes (the event store, the platform, the command-line client)
//! do not depend on `yiciban-domain` (ADR 0014).

/// The encoded descriptor set of every yiciban proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/yiciban_descriptor.bin"));

#[cfg(test)]
mod catalogue;
pub mod codec;
pub mod convert;
pub mod descriptors;
#[cfg(test)]
mod golden;
mod payload;
pub mod placement;
pub mod sealed;

pub mod common {
    pub mod v1 {
        tonic::include_proto!("yiciban.common.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("yiciban.events.v1");
    }

    pub use crate::payload::EventPayload;
}

pub mod audit {
    pub mod v1 {
        tonic::include_proto!("yiciban.audit.v1");
    }
}

pub mod ops {
    pub mod v1 {
        tonic::include_proto!("yiciban.ops.v1");
    }
}

pub mod catalog {
    pub mod v1 {
        tonic::include_proto!("yiciban.catalog.v1");
    }
}

pub mod intake {
    pub mod v1 {
        tonic::include_proto!("yiciban.intake.v1");
    }

    /// The most bytes of one IntakeService request message: many times the
    /// largest application a catalog allows (ADR 0018).
    pub const MAX_REQUEST_BYTES: usize = 4 << 20;

    /// The room the fields of a request other than a file's bytes may take.
    pub const ENVELOPE_BYTES: usize = 64 << 10;

    /// The largest file `IntakeService.UploadMaterial` takes in its one
    /// message; larger ones go through `MaterialService.UploadMaterial`.
    pub const MAX_SINGLE_MESSAGE_FILE_BYTES: usize = MAX_REQUEST_BYTES - ENVELOPE_BYTES;

    /// The most content bytes of one `UploadMaterialChunk`.
    pub const MAX_CHUNK_BYTES: usize = 1 << 20;

    /// The most bytes of one `UploadMaterialChunk` message, content and
    /// metadata together: the MaterialService's decoding limit.
    pub const MAX_CHUNK_MESSAGE_BYTES: usize = MAX_CHUNK_BYTES + ENVELOPE_BYTES;
}

pub mod routing {
    pub mod v1 {
        tonic::include_proto!("yiciban.routing.v1");
    }
}

pub mod tasks {
    pub mod v1 {
        tonic::include_proto!("yiciban.tasks.v1");
    }
}

pub mod issuance {
    pub mod v1 {
        tonic::include_proto!("yiciban.issuance.v1");
    }
}

pub mod tracking {
    pub mod v1 {
        tonic::include_proto!("yiciban.tracking.v1");
    }
}

pub mod webhooks {
    pub mod v1 {
        tonic::include_proto!("yiciban.webhooks.v1");
    }
}

pub mod notifier {
    pub mod v1 {
        tonic::include_proto!("yiciban.notifier.v1");
    }
}

pub mod supervision {
    pub mod v1 {
        tonic::include_proto!("yiciban.supervision.v1");
    }
}
