/// The gateway library.
public enum PrefixGatewayInfo { public static let name = "prefix-gateway" }
