//! Credentials where operators run the tool, end to end: RRSA on Kubernetes, roles by ARN, the
//! ECS instance's role, a credentials URI, the official credentials file, every aliyun CLI mode,
//! our profiles' roles; the chain's order; refresh during a long run; every error path. The
//! stand-in plays STS, the metadata service and the credentials URI, and its SLS side checks that
//! each request is signed with the temporary credentials those handed out.

use std::time::Duration;

use standin::{DEMO_KEY_ID, DEMO_KEY_SECRET, IssuedCredentials, StandIn};

use crate::harness::{Home, Run, assert_contains, ids, run, target_toml};

const ROLE: &str = "acs:ram::1234567890123456:role/sls-retry";
const OIDC_PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-never-printed.sig";
const ECS_ROLE: &str = "ecs-sls-role";

/// A stand-in whose STS lets the demo account and the OIDC provider assume `ROLE` (credentials
/// lasting `lifetime` seconds), with a credentials URI and an ECS role of short-lived credentials.
fn standin_with(lifetime: u64) -> StandIn {
    StandIn::builder()
        .account(DEMO_KEY_ID, DEMO_KEY_SECRET)
        .role(ROLE, lifetime)
        .trust(ROLE, DEMO_KEY_ID)
        .trust(ROLE, OIDC_PROVIDER)
        .trust(ROLE, &format!("ecs:{ECS_ROLE}"))
        .oidc_provider(OIDC_PROVIDER, OIDC_TOKEN)
        .credentials_uri(3600)
        .ecs_role(
            ECS_ROLE,
            "STS.ecs-fixed",
            "ecs-fixed-secret",
            "ecs-fixed-token",
        )
        .ecs_role_lifetime(3600)
        .build()
}

fn standin() -> StandIn {
    standin_with(3600)
}

/// `sls-retry` in `home` with the demo target, STS and the metadata service at `standin`.
fn command(home: &Home, standin: &StandIn) -> std::process::Command {
    let mut cmd = home.command();
    cmd.args(standin.demo_target())
        .env("ALIBABA_CLOUD_STS_ENDPOINT", standin.endpoint())
        .env("SLS_RETRY_ECS_METADATA_URL", standin.endpoint());
    cmd
}

/// The OIDC token file in `home`, as the kubelet writes it.
fn token_file(home: &Home) -> String {
    let path = home.write("rrsa/token", OIDC_TOKEN, 0o600);
    path.display().to_string()
}

/// Every accepted SLS request was signed with credentials the stand-in issued for `by` (a role
/// ARN, `credentials-uri`, `ecs:{role}`), token included; which ones, in order of use.
fn signed_by_issued(standin: &StandIn, by: &str) -> Vec<IssuedCredentials> {
    let issued = standin.issued();
    let accepted: Vec<_> = (standin.requests().into_iter())
        .filter(|r| r.status == 200 && r.method == "PUT" && r.path.starts_with("/logstores/"))
        .collect();
    assert!(!accepted.is_empty(), "nothing was accepted");
    let mut used: Vec<IssuedCredentials> = Vec::new();
    for request in accepted {
        let auth = request.header("authorization").unwrap().to_string();
        let creds = (issued.iter())
            .find(|c| auth.contains(&format!("LOG {}:", c.key_id)))
            .unwrap_or_else(|| panic!("signed by no issued key: {auth}"));
        assert_eq!(creds.by, by, "{auth}");
        assert_eq!(
            request.header("x-acs-security-token"),
            Some(creds.token.as_str())
        );
        if used.last() != Some(creds) {
            used.push(creds.clone());
        }
    }
    used
}

/// The run retried `t1` and `t2` and said at `-v` where its credentials came from.
fn assert_retried(r: &Run, credentials_from: &str) {
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_contains(
        &r.stderr,
        &format!("sls-retry: credentials from {credentials_from}"),
    );
    assert!(!r.stderr.contains(OIDC_TOKEN), "{}", r.stderr);
}

#[test]
fn rrsa_from_the_environment_as_ack_injects_it() {
    let (standin, home) = (standin(), Home::new());
    let token_file = token_file(&home);
    let r = run(
        command(&home, &standin)
            .env("ALIBABA_CLOUD_ROLE_ARN", ROLE)
            .env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
            .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token_file)
            .env("ALIBABA_CLOUD_ROLE_SESSION_NAME", "cronjob-1")
            .args(["-v", "t1", "t2"]),
        None,
    );
    assert_retried(
        &r,
        &format!(
            "environment (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, \
             ALIBABA_CLOUD_OIDC_TOKEN_FILE): role {ROLE} (session cronjob-1) via STS {}",
            standin.endpoint()
        ),
    );
    signed_by_issued(&standin, ROLE);
    let sts = standin.sts_requests();
    assert_eq!(sts.len(), 1);
    assert_eq!(
        sts[0].param("Action").as_deref(),
        Some("AssumeRoleWithOIDC")
    );
    assert_eq!(sts[0].param("OIDCToken").as_deref(), Some(OIDC_TOKEN));
    assert_eq!(
        sts[0].param("RoleSessionName").as_deref(),
        Some("cronjob-1")
    );
}

