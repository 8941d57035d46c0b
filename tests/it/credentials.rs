//! Credentials and settings from every place an SLS operator keeps them, end to end: the real
//! binary, a temporary HOME, a cleared environment, and the stand-in checking the signature, the
//! STS token and (for v4) the region it was signed for.

use std::path::Path;
use std::process::Stdio;

use standin::StandIn;

use crate::harness::{
    Background, Home, Run, assert_contains, assert_ends_with, assert_starts_with, ended, patiently,
    run, set_mode, target_toml,
};

const SECRET: &str = "secret-value-never-printed";
const TOKEN: &str = "sts-token-never-printed";

/// A stand-in that knows one static account (`static-id`) and one STS account (`STS.id`).
fn standin() -> StandIn {
    StandIn::builder()
        .account("static-id", SECRET)
        .sts_account("STS.id", SECRET, TOKEN)
        .build()
}

/// The STS account's credentials as a credentials command prints them.
fn sts_json() -> String {
    format!(
        r#"{{"mode": "StsToken", "access_key_id": "STS.id", "access_key_secret": "{SECRET}", "sts_token": "{TOKEN}"}}"#
    )
}

/// Profile `name` with the static account's keys and the demo target of `standin`.
fn static_profile(name: &str, standin: &StandIn) -> String {
    format!(
        "[{name}]\naccess_key_id = \"static-id\"\naccess_key_secret = \"{SECRET}\"\n{}",
        target_toml(standin)
    )
}

/// The stand-in, and a home whose profile file holds `static_profile(name)`.
fn with_static_profile(name: &str) -> (StandIn, Home) {
    let (standin, home) = (standin(), Home::new());
    home.profile_file(&static_profile(name, &standin));
    (standin, home)
}

/// `-v` said that each of `settings` came from profile `profile` of `file`.
fn assert_from_profile(r: &Run, settings: &[&str], profile: &str, file: &Path) {
    let from = format!("from profile \"{profile}\" ({})", file.display());
    for setting in settings {
        assert_contains(&r.stderr, &format!("sls-retry: {setting} {from}"));
    }
}

/// The last request the stand-in accepted carried this key id and (or no) token.
fn assert_signed_by(standin: &StandIn, key_id: &str, token: Option<&str>) {
    let req = standin
        .requests()
        .into_iter()
        .rfind(|r| r.status == 200)
        .expect("an accepted request");
    let auth = req.header("authorization").unwrap();
    assert!(
        auth.contains(&format!("{key_id}:")) || auth.contains(&format!("Credential={key_id}/")),
        "{auth}"
    );
    assert_eq!(req.header("x-acs-security-token"), token);
}

#[test]
fn a_cron_line_with_only_a_profile_name() {
    let (standin, home) = with_static_profile("prod");
    let r = run(
        home.command().args(["--profile", "prod", "-v", "t1", "t2"]),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["t1", "t2"]);
    assert_signed_by(&standin, "static-id", None);
    let config = home.path().join(".config/sls-retry/config.toml");
    let target = ["project", "logstore", "shipper", "endpoint"];
    assert_from_profile(&r, &target, "prod", &config);
    assert_contains(
        &r.stderr,
        &format!(
            "sls-retry: credentials from profile \"prod\" in {}",
            config.display()
        ),
    );
    r.assert_hides(SECRET, "-v with a profile");

    // $SLS_RETRY_PROFILE does the same.
    let r = run(
        home.command().env("SLS_RETRY_PROFILE", "prod").arg("t3"),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["t1", "t2", "t3"]);
}

