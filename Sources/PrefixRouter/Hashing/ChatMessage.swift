/// One message of an OpenAI-style chat request, as a gateway has decoded it.
///
/// `Codable` with the wire keys `role`, `content` and `name` (optional). `content` is a plain string: the
/// content-parts array form (`[{"type": "text", …}]`), `null` content and tool calls are out of scope;
/// a gateway that receives them can flatten the text parts into `content` itself or route without a prefix.
public struct ChatMessage: Hashable, Sendable, Codable {
    /// The speaker: `"system"`, `"developer"`, `"user"`, `"assistant"`, `"tool"`… (any string is accepted).
    public var role: String
    /// The message text.
    public var content: String
    /// The optional participant name.
    public var name: String?

    /// Creates a message.
    public init(role: String, content: String, name: String? = nil) {
        self.role = role
        self.content = content
        self.name = name
    }
}
