import Foundation
import Logging
import Testing

@testable import PrefixGateway

/// The queue backends the contract tests run on: SQLite always; PostgreSQL when
/// `PREFIXGATEWAY_POSTGRES_URL` names a server (`scripts/postgres start` prints it; `.ci/run` starts one).
enum QueueBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    /// The PostgreSQL server's URL, or nil.
    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["PREFIXGATEWAY_POSTGRES_URL"], !url.isEmpty else {
            return nil
        }
        return url
    }

    /// The backends available in this run.
    static var configured: [QueueBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }

    /// A fresh, migrated queue: a new SQLite file in a temporary folder, or a new PostgreSQL schema.
    func open() async throws -> TestQueue {
        var logger = Logger(label: "batch-queue-test")
        logger.logLevel = .error
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "batch-queue-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let driver = try SQLiteDriver(path: folder.appendingPathComponent("queue.sqlite").path)
            let queue = SQLBatchQueue(driver: driver)
            try await queue.migrate()
            return TestQueue(queue: queue, sqlite: driver, cleanup: folder)
        case .postgres:
            guard let url = Self.postgresURL else { throw BatchStoreError("PREFIXGATEWAY_POSTGRES_URL is not set") }
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let separator = url.contains("?") ? "&" : "?"
            let driver = try await PostgresDriver.connect(url: url + separator + "schema=" + schema, logger: logger)
            let queue = SQLBatchQueue(driver: driver)
            try await queue.migrate()
            return TestQueue(queue: queue, sqlite: nil, cleanup: nil, schemaURL: url + separator + "schema=" + schema)
        }
    }
}

/// A queue opened for one test; ``close()`` closes it and deletes its file.
struct TestQueue: Sendable {
    let queue: SQLBatchQueue
    let sqlite: SQLiteDriver?
    let cleanup: URL?
    var schemaURL: String?

    func close() async {
        await queue.close()
        if let cleanup { try? FileManager.default.removeItem(at: cleanup) }
    }
}

/// Runs `body` with a fresh queue of `backend`, closing it afterwards, also when `body` throws.
func withQueue(_ backend: QueueBackend, _ body: (SQLBatchQueue, TestQueue) async throws -> Void) async throws {
    let opened = try await backend.open()
    do {
        try await body(opened.queue, opened)
    } catch {
        await opened.close()
        throw error
    }
    await opened.close()
}

/// A batch record for tests, `in_progress`, expiring after `windowMillis`.
func testBatch(
    id: String = BatchIdentifiers.batch(),
    owner: String = "owner-a",
    total: Int,
    now: Int64,
    windowMillis: Int64 = 86_400_000
) -> BatchRecord {
    BatchRecord(
        id: id,
        owner: owner,
        endpoint: "/v1/chat/completions",
        inputFileID: "file-input",
        completionWindow: "24h",
        status: .inProgress,
        finalStatus: nil,
        metadata: nil,
        errors: [],
        outputFileID: nil,
        errorFileID: nil,
        counts: BatchRequestCounts(total: total, completed: 0, failed: 0),
        createdAt: now,
        inProgressAt: now,
        expiresAt: now + windowMillis,
        finalizingAt: nil,
        completedAt: nil,
        failedAt: nil,
        expiredAt: nil,
        cancellingAt: nil,
        cancelledAt: nil
    )
}

/// `count` items `req-1`… with a tiny body.
func testItems(_ count: Int) -> [NewBatchItem] {
    (1...max(1, count)).prefix(count).map {
        NewBatchItem(line: $0, customID: "req-\($0)", model: "test-model", body: Array(#"{"model":"test-model"}"#.utf8))
    }
}

/// A successful outcome.
func ok(_ text: String = #"{"ok":true}"#) -> ItemOutcome {
    .response(statusCode: 200, requestID: "r", body: Array(text.utf8))
}

/// The JSONL lines of a file's content, parsed.
func jsonLines(_ bytes: [UInt8]?) -> [[String: Any]] {
    guard let bytes else { return [] }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
}
