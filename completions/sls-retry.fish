complete -c sls-retry -s p -l project -d 'SLS project' -r
complete -c sls-retry -s l -l logstore -d 'Logstore the shipper belongs to; without it (and --shipper), --failed and --list sweep every logstore of the project' -r
complete -c sls-retry -s s -l shipper -d 'Shipper (OSS/MaxCompute shipping job) whose tasks are retried; without it, --failed and --list sweep every shipper of the logstore' -r
complete -c sls-retry -s e -l endpoint -d 'SLS endpoint: host, host:port or http(s)://host[:port]; https unless http:// is given' -r
complete -c sls-retry -l region -d 'Region, e.g. cn-hangzhou: gives the endpoint {region}.log.aliyuncs.com when no endpoint is set, and the signature v4 scope' -r
complete -c sls-retry -l ca-file -d 'Also trust the CA certificates in FILE (PEM), e.g. a TLS-inspecting proxy\'s or a private CA\'s, beside the system\'s trust store [default: the profile\'s ca_file]' -r -F
complete -c sls-retry -l signature-version -d 'Request signature: 1 (hmac-sha1) or 4 (SLS4-HMAC-SHA256, needs a region). Default 1, or 4 for -acdr-ut- regions' -r -f -a "1\t''
4\t''"
complete -c sls-retry -l profile -d 'Profile to use, from the profile file or else the aliyun CLI\'s config [env: SLS_RETRY_PROFILE] [default: default]' -r
complete -c sls-retry -l config -d 'Profile file [env: SLS_RETRY_CONFIG] [default: <config dir>/sls-retry/config.toml]' -r -F
complete -c sls-retry -l status -d 'With --list: which tasks to print [default: fail]' -r -f -a "fail\t''
success\t''
running\t''
all\t''"
complete -c sls-retry -l since -d 'With --list or --failed: the window is the last DURATION (30m, 6h, 2d; at most 48h) [default: 48h]' -r
complete -c sls-retry -l from -d 'With --list or --failed: window start, unix seconds or RFC 3339 (2026-11-27T10:00:00Z)' -r
complete -c sls-retry -l to -d 'With --from: window end [default: now]' -r
complete -c sls-retry -l batch-size -d 'Task IDs per RetryShipperTask call, 1-10 [default: 10, or the profile\'s batch_size]' -r
complete -c sls-retry -l timeout -d 'Seconds allowed for each request, connecting included, 1-3600 [default: 30, or the profile\'s timeout]' -r
complete -c sls-retry -l jobs -d 'Batches in flight at once, 1-32, each worker on its own keep-alive connection; the report stays in input order [default: 1, or the profile\'s jobs]' -r
complete -c sls-retry -l retries -d 'Retries of a request after a transient failure (connection errors, timeouts, 5xx, 429, 403 throttling), with exponential backoff, 0-20 [default: 4, or the profile\'s retries]' -r
complete -c sls-retry -l save-failed -d 'Write the task IDs not accepted (failed or not sent) to FILE, one per line, ready to pipe back in; an empty file when all were accepted' -r -F
complete -c sls-retry -l wait-timeout -d 'With --wait: how long to follow the tasks at most, up to 48h [default: 30m]' -r
complete -c sls-retry -l poll-interval -d 'With --wait: the time between two listings of the tasks, at least 5s [default: 30s]' -r
complete -c sls-retry -l generate -d 'Print shell completions or the man page to stdout, then exit' -r -f -a "complete-bash\t''
complete-zsh\t''
complete-fish\t''
complete-powershell\t''
complete-elvish\t''
man\t''"
complete -c sls-retry -l intranet -d 'With a region: use the VPC endpoint {region}-intranet.log.aliyuncs.com'
complete -c sls-retry -l failed -d 'Find the shipper\'s failed tasks in the window (--since, --from/--to; default the last 48 h) and retry them'
complete -c sls-retry -l list -d 'Print the shipper\'s tasks in the window instead of retrying: IDs one per line (ready to pipe back in), or `{"type":"task",...}` lines with --json'
complete -c sls-retry -l keep-going -d 'Send every batch even after an error that every batch would meet (unknown project, logstore or shipper; signature or credential errors); normally the run stops there'
complete -c sls-retry -l wait -d 'After sending, follow the accepted tasks until each has shipped or failed again, or --wait-timeout runs out: exit 0 when all shipped, 1 when some failed again, 3 when some were still running'
complete -c sls-retry -l dry-run -d 'Print the batches and the signed requests (signature and token redacted); send nothing'
complete -c sls-retry -l json -d 'Print the report as JSON Lines: one object per batch, then a summary'
complete -c sls-retry -s q -l quiet -d 'Print nothing on stdout; the exit status tells the outcome'
complete -c sls-retry -s v -l verbose -d 'More diagnostics on stderr (endpoint, request ids, latency); repeat for request headers. Secrets are never shown'
complete -c sls-retry -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sls-retry -s V -l version -d 'Print version'
