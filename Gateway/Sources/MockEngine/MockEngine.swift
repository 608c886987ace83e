public enum MockEngineInfo { public static let name = "mock-engine" }
