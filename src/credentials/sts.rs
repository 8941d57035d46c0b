//! STS, the Security Token Service: `AssumeRole` (a RAM role by ARN, signed with the caller's
//! credentials in the RPC style) and `AssumeRoleWithOIDC` (RRSA on ACK Kubernetes: unsigned, the
//! service account's OIDC token instead), over the run's HTTP agent; which STS endpoint to ask.

use anyhow::Result;

use super::Credentials;
use super::keyring::Issued;
use crate::http::Http;
use crate::interrupt::Interrupt;

/// The STS endpoint when nothing says otherwise.
pub const GLOBAL_ENDPOINT: &str = "sts.aliyuncs.com";

/// A role to assume, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    /// `acs:ram::<account>:role/<name>`.
    pub role_arn: String,
    /// 2-64 of `[A-Za-z0-9.@_-]`; `sls-retry-<unix seconds>` when not configured.
    pub session_name: String,
    /// 900-43200 (default 3600).
    pub duration_seconds: u32,
    /// A policy narrowing the role's permissions, as JSON text.
    pub policy: Option<String>,
    pub external_id: Option<String>,
}

/// Where STS answers: `https://sts.aliyuncs.com`, a regional or VPC endpoint, or an explicit
/// host or URL (`http://` only for a loopback test server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsEndpoint(pub String);

impl StsEndpoint {
    /// An explicit endpoint (host or URL) wins; else `sts.{region}.aliyuncs.com` for a region,
    /// `sts-vpc.{region}.aliyuncs.com` when `vpc` too; else the global endpoint.
    pub fn select(explicit: Option<&str>, region: Option<&str>, vpc: bool) -> Result<StsEndpoint> {
        let _ = (explicit, region, vpc);
        unimplemented!("STS endpoint selection")
    }
}

/// An STS client over the run's agent.
pub struct Sts {
    pub endpoint: StsEndpoint,
    pub http: Http,
    pub interrupt: Interrupt,
}

impl Sts {
    /// `AssumeRole`, signed with `caller` (its STS token too, when it has one). Errors carry the
    /// service's code, message and request id; a signal abandons the call.
    pub fn assume_role(&self, caller: &Credentials, role: &RoleRequest) -> Result<Issued> {
        let _ = (caller, role);
        unimplemented!("AssumeRole")
    }

    /// `AssumeRoleWithOIDC`, unsigned: the OIDC provider's ARN and the token (the token file's
    /// content, read afresh by the caller for each call).
    pub fn assume_role_with_oidc(
        &self,
        role: &RoleRequest,
        oidc_provider_arn: &str,
        oidc_token: &crate::credentials::Secret,
    ) -> Result<Issued> {
        let _ = (role, oidc_provider_arn, oidc_token);
        unimplemented!("AssumeRoleWithOIDC")
    }
}
