//! The credential chain: which source wins, and what is said when none has credentials.

use super::*;

#[test]
fn environment_credentials_in_every_spelling() {
    for prefix in ["ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_"] {
        let w = World::new()
            .env(&format!("{prefix}ACCESS_KEY_ID"), "ENV-ID")
            .env(&format!("{prefix}ACCESS_KEY_SECRET"), "env-secret")
            .env(&format!("{prefix}SECURITY_TOKEN"), "env-token");
        let c = w.resolve(&TARGET).unwrap();
        assert_eq!(key_id(&c), "ENV-ID");
        assert_eq!(
            c.credentials
                .current_credentials()
                .security_token
                .as_ref()
                .unwrap()
                .expose(),
            "env-token"
        );
        assert!(source(&c, "credentials").contains(&format!("{prefix}ACCESS_KEY_ID")));
    }
}

#[test]
fn precedence_without_a_named_profile_env_then_default_then_aliyun_cli() {
    let all = || {
        World::new()
            .profile_file(OURS)
            .aliyun(ALIYUN)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV-ID")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
    };
    assert_eq!(key_id(&all().resolve(&TARGET).unwrap()), "ENV-ID");

    let no_env = World::new().profile_file(OURS).aliyun(ALIYUN);
    let c = no_env.resolve(&TARGET).unwrap();
    assert_eq!(key_id(&c), "DEFAULT-ID");
    assert!(source(&c, "credentials").starts_with("profile \"default\" in "));

    let only_cli = World::new().aliyun(ALIYUN);
    let c = only_cli.resolve(&TARGET).unwrap();
    assert_eq!(key_id(&c), "CLI-ID");
    assert!(source(&c, "credentials").contains("aliyun CLI profile \"cli-current\""));
}

#[test]
fn a_named_profile_wins_over_the_environment() {
    let w = World::new()
        .profile_file(OURS)
        .aliyun(ALIYUN)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV-ID")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret");
    let c = w.resolve(&["--profile", "prod"]).unwrap();
    assert_eq!(key_id(&c), "PROD-ID");
    assert_eq!(
        c.credentials
            .current_credentials()
            .security_token
            .as_ref()
            .unwrap()
            .expose(),
        "prod-token"
    );
    assert_eq!(
        (
            c.target.project.as_str(),
            c.target.shipper().unwrap().logstore.as_str(),
            c.target.shipper().unwrap().name.as_str()
        ),
        ("prod-proj", "prod-store", "prod-ship")
    );
    assert_eq!(
        c.endpoint.to_string(),
        "https://cn-beijing.log.aliyuncs.com"
    );
    assert_eq!(c.timeout, Duration::from_secs(7));
    assert!(source(&c, "project").starts_with("profile \"prod\""));

    let w = w.env(ENV_PROFILE, "prod");
    assert_eq!(
        key_id(&w.resolve(&[]).unwrap()),
        "PROD-ID",
        "SLS_RETRY_PROFILE selects too"
    );
    // A flag beats the variable.
    let c = w
        .resolve(&["--profile", "default", "-e", "h.example"])
        .unwrap();
    assert_eq!(key_id(&c), "DEFAULT-ID");
}

#[test]
fn a_named_profile_is_looked_up_in_the_aliyun_cli_config_next() {
    let w = World::new().profile_file(OURS).aliyun(ALIYUN);
    let c = w
        .resolve(&[&TARGET[..6], &["--profile", "cli-sts"]].concat())
        .unwrap();
    assert_eq!(key_id(&c), "STS.CLI");
    assert_eq!(
        c.credentials
            .current_credentials()
            .security_token
            .as_ref()
            .unwrap()
            .expose(),
        "t"
    );
    assert_eq!(
        c.endpoint.to_string(),
        "https://cn-hongkong.log.aliyuncs.com",
        "region_id gives the endpoint"
    );

    let c = w
        .resolve(&[&TARGET[..], &["--profile", "cli-ext"]].concat())
        .unwrap();
    assert_eq!(key_id(&c), "EXT-ID", "External mode runs process_command");
    assert_eq!(
        c.credentials
            .current_credentials()
            .access_key_secret
            .expose(),
        "ext-secret"
    );

    let err = w.error(&[&TARGET[..], &["--profile", "cli-ram"]].concat());
    assert!(
        err.ends_with("(mode RamRoleArn): the role ARN is empty"),
        "{err}"
    );
    for (profile, says) in [
        (
            "cli-sso",
            "(mode CloudSSO): this mode needs a browser sign-in",
        ),
        ("cli-rsa", "mode \"RsaKeyPair\" is not supported"),
        ("nope", "profile \"nope\" (from --profile) not found in"),
        (
            "nope",
            "profiles in the profile file: default, prod, targets-only",
        ),
    ] {
        let err = w.error(&[&TARGET[..], &["--profile", profile]].concat());
        assert!(err.contains(says), "{profile}: {err}");
    }
}

