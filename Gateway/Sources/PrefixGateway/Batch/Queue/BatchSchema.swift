/// The queue's tables, the same on both backends (integers are 64-bit; times are milliseconds since
/// 1970, from the queue's injected clock, so that tests control them and every backend agrees).
///
/// - `gw_files`: uploaded and generated files, content included, so that any gateway process sharing the
///   database serves any file.
/// - `gw_batches`: one row per batch; `final_status` is the status a `finalizing` batch ends in.
/// - `gw_items`: one row per input line, keyed by (batch, line) and unique by (batch, custom_id); its result
///   columns are written once, by the worker holding the current lease (`lease_owner` and `claim_token`,
///   which every claim increments: the fencing token).
/// - `gw_webhooks`: the outbox of webhook deliveries, written in the transaction that ends a batch.
/// - `gw_batch_keys`: the `Idempotency-Key` of each batch created with one, unique per owner, with a digest
///   of the request that created it.
enum BatchSchema {
    /// The statements creating the schema; each is idempotent.
    static func statements(_ dialect: SQLDialect) -> [String] {
        let blob = dialect.blobType
        return [
            """
            CREATE TABLE IF NOT EXISTS gw_files (
              id TEXT PRIMARY KEY,
              owner TEXT NOT NULL,
              purpose TEXT NOT NULL,
              filename TEXT NOT NULL,
              bytes BIGINT NOT NULL,
              created_at BIGINT NOT NULL,
              content \(blob) NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS gw_files_owner ON gw_files (owner, created_at)",
            """
            CREATE TABLE IF NOT EXISTS gw_batches (
              id TEXT PRIMARY KEY,
              owner TEXT NOT NULL,
              endpoint TEXT NOT NULL,
              input_file_id TEXT NOT NULL,
              completion_window TEXT NOT NULL,
              status TEXT NOT NULL,
              final_status TEXT,
              metadata TEXT,
              errors TEXT,
              output_file_id TEXT,
              error_file_id TEXT,
              total BIGINT NOT NULL DEFAULT 0,
              created_at BIGINT NOT NULL,
              in_progress_at BIGINT, expires_at BIGINT, finalizing_at BIGINT, completed_at BIGINT,
              failed_at BIGINT, expired_at BIGINT, cancelling_at BIGINT, cancelled_at BIGINT)
            """,
            "CREATE INDEX IF NOT EXISTS gw_batches_owner ON gw_batches (owner, created_at, id)",
            "CREATE INDEX IF NOT EXISTS gw_batches_status ON gw_batches (status)",
            """
            CREATE TABLE IF NOT EXISTS gw_items (
              batch_id TEXT NOT NULL,
              line BIGINT NOT NULL,
              custom_id TEXT NOT NULL,
              endpoint TEXT NOT NULL,
              model TEXT NOT NULL,
              body \(blob) NOT NULL,
              state TEXT NOT NULL,
              attempt BIGINT NOT NULL DEFAULT 0,
              claim_token BIGINT NOT NULL DEFAULT 0,
              run_at BIGINT NOT NULL,
              lease_owner TEXT,
              lease_expires_at BIGINT,
              last_error TEXT,
              status_code BIGINT,
              request_id TEXT,
              response \(blob),
              error_code TEXT,
              error_message TEXT,
              finished_at BIGINT,
              PRIMARY KEY (batch_id, line),
              UNIQUE (batch_id, custom_id))
            """,
            "CREATE INDEX IF NOT EXISTS gw_items_ready ON gw_items (run_at, batch_id, line) WHERE state = 'queued'",
            "CREATE INDEX IF NOT EXISTS gw_items_leases ON gw_items (lease_expires_at) WHERE state = 'running'",
            "CREATE INDEX IF NOT EXISTS gw_items_owner ON gw_items (lease_owner) WHERE state = 'running'",
            "CREATE INDEX IF NOT EXISTS gw_items_batch_state ON gw_items (batch_id, state)",
            """
            CREATE TABLE IF NOT EXISTS gw_webhooks (
              id TEXT PRIMARY KEY,
              batch_id TEXT NOT NULL,
              event TEXT NOT NULL,
              payload TEXT NOT NULL,
              attempts BIGINT NOT NULL DEFAULT 0,
              created_at BIGINT NOT NULL,
              next_attempt_at BIGINT NOT NULL,
              delivered_at BIGINT,
              abandoned_at BIGINT,
              last_error TEXT)
            """,
            """
            CREATE INDEX IF NOT EXISTS gw_webhooks_due ON gw_webhooks (next_attempt_at)
              WHERE delivered_at IS NULL AND abandoned_at IS NULL
            """,
            """
            CREATE TABLE IF NOT EXISTS gw_batch_keys (
              owner TEXT NOT NULL,
              idempotency_key TEXT NOT NULL,
              fingerprint TEXT NOT NULL,
              batch_id TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (owner, idempotency_key))
            """,
        ]
    }
}
