/// A value bound to or read from a SQL statement, the same for every backend: the queue's columns are
/// integers (times in milliseconds since 1970), text and bytes only.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    /// An optional integer as a value: `null` for nil.
    static func integer(_ value: Int64?) -> SQLValue { value.map { .integer($0) } ?? .null }
    /// An optional string as a value: `null` for nil.
    static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
}

/// One result row: its values by column position, and the column names.
public struct SQLRow: Sendable {
    /// The values, in the statement's column order.
    var values: [SQLValue]
    /// The column names, lower case, in the same order.
    var columns: [String]

    /// The value of a column (by name); `null` when there is no such column.
    subscript(_ column: String) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else { return .null }
        return values[index]
    }

    /// An integer column; nil when null.
    func int(_ column: String) -> Int64? {
        switch self[column] {
        case .integer(let value): return value
        case .text(let text): return Int64(text)
        default: return nil
        }
    }

    /// A text column; nil when null.
    func text(_ column: String) -> String? {
        switch self[column] {
        case .text(let value): return value
        case .blob(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .integer(let value): return String(value)
        case .null: return nil
        }
    }

    /// A bytes column; nil when null.
    func bytes(_ column: String) -> [UInt8]? {
        switch self[column] {
        case .blob(let value): return value
        case .text(let text): return Array(text.utf8)
        default: return nil
        }
    }
}

/// Runs statements inside one transaction of a backend. Statements use `?` placeholders; the PostgreSQL
/// backend numbers them.
public protocol SQLExecutor {
    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    /// Runs a query (or a statement with `RETURNING`); returns its rows.
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
}

/// The SQL that differs between backends.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// The type of a bytes column.
    var blobType: String { self == .sqlite ? "BLOB" : "BYTEA" }

    /// `FOR UPDATE SKIP LOCKED` in PostgreSQL; nothing in SQLite, where the single writer serialises
    /// claimers.
    var skipLocked: String { self == .sqlite ? "" : "FOR UPDATE SKIP LOCKED" }

    /// Locks a selected row for the rest of the transaction (PostgreSQL); SQLite's write transaction
    /// already excludes every other writer.
    var forUpdate: String { self == .sqlite ? "" : "FOR UPDATE" }
}

/// A database the queue runs on: transactions of synchronous statements (GRDB's writer is synchronous;
/// the PostgreSQL backend runs its transactions on a thread pool of its own), with Sendable results only.
public protocol SQLDriver: Sendable {
    /// The backend's dialect.
    var dialect: SQLDialect { get }
    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> T) async throws -> T
    /// Runs `body` in a read-only snapshot (or a transaction, where the backend has no cheaper read).
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> T) async throws -> T
    /// Closes the database; nothing may be called afterwards.
    func close() async
}