#[test]
fn a_named_profile_without_credentials_takes_them_from_the_environment() {
    let w = World::new()
        .profile_file(OURS)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV-ID")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret");
    let c = w.resolve(&["--profile", "targets-only"]).unwrap();
    assert_eq!(key_id(&c), "ENV-ID");
    assert_eq!(c.target.project.as_str(), "t-proj");
    assert_eq!(
        c.endpoint.to_string(),
        "https://cn-qingdao.log.aliyuncs.com"
    );
}

#[test]
fn no_credentials_lists_every_source_tried() {
    let w = World::new();
    let err = w.error(&TARGET);
    assert!(err.starts_with("no credentials found; tried the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"), "{err}");
    assert!(
        err.contains("profile \"default\" in ") && err.contains("config.toml (no such file)"),
        "{err}"
    );
    assert!(
        err.contains("the aliyun CLI's current profile in ")
            && err.contains("config.json (no such file)"),
        "{err}"
    );
    assert!(err.contains("run `aliyun configure`"), "{err}");
    for source in [
        "RRSA/OIDC from ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        "ALIBABA_CLOUD_CREDENTIALS_URI (not set)",
        "the credentials file ",
        ".alibabacloud/credentials.ini or ",
        "the ECS instance's RAM role (ALIBABA_CLOUD_ECS_METADATA_DISABLED is set)",
    ] {
        assert!(err.contains(source), "{source} in {err}");
    }
    assert!(!err.contains('\n'), "one line: {err}");
}

/// A source that is there but has nothing to use is named with why, and the chain goes on.
#[test]
fn sources_found_without_credentials_say_why() {
    let w = World::new()
        .profile_file("[default]\nregion = \"cn-hangzhou\"\n")
        .file(".alibabacloud/credentials", "[other]\ntype = access_key\n");
    let err = w.error(&TARGET);
    assert!(
        err.contains("profile \"default\" in ") && err.contains("(it has no credentials)"),
        "{err}"
    );
    assert!(
        err.contains(".alibabacloud/credentials (no [default] section)"),
        "{err}"
    );

    // The section the libraries' ALIBABA_CLOUD_PROFILE names is the one read.
    let w = w
        .file(
            ".alibabacloud/credentials",
            "[ops]\ntype = access_key\naccess_key_id = FILE-ID\naccess_key_secret = file-secret\n",
        )
        .env("ALIBABA_CLOUD_PROFILE", "ops");
    let c = w.resolve(&TARGET).unwrap();
    assert_eq!(key_id(&c), "FILE-ID");
    assert!(
        source(&c, "credentials").starts_with("credentials file section [ops] of "),
        "{}",
        source(&c, "credentials")
    );

    let w = World::new().file(
        ".alibabacloud/credentials.ini",
        "[default]\ntype = bearer\n",
    );
    let err = w.error(&TARGET);
    assert!(
        err.contains("type \"bearer\" is not one sls-retry reads"),
        "{err}"
    );
}

