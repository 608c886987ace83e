import Foundation
public import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The PostgreSQL backend, for several gateway processes sharing one queue: a postgres-nio `PostgresClient`
/// (connection pool), whose transactions run on a thread pool of the driver's own so that the queue's
/// statements are the same synchronous code on both backends (a connection is never held across an
/// engine call: every transaction is a few statements).
///
/// The URL is `postgres://user:password@host:port/database`, optionally `?schema=NAME` (created if
/// missing, and put first on the `search_path`: tests use one schema each). Plain TCP: put the server on
/// loopback or a private network.
public final class PostgresDriver: SQLDriver {
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let threads: NIOThreadPool
    private let logger: Logger

    /// Connects to the server at `url`.
    ///
    /// - Throws: ``BatchStoreError`` naming the URL's bad part, or the server's refusal.
    public static func connect(url: String, logger: Logger, threads: Int = 8) async throws -> PostgresDriver {
        let target = try PostgresTarget(url)
        if let schema = target.schema {
            // The schema must exist before connections put it on their search path.
            let setup = PostgresDriver(target: target, schema: nil, logger: logger, threads: 1)
            do {
                _ = try await setup.write { executor in
                    try executor.execute("CREATE SCHEMA IF NOT EXISTS \"\(schema)\"", [])
                }
            } catch {
                await setup.close()
                throw error
            }
            await setup.close()
        }
        return PostgresDriver(target: target, schema: target.schema, logger: logger, threads: threads)
    }

    private init(target: PostgresTarget, schema: String?, logger: Logger, threads: Int) {
        var configuration = PostgresClient.Configuration(
            host: target.host,
            port: target.port,
            username: target.user,
            password: target.password,
            database: target.database,
            tls: .disable
        )
        if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        configuration.options.maximumConnections = max(2, threads * 2)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
        self.threads = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threads.start()
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> T) async throws -> T {
        try await transaction(body)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> T) async throws -> T {
        try await transaction(body)
    }

    private func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> T) async throws -> T {
        let logger = self.logger
        let threads = self.threads
        do {
            return try await client.withConnection { connection in
                try await threads.runIfActive {
                    let executor = PostgresExecutor(connection: connection, logger: logger)
                    try executor.execute("BEGIN", [])
                    do {
                        let result = try body(executor)
                        try executor.execute("COMMIT", [])
                        return result
                    } catch {
                        _ = try? executor.execute("ROLLBACK", [])
                        throw error
                    }
                }
            }
        } catch let error as BatchStoreError {
            throw error
        } catch {
            throw BatchStoreError("PostgreSQL: \(String(reflecting: error))")
        }
    }

    public func close() async {
        runner.cancel()
        _ = await runner.result
        try? await threads.shutdownGracefully()
    }
}

/// Statements on one connection, blocking the driver's thread (never an event loop) until each answers.
struct PostgresExecutor: SQLExecutor {
    let connection: PostgresConnection
    let logger: Logger

    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        let result = try run(sql, arguments)
        return result.metadata.rows ?? 0
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try run(sql, arguments).rows.map { row in
            var values: [SQLValue] = []
            var columns: [String] = []
            for cell in row {
                columns.append(cell.columnName.lowercased())
                values.append(try Self.value(cell))
            }
            return SQLRow(values: values, columns: columns)
        }
    }

    private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .blob(let value): bindings.append(ByteBuffer(bytes: value))
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings)
        do {
            return try connection.query(query, logger: logger).wait()
        } catch {
            throw BatchStoreError("PostgreSQL: \(String(reflecting: error)) in: \(sql.prefix(120))")
        }
    }

    /// `?` placeholders as `$1`, `$2`… (the queue's SQL has no `?` inside literals).
    static func numbered(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.count + 16)
        var next = 1
        for character in sql {
            if character == "?" {
                result += "$\(next)"
                next += 1
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .bytea: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        default: return .null
        }
    }
}

/// The parts of a `postgres://` URL.
struct PostgresTarget {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String?
    var schema: String?

    init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql", let host = components.host, !host.isEmpty
        else {
            throw BatchStoreError("batch.postgresURL: expected postgres://user:password@host:port/database")
        }
        guard let user = components.user, !user.isEmpty else {
            throw BatchStoreError("batch.postgresURL: no user name (postgres://USER@host/database)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? nil : path
        let schema = components.queryItems?.first { $0.name == "schema" }?.value
        if let schema, schema.isEmpty || !schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw BatchStoreError("batch.postgresURL: schema must be letters, digits and _ only")
        }
        self.schema = schema
    }
}
