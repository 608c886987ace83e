@_spi(Internals) import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct ReportFormatterTests {
    /// Every row of the table has as many cells as the header, reference lines included, with one gateway and
    /// with two (both assignments). Catches: a column added to the header and not to the rows (which traps).
    @Test(arguments: [1, 2])
    func tableAndCSVRowsMatchTheirHeaders(gateways: Int) throws {
        let trace = TestWorkloads.mooncakeLike(requests: 60)
        var parameters = TestWorkloads.parameters()
        parameters.gateways = gateways
        parameters.churn = true
        let report = try BenchRunner.run(
            trace: trace,
            parameters: parameters,
            strategies: [try #require(StrategyCatalog.entry(named: "least-outstanding"))],
            gatewayAssignments: [.perRequest, .perSession]
        )
        #expect(report.strategies.count == (gateways == 1 ? 1 : 2))
        let table = ReportFormatter.table(report)
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("least-outstanding") || $0.hasPrefix("pooled") }
        #expect(rows.count == report.strategies.count + 2)  // the pooled line and the pinned pooled line
        #expect(table.contains("w-imbal"))
        let csv = ReportFormatter.csv(report).split(separator: "\n")
        let columns = csv[0].split(separator: ",", omittingEmptySubsequences: false).count
        for line in csv.dropFirst() {
            #expect(line.split(separator: ",", omittingEmptySubsequences: false).count == columns)
        }
    }
}
