//! Every setting but the credentials: precedence, the endpoint and signature, the files, the
//! warnings, the names.

use super::*;

#[test]
fn non_secret_settings_flag_then_env_then_profile() {
    let w = World::new()
        .profile_file(OURS)
        .env("ALIBABA_CLOUD_REGION_ID", "cn-chengdu");
    let c = w.resolve(&[]).unwrap();
    assert_eq!(
        c.target.project.as_str(),
        "default-proj",
        "profile supplies the target"
    );
    assert_eq!(
        c.endpoint.to_string(),
        "https://cn-chengdu.log.aliyuncs.com",
        "env region beats profile region"
    );
    assert!(source(&c, "endpoint").contains("ALIBABA_CLOUD_REGION_ID"));

    let c = w
        .resolve(&["--region", "cn-wulanchabu", "-p", "flag-proj"])
        .unwrap();
    assert_eq!(
        c.endpoint.to_string(),
        "https://cn-wulanchabu.log.aliyuncs.com"
    );
    assert_eq!(c.target.project.as_str(), "flag-proj");
    assert_eq!(source(&c, "project"), "flag");

    let c = w
        .resolve(&["--region", "cn-wulanchabu", "--intranet"])
        .unwrap();
    assert_eq!(
        c.endpoint.to_string(),
        "https://cn-wulanchabu-intranet.log.aliyuncs.com"
    );

    let w = World::new().profile_file("[default]\nregion = \"cn-hangzhou\"\nintranet = true\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\n");
    let c = w.resolve(&TARGET[..6]).unwrap();
    assert_eq!(
        c.endpoint.to_string(),
        "https://cn-hangzhou-intranet.log.aliyuncs.com"
    );

    let w = World::with_keys();
    assert!(w.error(&TARGET[..6]).contains("no endpoint given"));
    assert!(
        w.error(&[&TARGET[..6], &["--intranet"]].concat())
            .contains("--intranet needs a region")
    );
    assert!(
        w.error(&[&TARGET[..6], &["--region", "CN_bad"]].concat())
            .contains("invalid region")
    );
}