#[test]
fn the_default_profile_and_the_environment_in_their_order() {
    let (standin, home) = with_static_profile("default");
    // The environment beats the default profile ...
    let r = run(
        home.command()
            .env("ALICLOUD_ACCESS_KEY_ID", "STS.id")
            .env("ALICLOUD_ACCESS_KEY_SECRET", SECRET)
            .env("ALICLOUD_SECURITY_TOKEN", TOKEN)
            .args(["-v", "a"]),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_signed_by(&standin, "STS.id", Some(TOKEN));
    assert_contains(
        &r.stderr,
        "credentials from environment (ALICLOUD_ACCESS_KEY_ID, ALICLOUD_ACCESS_KEY_SECRET, ALICLOUD_SECURITY_TOKEN)",
    );
    r.assert_hides(SECRET, "env");
    r.assert_hides(TOKEN, "env");

    // ... and without it the default profile signs.
    let r = run(home.command().arg("b"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_signed_by(&standin, "static-id", None);
}

#[test]
fn the_aliyun_cli_config_in_each_mode() {
    let standin = standin();
    let home = Home::new();
    let external = home.script("print-creds", &format!("echo '{}'", sts_json()));
    home.aliyun_config(&format!(
        r#"{{"current": "ak", "profiles": [
            {{"name": "ak", "mode": "AK", "access_key_id": "static-id", "access_key_secret": "{SECRET}", "region_id": "cn-hangzhou"}},
            {{"name": "sts", "mode": "StsToken", "access_key_id": "STS.id", "access_key_secret": "{SECRET}", "sts_token": "{TOKEN}", "region_id": "cn-hangzhou"}},
            {{"name": "ext", "mode": "External", "process_command": "{} --json", "region_id": "cn-hangzhou"}}
        ]}}"#,
        external.display()
    ));
    let target = standin.demo_target();

    // A user who ran `aliyun configure` needs nothing else.
    let r = run(home.command().args(&target).args(["-v", "a"]), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_signed_by(&standin, "static-id", None);
    assert_contains(&r.stderr, "credentials from aliyun CLI profile \"ak\"");
    r.assert_hides(SECRET, "aliyun AK");

    for (profile, key_id) in [("sts", "STS.id"), ("ext", "STS.id")] {
        let r = run(
            home.command()
                .args(&target)
                .args(["--profile", profile, "-vv", "x"]),
            None,
        );
        assert_eq!(r.code, 0, "{profile}: {}", r.stderr);
        assert_signed_by(&standin, key_id, Some(TOKEN));
        r.assert_hides(SECRET, profile);
        r.assert_hides(TOKEN, profile);
    }
}

#[test]
fn ecs_ram_role_credentials_from_the_metadata_service() {
    let standin = StandIn::builder()
        .ecs_role("sls-retry-role", "STS.ecs", SECRET, TOKEN)
        .ecs_require_token(true) // an IMDSv2-only instance
        .build();
    let home = Home::new();
    home.aliyun_config(r#"{"current": "ecs", "profiles": [{"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "", "region_id": "cn-hangzhou"}]}"#);
    let r = run(
        home.command()
            .env("SLS_RETRY_ECS_METADATA_URL", standin.endpoint())
            .args(standin.demo_target())
            .args(["-vv", "a", "b"]),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_signed_by(&standin, "STS.ecs", Some(TOKEN));
    let paths: Vec<String> = standin
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths[..3],
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/ram/security-credentials/",
            "GET /latest/meta-data/ram/security-credentials/sls-retry-role"
        ],
        "role looked up, then its credentials, with an IMDSv2 token"
    );
    assert_contains(&r.stderr, "credentials from aliyun CLI profile \"ecs\"");
    r.assert_hides(SECRET, "EcsRamRole");
    r.assert_hides(TOKEN, "EcsRamRole");
}

#[test]
fn credentials_command_keeps_the_secret_off_disk() {
    let standin = standin();
    let home = Home::new();
    let script = home.script(
        "creds.sh",
        &format!("cat >/dev/null; printf '{}'", sts_json()),
    );
    home.profile_file(&format!(
        "[default]\ncredentials_command = \"{}\"\n{}",
        script.display(),
        target_toml(&standin)
    ));
    // The IDs come on stdin; the command must not swallow them (its stdin is closed).
    let r = run(home.command().args(["--dry-run"]), Some("id-1\nid-2\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_contains(&r.stdout, "x-acs-security-token: <redacted>");
    r.assert_hides(SECRET, "dry run");
    r.assert_hides(TOKEN, "dry run");
    let r = run(&mut home.command(), Some("id-1\nid-2\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.accepted_ids(), ["id-1", "id-2"]);
    assert_signed_by(&standin, "STS.id", Some(TOKEN));
}

#[test]
fn signature_v4_end_to_end() {
    let standin = StandIn::builder()
        .region("cn-hangzhou")
        .account("static-id", SECRET)
        .build();
    let env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "static-id"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
    ];
    let home = Home::new();
    let signed_for = |region: &str, args: &[&str]| {
        let mut cmd = home.command();
        cmd.envs(env).args(standin.demo_target());
        run(
            cmd.args(["--signature-version", "4", "--region", region])
                .args(args),
            None,
        )
    };
    let r = signed_for("cn-hangzhou", &["-v", "a"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let req = standin.requests().pop().unwrap();
    assert_eq!((req.status, req.signature_version), (200, 4));
    assert!(
        req.header("authorization")
            .unwrap()
            .starts_with("SLS4-HMAC-SHA256 Credential=static-id/")
    );
    assert_eq!(req.header("x-log-signaturemethod"), None);
    assert_contains(&r.stderr, "signature v4 (cn-hangzhou)");

    // Signed for the wrong region: the stand-in refuses, so the test above can fail.
    let r = signed_for("cn-beijing", &["a"]);
    assert_eq!(r.code, 1);
    assert_contains(&r.stdout, "FAILED  401");

    // From a profile, with an STS token.
    let standin = StandIn::builder()
        .region("cn-shanghai")
        .sts_account("STS.id", SECRET, TOKEN)
        .build();
    home.profile_file(&format!(
        "[v4]\nsignature_version = 4\nregion = \"cn-shanghai\"\naccess_key_id = \"STS.id\"\naccess_key_secret = \"{SECRET}\"\nsecurity_token = \"{TOKEN}\"\n{}",
        target_toml(&standin)
    ));
    let r = run(home.command().args(["--profile", "v4", "-vv", "a"]), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let req = standin.requests().pop().unwrap();
    assert_eq!((req.status, req.signature_version), (200, 4));
    assert_eq!(req.header("x-acs-security-token"), Some(TOKEN));
    r.assert_hides(SECRET, "v4 -vv");
    r.assert_hides(TOKEN, "v4 -vv");
}

#[test]
fn configuration_errors_exit_2_and_name_the_fix() {
    let home = Home::new();
    let check = |r: Run, message: &str| {
        r.assert_usage_error(message);
        r.assert_hides(SECRET, message);
    };
    let target = ["-e", "h.example", "-p", "p-1", "-l", "l", "-s", "s", "id"];

    check(
        run(home.command().args(target), None),
        "no credentials found; tried the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    );
    check(
        run(
            home.command().args(target).args(["--profile", "nope"]),
            None,
        ),
        "profile \"nope\" (from --profile) not found",
    );
    check(
        run(
            home.command()
                .args(target)
                .args(["--config", "/nonexistent/x.toml"]),
            None,
        ),
        "cannot read profile file /nonexistent/x.toml",
    );

    home.profile_file(&format!(
        "[default]\naccess_key_secret = \"{SECRET}\"\nendpoint = https://x\n"
    ));
    check(run(home.command().args(target), None), "line 3, column 12");

    home.profile_file(&format!("[default]\naccess_key_secret = \"{SECRET}\"\n"));
    check(
        run(
            home.command()
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "id-from-env")
                .args(target),
            None,
        ),
        "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not",
    );
    check(
        run(home.command().args(target), None),
        "access_key_id and access_key_secret must both be set",
    );
    let file = home.profile_file("[default]\ncredentials_command = \"exit 7\"\n");
    check(
        run(home.command().args(target), None),
        &format!(
            "profile \"default\" in {}, key credentials_command: the command failed (exit \
             status: 7)",
            file.display()
        ),
    );
}

#[cfg(unix)]
#[test]
fn warnings_for_a_world_readable_secret_and_plain_http() {
    let home = Home::new();
    let file = home.profile_file(&format!(
        "[default]\naccess_key_id = \"k\"\naccess_key_secret = \"{SECRET}\"\n"
    ));
    set_mode(&file, 0o644);
    let mut cmd = home.command();
    cmd.args([
        "-e",
        "http://sls.example.com",
        "-p",
        "p-1",
        "-l",
        "l",
        "-s",
        "s",
    ]);
    let r = run(cmd.args(["--dry-run", "id"]), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_contains(
        &r.stderr,
        &format!(
            "sls-retry: warning: profile file {} holds secrets and is readable by others (mode 644); run: chmod 600",
            file.display()
        ),
    );
    assert_contains(
        &r.stderr,
        "sls-retry: warning: sending signed requests over plain http to http://sls.example.com",
    );
    r.assert_hides(SECRET, "warnings");
}

/// Profile numbers have their flags' bounds; a value out of them, or not a whole number, is a
/// configuration error naming the file, the profile and the key, and nothing is sent.
#[test]
fn profile_numbers_out_of_bounds_or_of_the_wrong_type_are_exit_2() {
    let standin = standin();
    let home = Home::new();
    for (key, value) in [
        ("timeout", "9223372036854775807"),
        ("timeout", "4000"),
        ("timeout", "0"),
        ("timeout", "\"30\""),
        ("timeout", "1.5"),
        ("timeout", "-1"),
        ("retries", "21"),
        ("retries", "-1"),
        ("retries", "true"),
        ("jobs", "0"),
        ("jobs", "33"),
        ("jobs", "[1]"),
        ("batch_size", "11"),
        ("batch_size", "99999999999999999999"),
        ("batch_size", "1979-05-27"),
    ] {
        let profile = static_profile("prod", &standin);
        let file = home.profile_file(&format!("{profile}{key} = {value}\n"));
        let r = run(home.command().args(["--profile", "prod", "a"]), None);
        let what = format!("{key} = {value}");
        r.assert_usage_error(&format!("invalid profile file {}", file.display()));
        r.assert_usage_error(&format!("profile \"prod\", key {key}"));
        r.assert_hides(SECRET, &what);
    }
    assert!(standin.requests().is_empty(), "nothing was sent");
}

/// `jobs` and `batch_size` in a profile are the defaults of their flags, as `timeout` and
/// `retries` are: flag > profile > built-in default, and -v says where each came from.
#[test]
fn profile_numbers_are_the_flags_defaults() {
    let standin = standin();
    let home = Home::new();
    let file = home.profile_file(&format!(
        "{}timeout = 20\nretries = 2\njobs = 2\nbatch_size = 3\n",
        static_profile("prod", &standin)
    ));
    let ids: Vec<String> = (1..=7).map(|i| format!("t-{i}")).collect();
    let r = run(
        home.command().args(["--profile", "prod", "-v"]),
        Some(&ids.join("\n")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Two jobs: the batches may arrive in either order.
    let mut sizes: Vec<usize> = standin.accepted().iter().map(Vec::len).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 3, 3], "batch_size from the profile");
    let numbers = ["timeout", "retries", "jobs", "batch size"];
    assert_from_profile(&r, &numbers, "prod", &file);

    // A flag wins over the profile.
    let r = run(
        home.command().args([
            "--profile",
            "prod",
            "-v",
            "--batch-size",
            "5",
            "--jobs",
            "1",
        ]),
        Some(&ids.join("\n")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sizes: Vec<usize> = standin.accepted().iter().map(Vec::len).collect();
    assert_eq!(sizes[3..], [5, 2], "--batch-size beats the profile");
    assert_contains(&r.stderr, "sls-retry: batch size from flag");
    assert_contains(&r.stderr, "sls-retry: jobs from flag");
}

/// A credentials command may carry a secret in its own text (`printf '{...secret...}'`): errors
/// name the profile and the key that holds the command, never the command or its output.
#[test]
fn credentials_command_errors_name_the_profile_and_key_never_the_command() {
    let home = Home::new();
    let target = ["-e", "h.example", "-p", "p-1", "-l", "l", "-s", "s", "id"];
    let file = home.profile_file(
        "[default]\ncredentials_command = \"\"\"printf '{\"mode\":\"AK\",\"access_key_id\":\"k\",\"access_key_secret\":\"S3cret\"}'; exit 3\"\"\"\n",
    );
    let r = run(home.command().args(target), None);
    r.assert_usage_error(&format!(
        "profile \"default\" in {}, key credentials_command: the command failed (exit status: 3)",
        file.display()
    ));
    r.assert_hides("S3cret", "a failing command");

    // The same for the aliyun CLI's External mode, whose command is split into arguments.
    let script = home.script("creds", "exit 3");
    let config = home.aliyun_config(&format!(
        r#"{{"current": "ext", "profiles": [{{"name": "ext", "mode": "External", "process_command": "{} --secret S3cret"}}]}}"#,
        script.display()
    ));
    let r = run(home.command().args(target).args(["--profile", "ext"]), None);
    r.assert_usage_error(&format!(
        "aliyun CLI profile \"ext\" in {} (mode External), key process_command: the command \
         failed (exit status: 3)",
        config.display()
    ));
    r.assert_hides("S3cret", "process_command");
    let r = run(
        home.command()
            .args(target)
            .args(["--profile", "ext"])
            .env("ALIBABA_CLOUD_CONFIG_FILE", "/nonexistent"),
        None,
    );
    r.assert_hides("S3cret", "process_command again");

    // A program that does not exist (the shell says so on stderr, the command's own).
    home.profile_file("[default]\ncredentials_command = \"/nonexistent/helper\"\n");
    let r = run(home.command().args(target), None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_ends_with(
        &r.stderr,
        "key credentials_command: the command failed (exit status: 127)\n",
    );
}

/// Credentials are a few hundred bytes; a command printing more than 1 MiB is an error, and one
/// that never stops printing is stopped.
#[test]
fn credentials_command_output_over_1_mib_is_an_error() {
    let home = Home::new();
    let target = ["-e", "h.example", "-p", "p-1", "-l", "l", "-s", "s", "id"];
    for command in ["head -c 1048577 /dev/zero", "yes S3cret"] {
        home.profile_file(&format!("[default]\ncredentials_command = \"{command}\"\n"));
        let r = run(home.command().args(target), None);
        r.assert_usage_error("key credentials_command: the command printed more than 1 MiB");
        r.assert_hides("S3cret", command);
    }
    // Exactly 1 MiB is read (and then refused as not JSON).
    home.profile_file("[default]\ncredentials_command = \"head -c 1048576 /dev/zero\"\n");
    let r = run(home.command().args(target), None);
    r.assert_usage_error("its output is not the expected JSON");
}

/// The pid a command wrote into `path`, once it is there.
#[cfg(unix)]
fn wait_for_pid(path: &std::path::Path) -> u32 {
    let mut pid = None;
    let written = patiently(|| {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        pid.is_some()
    });
    assert!(written, "{} was never written", path.display());
    pid.unwrap()
}

/// SIGTERM while the credentials command runs: the command and everything it started are
/// killed, and the run ends with 143 and one line saying nothing was sent.
#[cfg(unix)]
#[test]
fn sigterm_while_the_credentials_command_runs_kills_its_group_and_exits_143() {
    let standin = standin();
    let home = Home::new();
    let dir = home.path().display().to_string();
    let script = home.script(
        "slow-creds",
        &format!("sleep 300 &\necho $! > {dir}/bg.pid\necho $$ > {dir}/sh.pid\nsleep 300"),
    );
    home.profile_file(&format!(
        "[default]\ncredentials_command = \"{}\"\n{}",
        script.display(),
        target_toml(&standin)
    ));
    let mut run = Background::spawn(home.command().arg("id"), Stdio::null());
    let background = wait_for_pid(&home.path().join("bg.pid"));
    let shell = wait_for_pid(&home.path().join("sh.pid"));
    run.signal("-TERM");
    if !run.ends() {
        // A run that ignores the signal would wait 60 s; leave nothing behind.
        let pids = [background.to_string(), shell.to_string()];
        let _ = std::process::Command::new("kill")
            .arg("-KILL")
            .args(pids)
            .status();
    }
    let r = run.finish();
    assert_eq!(r.code, 143, "{}", r.stderr);
    assert_starts_with(&r.stderr, "sls-retry: error: ");
    assert_contains(
        &r.stderr,
        "key credentials_command: interrupted by SIGTERM while the command ran; nothing was sent",
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(ended(shell), "the command's shell is gone");
    assert!(
        ended(background),
        "what the command started in the background is gone"
    );
    assert!(standin.requests().is_empty(), "nothing was sent");
}
