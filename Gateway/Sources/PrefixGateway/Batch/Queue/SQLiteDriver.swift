import Foundation
import GRDB

/// The SQLite backend: a GRDB `DatabasePool` on a file, in WAL mode (readers never block the writer), with
/// a busy timeout (another process holding the write lock is waited for, not an error) and
/// `synchronous = NORMAL` (survives process crashes; a power loss may drop the last commits).
public final class SQLiteDriver: SQLDriver {
    public let dialect = SQLDialect.sqlite
    private let pool: DatabasePool

    /// Opens (or creates) the database at `path`.
    ///
    /// - Throws: ``BatchStoreError`` naming the path when it cannot be opened.
    public init(path: String, busyTimeoutSeconds: Double = 5) throws {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw BatchStoreError("cannot open the SQLite database at \(path): \(error)")
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> T) async throws -> T {
        try await pool.write { db in try body(GRDBExecutor(db: db)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> T) async throws -> T {
        try await pool.read { db in try body(GRDBExecutor(db: db)) }
    }

    public func close() async {
        try? pool.close()
    }

    /// `PRAGMA integrity_check`: `ok` for a sound database file.
    public func integrityCheck() async throws -> String {
        try await pool.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
        }
    }

    /// `PRAGMA journal_mode`.
    public func journalMode() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }
}

/// Statements on a GRDB connection, inside the transaction GRDB opened.
struct GRDBExecutor: SQLExecutor {
    let db: Database

    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try db.execute(sql: sql, arguments: StatementArguments(arguments.map(Self.databaseValue)))
        return db.changesCount
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments.map(Self.databaseValue)))
        return rows.map { row in
            let columns = row.columnNames.map { $0.lowercased() }
            let values = Array(row.databaseValues.map(Self.value))
            return SQLRow(values: values, columns: Array(columns))
        }
    }

    private static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: return .null
        case .integer(let int): return int.databaseValue
        case .text(let text): return text.databaseValue
        case .blob(let bytes): return Data(bytes).databaseValue
        }
    }

    private static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: return .null
        case .int64(let int): return .integer(int)
        case .double(let double): return .integer(Int64(double))
        case .string(let text): return .text(text)
        case .blob(let data): return .blob([UInt8](data))
        }
    }
}
