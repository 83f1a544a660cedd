// The Cedar schema of every Paddock bundle (docs/policy.md has the same text with commentary,
// and a test keeps the two equal). Entities carry no attributes: everything a decision depends
// on travels in a small, flat context, which keeps each request cheap to build and to evaluate.
//
// The principal is the agent session, a child of its user and of its blueprint; users are
// children of their groups. Resources are named by what they are (a command line, a path,
// host:port, "METHOD URL", server/tool) so extra policies can match them with `==`, but every
// generated policy tests the context, whose attributes are precomputed where Cedar's `like`
// cannot express the semantics exactly (URL path globs, the matched service).

/** Entity type names. */
export const ENTITY = {
  group: 'Group',
  user: 'User',
  blueprint: 'Blueprint',
  session: 'AgentSession',
  command: 'Command',
  file: 'File',
  host: 'Host',
  httpRequest: 'HttpRequest',
  mcpTool: 'McpTool',
} as const;

export const CEDAR_SCHEMA = `// Paddock policy schema v1 (docs/policy.md).
entity Group;
entity User in [Group];
entity Blueprint;
entity AgentSession in [User, Blueprint];
entity Command;
entity File;
entity Host;
entity HttpRequest;
entity McpTool;

// command: argv joined by single spaces, a word with whitespace, quotes or a backslash
//   single-quoted ('a b'); commandBasename: the same with argv[0] reduced to its basename;
//   program: basename of argv[0]; args: argv[1..] as a set.
action exec appliesTo {
  principal: AgentSession,
  resource: Command,
  context: { command: String, commandBasename: String, program: String, args: Set<String> }
};

// path: absolute and canonical (no ".", "..", "//" or trailing "/").
action read_file, write_file appliesTo {
  principal: AgentSession,
  resource: File,
  context: { path: String }
};

// host: lower-case A-labels without trailing dot, or a canonical IP literal (IPv6 without
//   brackets); service: the blueprint service the gateway picks for host:port ("" for none).
action connect appliesTo {
  principal: AgentSession,
  resource: Host,
  context: { host: String, port: Long, service: String }
};

// path: the request path without query; pathMatches: the bundle's URL path globs it matches.
action http_request appliesTo {
  principal: AgentSession,
  resource: HttpRequest,
  context: {
    host: String,
    port: Long,
    service: String,
    method: String,
    path: String,
    pathMatches: Set<String>
  }
};

// arguments: the call's arguments as canonical JSON (keys sorted, no whitespace).
action mcp_call appliesTo {
  principal: AgentSession,
  resource: McpTool,
  context: { server: String, tool: String, arguments: String }
};
`;