#[test]
fn a_credentials_uri_from_the_environment() {
    let (standin, home) = (standin(), Home::new());
    let r = run(
        command(&home, &standin)
            .env("ALIBABA_CLOUD_CREDENTIALS_URI", standin.credentials_uri())
            .args(["-v", "t1"]),
        None,
    );
    assert_retried(
        &r,
        &format!(
            "environment (ALIBABA_CLOUD_CREDENTIALS_URI): {}",
            standin.credentials_uri()
        ),
    );
    signed_by_issued(&standin, "credentials-uri");
}

/// Our profiles, in each of their ways to a role or to temporary credentials.
#[test]
fn our_profiles_assume_roles_and_name_every_temporary_source() {
    let home = Home::new();
    let token_file = token_file(&home);
    let own_keys =
        format!("access_key_id = \"{DEMO_KEY_ID}\"\naccess_key_secret = \"{DEMO_KEY_SECRET}\"\n");
    let cases = |standin: &StandIn| {
        [
            (
                format!("{own_keys}role_arn = \"{ROLE}\"\nrole_session_name = \"ops\"\n"),
                ROLE.to_string(),
            ),
            (
                format!("source_profile = \"keys\"\nrole_arn = \"{ROLE}\"\n"),
                ROLE.to_string(),
            ),
            (
                format!(
                    "role_arn = \"{ROLE}\"\noidc_provider_arn = \"{OIDC_PROVIDER}\"\n\
                     oidc_token_file = \"{token_file}\"\n"
                ),
                ROLE.to_string(),
            ),
            (
                format!("ecs_ram_role = \"{ECS_ROLE}\"\n"),
                format!("ecs:{ECS_ROLE}"),
            ),
            (
                format!("credentials_uri = \"{}\"\n", standin.credentials_uri()),
                "credentials-uri".to_string(),
            ),
        ]
    };
    for case in 0..5 {
        let standin = standin();
        let (keys, by) = cases(&standin)[case].clone();
        home.profile_file(&format!(
            "[keys]\n{own_keys}\n[job]\n{keys}{}",
            target_toml(&standin)
        ));
        let r = run(
            command(&home, &standin).args(["--profile", "job", "-v", "t1"]),
            None,
        );
        assert_eq!(r.code, 0, "{keys}: {}", r.stderr);
        assert_contains(&r.stderr, "sls-retry: credentials from profile \"job\" in ");
        signed_by_issued(&standin, &by);
    }
}