/// One source per profile; a role needs something to assume it with; chains of source
/// profiles end somewhere.
#[test]
fn profiles_name_one_source_and_chains_end() {
    let cases = [
        (
            "[default]\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\necs_ram_role = \"r\"\n",
            "set either access_key_id/access_key_secret or ecs_ram_role, not both",
        ),
        (
            "[default]\ncredentials_uri = \"http://x\"\necs_ram_role = \"\"\nsource_profile = \"p\"\nrole_arn = \"r\"\n",
            "source_profile, ecs_ram_role, credentials_uri name different sources of credentials",
        ),
        (
            "[default]\nrole_arn = \"acs:ram::1:role/r\"\n",
            "role_arn needs credentials to assume it with",
        ),
        (
            "[default]\nsource_profile = \"a\"\nrole_arn = \"r\"\n[a]\nsource_profile = \"b\"\nrole_arn = \"r\"\n[b]\nsource_profile = \"a\"\nrole_arn = \"r\"\n",
            "source_profile goes round in a loop (default -> a -> b -> a)",
        ),
        (
            "[default]\nsource_profile = \"gone\"\nrole_arn = \"r\"\n",
            "profile \"default\" in ",
        ),
        (
            "[default]\nsource_profile = \"a\"\n[a]\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\n",
            "source_profile gives credentials to assume role_arn with; set role_arn",
        ),
        (
            "[default]\nrole_arn = \"r\"\noidc_provider_arn = \"p\"\n",
            "an OIDC role needs both the OIDC provider's ARN and the token file",
        ),
        (
            "[default]\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\nrole_arn = \"r\"\nduration_seconds = 60\n",
            "a role session lasts 900 to 43200 seconds, not 60",
        ),
    ];
    for (toml, message) in cases {
        let err = World::new().profile_file(toml).error(&TARGET);
        assert!(err.contains(message), "{toml}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
    let err = World::new()
        .profile_file("[default]\nsource_profile = \"gone\"\nrole_arn = \"r\"\n")
        .error(&TARGET);
    assert!(
        err.contains("its source_profile \"gone\" is no profile of the file"),
        "{err}"
    );
}

/// RRSA needs its three variables together; an aliyun CLI chain that goes round is refused.
#[test]
fn half_an_rrsa_environment_or_a_looping_cli_chain_is_an_error() {
    let w = World::new()
        .env("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r")
        .env(
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1:oidc-provider/p",
        );
    let err = w.error(&TARGET);
    assert!(
        err.contains("ALIBABA_CLOUD_OIDC_TOKEN_FILE not set"),
        "{err}"
    );

    let w = World::new().aliyun(
        r#"{"current": "a", "profiles": [
            {"name": "a", "mode": "ChainableRamRoleArn", "source_profile": "b", "ram_role_arn": "r"},
            {"name": "b", "mode": "ChainableRamRoleArn", "source_profile": "a", "ram_role_arn": "r"}]}"#,
    );
    let err = w.error(&TARGET);
    assert!(
        err.contains("source_profile goes round in a loop (a -> b -> a)"),
        "{err}"
    );
}

#[test]
fn credentials_are_never_mixed_across_sources() {
    let w = World::new()
        .profile_file(OURS)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV-ID");
    let err = w.error(&TARGET);
    assert!(
        err.contains(
            "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"
        ),
        "{err}"
    );

    let w = World::new().env("ALICLOUD_SECURITY_TOKEN", "t");
    assert!(
        w.error(&TARGET)
            .contains("ALICLOUD_SECURITY_TOKEN is set without")
    );

    let w = World::new().profile_file("[default]\naccess_key_id = \"A\"\n");
    assert!(
        w.error(&TARGET)
            .contains("access_key_id and access_key_secret must both be set")
    );

    let w = World::new().profile_file("[default]\naccess_key_id = \"A\"\naccess_key_secret = \"s\"\ncredentials_command = \"true\"\n");
    assert!(
        w.error(&TARGET)
            .contains("either credentials_command or access_key_id")
    );
}

#[test]
fn credentials_command_output_is_used_and_never_echoed() {
    let w = World::new().profile_file(
        "[default]\ncredentials_command = \"printf '%s' '{\\\"mode\\\":\\\"StsToken\\\",\\\"access_key_id\\\":\\\"CMD-ID\\\",\\\"access_key_secret\\\":\\\"cmd-secret\\\",\\\"sts_token\\\":\\\"cmd-token\\\"}'\"\n",
    );
    let c = w.resolve(&TARGET).unwrap();
    assert_eq!(key_id(&c), "CMD-ID");
    assert_eq!(
        c.credentials
            .current_credentials()
            .security_token
            .as_ref()
            .unwrap()
            .expose(),
        "cmd-token"
    );
    assert!(source(&c, "credentials").ends_with("(credentials_command)"));

    let w = World::new()
        .profile_file("[default]\ncredentials_command = \"printf '%s%s' sec ret-value-xyz\"\n");
    let err = w.error(&TARGET);
    assert!(err.contains("output is not the expected JSON"), "{err}");
    assert!(
        !err.contains("secret-value-xyz"),
        "the output is never quoted: {err}"
    );

    let w = World::new().profile_file("[default]\ncredentials_command = \"exit 3\"\n");
    assert!(w.error(&TARGET).contains("failed (exit status: 3)"));
}
