import Testing
@testable import PrefixGateway
@Test func placeholder() { #expect(PrefixGatewayInfo.name == "prefix-gateway") }
