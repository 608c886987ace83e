import Testing
@testable import MockEngine
@Test func placeholder() { #expect(MockEngineInfo.name == "mock-engine") }
