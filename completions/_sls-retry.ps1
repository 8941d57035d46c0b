
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sls-retry' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sls-retry'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sls-retry' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'SLS project')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'SLS project')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Logstore the shipper belongs to; without it (and --shipper), --failed and --list sweep every logstore of the project')
            [CompletionResult]::new('--logstore', '--logstore', [CompletionResultType]::ParameterName, 'Logstore the shipper belongs to; without it (and --shipper), --failed and --list sweep every logstore of the project')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Shipper (OSS/MaxCompute shipping job) whose tasks are retried; without it, --failed and --list sweep every shipper of the logstore')
            [CompletionResult]::new('--shipper', '--shipper', [CompletionResultType]::ParameterName, 'Shipper (OSS/MaxCompute shipping job) whose tasks are retried; without it, --failed and --list sweep every shipper of the logstore')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'SLS endpoint: host, host:port or http(s)://host[:port]; https unless http:// is given')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'SLS endpoint: host, host:port or http(s)://host[:port]; https unless http:// is given')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region, e.g. cn-hangzhou: gives the endpoint {region}.log.aliyuncs.com when no endpoint is set, and the signature v4 scope')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in FILE (PEM), e.g. a TLS-inspecting proxy''s or a private CA''s, beside the system''s trust store [default: the profile''s ca_file]')
            [CompletionResult]::new('--signature-version', '--signature-version', [CompletionResultType]::ParameterName, 'Request signature: 1 (hmac-sha1) or 4 (SLS4-HMAC-SHA256, needs a region). Default 1, or 4 for -acdr-ut- regions')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use, from the profile file or else the aliyun CLI''s config [env: SLS_RETRY_PROFILE] [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Profile file [env: SLS_RETRY_CONFIG] [default: <config dir>/sls-retry/config.toml]')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'With --list: which tasks to print [default: fail]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'With --list or --failed: the window is the last DURATION (30m, 6h, 2d; at most 48h) [default: 48h]')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'With --list or --failed: window start, unix seconds or RFC 3339 (2026-11-27T10:00:00Z)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'With --from: window end [default: now]')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Task IDs per RetryShipperTask call, 1-10 [default: 10, or the profile''s batch_size]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds allowed for each request, connecting included, 1-3600 [default: 30, or the profile''s timeout]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Batches in flight at once, 1-32, each worker on its own keep-alive connection; the report stays in input order [default: 1, or the profile''s jobs]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a request after a transient failure (connection errors, timeouts, 5xx, 429, 403 throttling), with exponential backoff, 0-20 [default: 4, or the profile''s retries]')
            [CompletionResult]::new('--save-failed', '--save-failed', [CompletionResultType]::ParameterName, 'Write the task IDs not accepted (failed or not sent) to FILE, one per line, ready to pipe back in; an empty file when all were accepted')
            [CompletionResult]::new('--wait-timeout', '--wait-timeout', [CompletionResultType]::ParameterName, 'With --wait: how long to follow the tasks at most, up to 48h [default: 30m]')
            [CompletionResult]::new('--poll-interval', '--poll-interval', [CompletionResultType]::ParameterName, 'With --wait: the time between two listings of the tasks, at least 5s [default: 30s]')
            [CompletionResult]::new('--generate', '--generate', [CompletionResultType]::ParameterName, 'Print shell completions or the man page to stdout, then exit')
            [CompletionResult]::new('--intranet', '--intranet', [CompletionResultType]::ParameterName, 'With a region: use the VPC endpoint {region}-intranet.log.aliyuncs.com')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Find the shipper''s failed tasks in the window (--since, --from/--to; default the last 48 h) and retry them')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'Print the shipper''s tasks in the window instead of retrying: IDs one per line (ready to pipe back in), or `{"type":"task",...}` lines with --json')
            [CompletionResult]::new('--keep-going', '--keep-going', [CompletionResultType]::ParameterName, 'Send every batch even after an error that every batch would meet (unknown project, logstore or shipper; signature or credential errors); normally the run stops there')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'After sending, follow the accepted tasks until each has shipped or failed again, or --wait-timeout runs out: exit 0 when all shipped, 1 when some failed again, 3 when some were still running')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the batches and the signed requests (signature and token redacted); send nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as JSON Lines: one object per batch, then a summary')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stdout; the exit status tells the outcome')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stdout; the exit status tells the outcome')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (endpoint, request ids, latency); repeat for request headers. Secrets are never shown')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (endpoint, request ids, latency); repeat for request headers. Secrets are never shown')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
