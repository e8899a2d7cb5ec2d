//! The route table of the RPC metrics: every RPC of the yiciban protos,
//! of the health protocol and of reflection, read once from the compiled
//! descriptor sets. A request path outside it is labelled `unknown`.

use std::sync::OnceLock;

use prost::Message as _;
use yiciban_metrics::Routes;

/// The RPCs any yiciban server may serve.
pub fn known() -> &'static Routes {
    static ROUTES: OnceLock<Routes> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let sets = [
            yiciban_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        ];
        let rpcs: Vec<(String, String)> = sets.iter().flat_map(|set| rpcs_of(set)).collect();
        Routes::new(rpcs.iter().map(|(service, method)| (service.as_str(), method.as_str())))
    })
}

/// `(package.Service, Method)` of every method in an encoded descriptor set.
fn rpcs_of(encoded: &[u8]) -> Vec<(String, String)> {
    // The sets are compiled into the binary; one that does not decode would
    // fail every test that checks a route below.
    let Ok(set) = prost_types::FileDescriptorSet::decode(encoded) else { return Vec::new() };
    let mut rpcs = Vec::new();
    for file in &set.file {
        for service in &file.service {
            let full = match file.package() {
                "" => service.name().to_owned(),
                package => format!("{package}.{}", service.name()),
            };
            rpcs.extend(service.method.iter().map(|m| (full.clone(), m.name().to_owned())));
        }
    }
    rpcs
}

/// The name of a gRPC status code as the metrics label it (`tonic::Code`'s
/// variant names); a number outside the protocol's is `Unknown`.
pub fn code_name(code: i32) -> &'static str {
    const NAMES: [&str; 17] = [
        "Ok",
        "Cancelled",
        "Unknown",
        "InvalidArgument",
        "DeadlineExceeded",
        "NotFound",
        "AlreadyExists",
        "PermissionDenied",
        "ResourceExhausted",
        "FailedPrecondition",
        "Aborted",
        "OutOfRange",
        "Unimplemented",
        "Internal",
        "Unavailable",
        "DataLoss",
        "Unauthenticated",
    ];
    usize::try_from(code).ok().and_then(|i| NAMES.get(i)).copied().unwrap_or("Unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_knows_the_yiciban_health_and_reflection_rpcs() {
        let routes = known();
        for path in [
            "/yiciban.intake.v1.IntakeService/SubmitApplication",
            "/yiciban.intake.v1.MaterialService/UploadMaterial",
            "/yiciban.tasks.v1.TaskService/ApproveTask",
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        ] {
            assert!(routes.knows(path), "{path} is not in the table");
        }
        assert!(!routes.knows("/yiciban.intake.v1.IntakeService/Nope"));
    }

    /// Answers every request with an empty `Unimplemented`.
    #[derive(Clone)]
    struct Nothing;

    impl tower::Service<http::Request<()>> for Nothing {
        type Response = http::Response<()>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
        fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            let mut response = http::Response::new(());
            response.headers_mut().insert("grpc-status", http::HeaderValue::from_static("12"));
            std::future::ready(Ok(response))
        }
    }

    #[tokio::test]
    async fn a_thousand_probed_paths_through_the_server_layer_add_one_unknown_series_at_most() {
        use tower::{Layer as _, Service as _};
        let series =
            || yiciban_metrics::render().lines().filter(|l| l.starts_with("yiciban_grpc_requests_total{")).count();
        let mut server = crate::grpc::TraceLayer.layer(Nothing);
        let before = series();
        for i in 0..1000 {
            let request = http::Request::post(format!("/probe.v{i}.Scanner/Method{i}")).body(()).unwrap();
            server.call(request).await.unwrap();
        }
        let text = yiciban_metrics::render();
        assert!(series() <= before + 1, "{text}");
        assert!(text.contains(
            "yiciban_grpc_requests_total{code=\"Unimplemented\",method=\"unknown\",service=\"unknown\"} 1000\n"
        ));
    }

    #[test]
    fn status_codes_are_named_as_tonic_names_them() {
        for number in -1..=17 {
            assert_eq!(code_name(number), format!("{:?}", tonic::Code::from_i32(number)));
        }
    }
}