#[test]
fn signature_v4_region_from_flag_profile_or_endpoint_and_automatic_for_acdr_ut() {
    let w = World::with_keys();
    let signed = |extra: &[&str]| {
        let args = [&TARGET[..6], extra].concat();
        w.resolve(&args).map(|c| c.signature)
    };
    let v4 = |region: &str| SignatureVersion::V4 {
        region: Region::parse(region).unwrap(),
    };
    assert_eq!(signed(&TARGET[6..]).unwrap(), SignatureVersion::V1);
    let cases: [(&[&str], SignatureVersion); 4] = [
        (
            &[
                "-e",
                "cn-hangzhou.log.aliyuncs.com",
                "--signature-version",
                "4",
            ],
            v4("cn-hangzhou"),
        ),
        (
            &[
                "-e",
                "http://127.0.0.1:1",
                "--region",
                "cn-beijing",
                "--signature-version",
                "4",
            ],
            v4("cn-beijing"),
        ),
        (
            &["--region", "cn-shanghai-acdr-ut-1"],
            v4("cn-shanghai-acdr-ut-1"),
        ),
        // An explicit choice wins.
        (
            &[
                "--region",
                "cn-shanghai-acdr-ut-1",
                "--signature-version",
                "1",
            ],
            SignatureVersion::V1,
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(signed(extra).unwrap(), want, "{extra:?}");
    }
    let err = format!(
        "{:#}",
        signed(&["-e", "http://127.0.0.1:1", "--signature-version", "4"]).unwrap_err()
    );
    assert!(err.contains("signature v4 needs a region"), "{err}");

    let w = World::new().profile_file("[default]\nsignature_version = 4\nregion = \"cn-hangzhou\"\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\n");
    assert_eq!(
        w.resolve(&TARGET[..6]).unwrap().signature,
        v4("cn-hangzhou")
    );
}

#[test]
fn profile_file_locations() {
    let w = World::with_keys();
    let missing = w.dir.path().join("nope.toml");
    let missing = missing.to_str().unwrap();
    assert!(
        w.error(&[&TARGET[..], &["--config", missing]].concat())
            .contains("cannot read profile file")
    );
    let w = w.env(ENV_CONFIG, missing);
    assert!(w.error(&TARGET).contains("cannot read profile file"));

    let elsewhere = w.dir.path().join("other.toml");
    std::fs::write(&elsewhere, "[default]\nproject = \"from-other\"\n").unwrap();
    let c = w
        .resolve(&[
            "--config",
            elsewhere.to_str().unwrap(),
            "-l",
            "l",
            "-s",
            "s",
            "-e",
            "h.example",
        ])
        .unwrap();
    assert_eq!(c.target.project.as_str(), "from-other");

    let broken = World::new().profile_file("[default]\nregion = \"x\"\nbogus = 1\n");
    let err = broken.error(&TARGET);
    assert!(
        err.contains("invalid profile file")
            && err.contains(
                "profile \"default\", key bogus (line 3, column 1): unknown field `bogus`"
            ),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn warnings_for_a_readable_secret_file_and_plain_http() {
    let w = World::new().profile_file(OURS);
    set_mode(&w.paths().profile_file.unwrap(), 0o644);
    let warned = |args: &[&str], what: &str| {
        let c = w.resolve(args).unwrap();
        assert!(
            c.warnings.iter().any(|m| m.contains(what)),
            "{what}: {:?}",
            c.warnings
        );
    };
    warned(&TARGET, "readable by others (mode 644); run: chmod 600");
    set_mode(&w.paths().profile_file.unwrap(), 0o600);
    warned(
        &["-e", "http://sls.example.com"],
        "plain http to http://sls.example.com",
    );
    let c = w.resolve(&["-e", "http://127.0.0.1:9"]).unwrap();
    assert!(
        c.warnings.is_empty(),
        "loopback http is fine: {:?}",
        c.warnings
    );
}

#[test]
fn names_that_would_break_the_host_or_path_are_refused() {
    let w = World::with_keys();
    let mut args = TARGET.to_vec();
    args[1] = "Bad_Project";
    assert!(w.error(&args).contains("invalid project name"));
    let mut args = TARGET.to_vec();
    args[3] = "a/b?c";
    assert!(w.error(&args).contains("invalid logstore name"));
    let mut args = TARGET.to_vec();
    args[5] = "..";
    assert!(w.error(&args).contains("invalid shipper name"));
    assert!(
        w.error(&TARGET[2..])
            .contains("no project given; pass -p/--project NAME or set project in a profile")
    );
    // Profile values meet the same rule.
    let w = w.profile_file("[default]\nlogstore = \"a b\"\n");
    assert!(
        w.error(&["-p", "p", "-s", "s", "-e", "h.example"])
            .contains("invalid logstore name")
    );
}

/// Only what could not be sent is refused; the service applies its own naming rules.
#[test]
fn names_the_service_may_judge_are_accepted() {
    let w = World::with_keys();
    for (project, logstore, shipper) in [
        ("p", "l", "s"),
        ("P", "L", "S"),
        ("My-Project-1", "logs.v2_x", "oss~shipper"),
        (&*"p".repeat(63), "日志", "a:b@c+d=e!$&'()*,;"),
    ] {
        let c = w
            .resolve(&[
                "-p",
                project,
                "-l",
                logstore,
                "-s",
                shipper,
                "-e",
                "h.example",
            ])
            .unwrap();
        assert_eq!(
            (
                c.target.project.as_str(),
                c.target.shipper().unwrap().to_string()
            ),
            (project, format!("{logstore}/{shipper}"))
        );
    }
}

/// A CA certificate as PEM, for a CA file that parses.
fn some_ca_pem() -> String {
    use base64::Engine as _;
    let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].as_ref();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = (b64.as_bytes().chunks(64))
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[test]
fn ca_file_from_flag_else_profile_relative_to_its_file() {
    let world = World::with_keys()
        .profile_file("[prod]\nca_file = \"certs/corp-ca.pem\"\n")
        .file(".config/sls-retry/certs/corp-ca.pem", &some_ca_pem());
    let c = world
        .resolve(&[&TARGET[..], &["--profile", "prod"]].concat())
        .unwrap();
    assert!(source(&c, "ca file").starts_with("profile \"prod\""));

    // The flag wins, and a file that cannot be read is an error naming it and who named it.
    let missing = world.dir.path().join("missing.pem");
    let args = [&TARGET[..], &["--profile", "prod", "--ca-file"]].concat();
    let err = world.error(&[&args[..], &[missing.to_str().unwrap()]].concat());
    assert!(err.starts_with("cannot read the CA file "), "{err}");
    assert!(err.contains("missing.pem (--ca-file)"), "{err}");

    let world = World::with_keys().profile_file("[prod]\nca_file = \"nowhere.pem\"\n");
    let err = world.error(&[&TARGET[..], &["--profile", "prod"]].concat());
    let expected = world.dir.path().join(".config/sls-retry/nowhere.pem");
    assert!(
        err.contains(&format!(
            "{} (ca_file of profile \"prod\"",
            expected.display()
        )),
        "{err}"
    );
}

#[test]
fn a_proxy_setting_that_cannot_be_used_stops_before_anything() {
    for (var, value, says) in [
        (
            "HTTPS_PROXY",
            "socks4://p:1080",
            "HTTPS_PROXY cannot be used: the scheme socks4://",
        ),
        (
            "all_proxy",
            "http://p:port",
            "all_proxy cannot be used: its host and port",
        ),
        (
            "NO_PROXY",
            "10.0.0.0/40",
            "NO_PROXY cannot be used: NO_PROXY entry \"10.0.0.0/40\"",
        ),
    ] {
        let err = World::with_keys().env(var, value).error(&TARGET);
        assert!(err.starts_with(says), "{err}");
    }
    // A proxy for plain http does not stand in the way of an https endpoint, nor the reverse.
    let c = World::with_keys()
        .env("HTTP_PROXY", "http://p:3128")
        .resolve(&TARGET);
    assert!(c.is_ok());
}