/// Every mode of the aliyun CLI that signs, a mode-less AccessKey with a role read as the CLI
/// reads it (the role is assumed, never plain AK), and External declaring another mode.
#[test]
fn every_aliyun_cli_mode_signs_as_the_cli_would() {
    let home = Home::new();
    let token_file = token_file(&home);
    let keys =
        format!(r#""access_key_id": "{DEMO_KEY_ID}", "access_key_secret": "{DEMO_KEY_SECRET}""#);
    let external = format!(
        r#"printf {{"mode":"RamRoleArn","access_key_id":"{DEMO_KEY_ID}","access_key_secret":"{DEMO_KEY_SECRET}","ram_role_arn":"{ROLE}","ram_session_name":"ext"}}"#
    );
    let profiles = [
        (
            format!(
                r#""mode": "RamRoleArn", {keys}, "ram_role_arn": "{ROLE}", "ram_session_name": "cli""#
            ),
            ROLE.to_string(),
        ),
        (
            format!(r#"{keys}, "ram_role_arn": "{ROLE}""#),
            ROLE.to_string(),
        ),
        (
            format!(
                r#""mode": "ChainableRamRoleArn", "source_profile": "base", "ram_role_arn": "{ROLE}""#
            ),
            ROLE.to_string(),
        ),
        (
            format!(
                r#""mode": "RamRoleArnWithRoleName", "ram_role_name": "{ECS_ROLE}", "ram_role_arn": "{ROLE}""#
            ),
            ROLE.to_string(),
        ),
        (
            format!(
                r#""mode": "OIDC", "oidc_provider_arn": "{OIDC_PROVIDER}", "oidc_token_file": "{token_file}", "ram_role_arn": "{ROLE}""#
            ),
            ROLE.to_string(),
        ),
        (
            r#""mode": "CredentialsURI", "credentials_uri": "URI""#.to_string(),
            "credentials-uri".to_string(),
        ),
        (
            format!(r#""mode": "EcsRamRole", "ram_role_name": "{ECS_ROLE}""#),
            format!("ecs:{ECS_ROLE}"),
        ),
        (
            format!(
                r#""mode": "External", "process_command": {}"#,
                serde_json::to_string(&external).unwrap()
            ),
            ROLE.to_string(),
        ),
    ];
    for (fields, by) in profiles {
        let standin = standin();
        let fields = fields.replace("\"URI\"", &format!("\"{}\"", standin.credentials_uri()));
        home.aliyun_config(&format!(
            r#"{{"current": "job", "profiles": [{{"name": "base", "mode": "AK", {keys}}}, {{"name": "job", {fields}}}]}}"#
        ));
        let r = run(command(&home, &standin).args(["-v", "t1"]), None);
        assert_eq!(r.code, 0, "{fields}: {}", r.stderr);
        assert_contains(
            &r.stderr,
            "sls-retry: credentials from aliyun CLI profile \"job\"",
        );
        signed_by_issued(&standin, &by);
    }
}

#[test]
fn the_official_credentials_file_in_each_type() {
    let home = Home::new();
    let token_file = token_file(&home);
    let sections = [
        format!(
            "type = ram_role_arn\naccess_key_id = {DEMO_KEY_ID}\naccess_key_secret = {DEMO_KEY_SECRET}\nrole_arn = {ROLE}\nrole_session_name = file\n"
        ),
        format!(
            "type = oidc_role_arn\nrole_arn = {ROLE}\noidc_provider_arn = {OIDC_PROVIDER}\noidc_token_file_path = {token_file}\n"
        ),
        format!("type = ecs_ram_role\nrole_name = {ECS_ROLE}\n"),
    ];
    for (section, by) in sections.iter().zip([
        ROLE.to_string(),
        ROLE.to_string(),
        format!("ecs:{ECS_ROLE}"),
    ]) {
        let standin = standin();
        home.write(
            ".alibabacloud/credentials.ini",
            &format!("[default]\n{section}"),
            0o600,
        );
        let r = run(command(&home, &standin).args(["-v", "t1"]), None);
        assert_eq!(r.code, 0, "{section}: {}", r.stderr);
        assert_contains(
            &r.stderr,
            "sls-retry: credentials from credentials file section [default] of ",
        );
        signed_by_issued(&standin, &by);
    }
}

/// Nothing else set up: the ECS instance's role, as every official SDK tries last.
#[test]
fn the_ecs_role_is_the_chain_s_last_link() {
    let (standin, home) = (standin(), Home::new());
    let r = run(command(&home, &standin).args(["-v", "t1"]), None);
    assert_retried(
        &r,
        "the ECS instance's RAM role (the one attached, metadata service ",
    );
    signed_by_issued(&standin, &format!("ecs:{ECS_ROLE}"));

    // Off ECS (nothing answers), the error names every source tried, this one last.
    let sent = standin.requests().len();
    let home = Home::new();
    let r = run(home.command().args(standin.demo_target()).arg("t1"), None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for source in [
        "no credentials found; tried the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID",
        "RRSA/OIDC from ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_CREDENTIALS_URI (not set)",
        "the aliyun CLI's current profile in ",
        "the credentials file ",
        "the ECS instance's RAM role (the one attached, metadata service http://127.0.0.1:1) (cannot reach",
    ] {
        assert_contains(&r.stderr, source);
    }
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_eq!(standin.requests().len(), sent, "nothing sent");
}

/// Each pair of neighbours in the chain: the earlier one wins while it is set up.
#[test]
fn the_chain_s_order_pair_by_pair() {
    let home = Home::new();
    let token_file = token_file(&home);
    let standin = standin();
    let env_ak = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_KEY_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_KEY_SECRET),
    ];
    let rrsa = [
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token_file.as_str()),
    ];
    let uri = standin.credentials_uri();
    let who = |setup: &dyn Fn(&mut std::process::Command)| -> String {
        let mut cmd = command(&home, &standin);
        setup(&mut cmd);
        let r = run(cmd.args(["-v", "t1"]), None);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let line = r
            .stderr
            .lines()
            .find(|l| l.starts_with("sls-retry: credentials from "))
            .unwrap();
        line.to_string()
    };
    // environment AccessKey > RRSA
    let line = who(&|c| {
        c.envs(env_ak).envs(rrsa);
    });
    assert_contains(&line, "environment (ALIBABA_CLOUD_ACCESS_KEY_ID");
    // RRSA > credentials URI
    let line = who(&|c| {
        c.envs(rrsa).env("ALIBABA_CLOUD_CREDENTIALS_URI", &uri);
    });
    assert_contains(&line, "ALIBABA_CLOUD_ROLE_ARN");
    // credentials URI > our [default]
    home.profile_file(&format!("[default]\nrole_arn = \"{ROLE}\"\nsource_profile = \"k\"\n[k]\naccess_key_id = \"{DEMO_KEY_ID}\"\naccess_key_secret = \"{DEMO_KEY_SECRET}\"\n"));
    let line = who(&|c| {
        c.env("ALIBABA_CLOUD_CREDENTIALS_URI", &uri);
    });
    assert_contains(&line, "ALIBABA_CLOUD_CREDENTIALS_URI");
    // our [default] > the aliyun CLI's current profile
    home.aliyun_config(&format!(r#"{{"current": "c", "profiles": [{{"name": "c", "mode": "CredentialsURI", "credentials_uri": "{uri}"}}]}}"#));
    let line = who(&|_| {});
    assert_contains(&line, "profile \"default\" in ");
    // the aliyun CLI's current profile > the credentials file
    std::fs::remove_file(home.path().join(".config/sls-retry/config.toml")).unwrap();
    home.write(
        ".alibabacloud/credentials",
        &format!("[default]\ntype = ecs_ram_role\nrole_name = {ECS_ROLE}\n"),
        0o600,
    );
    let line = who(&|_| {});
    assert_contains(&line, "aliyun CLI profile \"c\"");
    // ... unless the CLI's profiles are left out: then the credentials file
    let line = who(&|c| {
        c.env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    });
    assert_contains(&line, "credentials file section [default]");
    // the credentials file > the ECS role (already proven last above)
}

/// Temporary credentials within three minutes of expiring are refreshed during the run: every
/// batch is signed with working ones, and the new ones are used as soon as they are in.
#[test]
fn credentials_are_refreshed_during_a_long_run() {
    // Credentials of 182 s are due for refresh 2 s after they are issued.
    let standin = StandIn::builder()
        .role(ROLE, 182)
        .trust(ROLE, DEMO_KEY_ID)
        .delay(Duration::from_millis(150))
        .build();
    let home = Home::new();
    home.profile_file(&format!(
        "[default]\naccess_key_id = \"{DEMO_KEY_ID}\"\naccess_key_secret = \"{DEMO_KEY_SECRET}\"\n\
         role_arn = \"{ROLE}\"\n"
    ));
    let r = run(
        command(&home, &standin).args(["--batch-size", "1", "-v"]),
        Some(&ids(25).join("\n")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids().len(), 25, "none rejected");
    let used = signed_by_issued(&standin, ROLE);
    assert!(used.len() >= 2, "refreshed during the run: {used:?}");
    assert_contains(
        &r.stderr,
        "sls-retry: credentials refreshed from profile \"default\"",
    );
}

/// A source that is set up but fails stops the run (exit 2) with what the service said, before
/// anything is sent, and never falls back to another identity.
#[test]
fn a_failing_source_stops_the_run_with_what_the_service_said() {
    let home = Home::new();
    let token_file = token_file(&home);
    let standin = standin();
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/not-trusted"),
                ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token_file),
            ],
            "STS AssumeRoleWithOIDC of role acs:ram::1:role/not-trusted",
        ),
        (
            &[
                ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
                ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/nonexistent/token"),
            ],
            "cannot read the OIDC token file /nonexistent/token",
        ),
        (
            &[(
                "ALIBABA_CLOUD_CREDENTIALS_URI",
                "http://127.0.0.1:1/creds?token=S3cret",
            )],
            "cannot reach the credentials URI http://127.0.0.1:1/creds",
        ),
    ];
    for (env, message) in cases {
        let r = run(
            command(&home, &standin).envs(env.iter().copied()).arg("t1"),
            None,
        );
        assert_eq!(r.code, 2, "{message}: {}", r.stderr);
        assert_contains(&r.stderr, message);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(!r.stderr.contains("S3cret"), "{}", r.stderr);
    }
    let refused = run(
        command(&home, &standin)
            .env("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/not-trusted")
            .env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
            .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token_file)
            .arg("t1"),
        None,
    );
    assert_contains(&refused.stderr, "(request id ");
    assert!(
        standin.requests().iter().all(|q| q.method != "PUT"),
        "nothing sent"
    );
    assert!(standin.issued().is_empty(), "no other identity was tried");
}
