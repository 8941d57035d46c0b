
use builtin;
use str;

set edit:completion:arg-completer[sls-retry] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sls-retry'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sls-retry'= {
            cand -p 'SLS project'
            cand --project 'SLS project'
            cand -l 'Logstore the shipper belongs to; without it (and --shipper), --failed and --list sweep every logstore of the project'
            cand --logstore 'Logstore the shipper belongs to; without it (and --shipper), --failed and --list sweep every logstore of the project'
            cand -s 'Shipper (OSS/MaxCompute shipping job) whose tasks are retried; without it, --failed and --list sweep every shipper of the logstore'
            cand --shipper 'Shipper (OSS/MaxCompute shipping job) whose tasks are retried; without it, --failed and --list sweep every shipper of the logstore'
            cand -e 'SLS endpoint: host, host:port or http(s)://host[:port]; https unless http:// is given'
            cand --endpoint 'SLS endpoint: host, host:port or http(s)://host[:port]; https unless http:// is given'
            cand --region 'Region, e.g. cn-hangzhou: gives the endpoint {region}.log.aliyuncs.com when no endpoint is set, and the signature v4 scope'
            cand --ca-file 'Also trust the CA certificates in FILE (PEM), e.g. a TLS-inspecting proxy''s or a private CA''s, beside the system''s trust store [default: the profile''s ca_file]'
            cand --signature-version 'Request signature: 1 (hmac-sha1) or 4 (SLS4-HMAC-SHA256, needs a region). Default 1, or 4 for -acdr-ut- regions'
            cand --profile 'Profile to use, from the profile file or else the aliyun CLI''s config [env: SLS_RETRY_PROFILE] [default: default]'
            cand --config 'Profile file [env: SLS_RETRY_CONFIG] [default: <config dir>/sls-retry/config.toml]'
            cand --status 'With --list: which tasks to print [default: fail]'
            cand --since 'With --list or --failed: the window is the last DURATION (30m, 6h, 2d; at most 48h) [default: 48h]'
            cand --from 'With --list or --failed: window start, unix seconds or RFC 3339 (2026-11-27T10:00:00Z)'
            cand --to 'With --from: window end [default: now]'
            cand --batch-size 'Task IDs per RetryShipperTask call, 1-10 [default: 10, or the profile''s batch_size]'
            cand --timeout 'Seconds allowed for each request, connecting included, 1-3600 [default: 30, or the profile''s timeout]'
            cand --jobs 'Batches in flight at once, 1-32, each worker on its own keep-alive connection; the report stays in input order [default: 1, or the profile''s jobs]'
            cand --retries 'Retries of a request after a transient failure (connection errors, timeouts, 5xx, 429, 403 throttling), with exponential backoff, 0-20 [default: 4, or the profile''s retries]'
            cand --save-failed 'Write the task IDs not accepted (failed or not sent) to FILE, one per line, ready to pipe back in; an empty file when all were accepted'
            cand --wait-timeout 'With --wait: how long to follow the tasks at most, up to 48h [default: 30m]'
            cand --poll-interval 'With --wait: the time between two listings of the tasks, at least 5s [default: 30s]'
            cand --generate 'Print shell completions or the man page to stdout, then exit'
            cand --intranet 'With a region: use the VPC endpoint {region}-intranet.log.aliyuncs.com'
            cand --failed 'Find the shipper''s failed tasks in the window (--since, --from/--to; default the last 48 h) and retry them'
            cand --list 'Print the shipper''s tasks in the window instead of retrying: IDs one per line (ready to pipe back in), or `{"type":"task",...}` lines with --json'
            cand --keep-going 'Send every batch even after an error that every batch would meet (unknown project, logstore or shipper; signature or credential errors); normally the run stops there'
            cand --wait 'After sending, follow the accepted tasks until each has shipped or failed again, or --wait-timeout runs out: exit 0 when all shipped, 1 when some failed again, 3 when some were still running'
            cand --dry-run 'Print the batches and the signed requests (signature and token redacted); send nothing'
            cand --json 'Print the report as JSON Lines: one object per batch, then a summary'
            cand -q 'Print nothing on stdout; the exit status tells the outcome'
            cand --quiet 'Print nothing on stdout; the exit status tells the outcome'
            cand -v 'More diagnostics on stderr (endpoint, request ids, latency); repeat for request headers. Secrets are never shown'
            cand --verbose 'More diagnostics on stderr (endpoint, request ids, latency); repeat for request headers. Secrets are never shown'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
